package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Status is where a lesson is in its life.
type Status string

// Lesson statuses. The zero Status means the lesson does not exist yet.
const (
	StatusCreated Status = "created"
	StatusLive    Status = "live"
	StatusEnded   Status = "ended"
)

// State is a lesson as its log describes it after the event of sequence Seq.
// The zero State is a lesson that does not exist; NewState returns one ready
// to Apply to. Every field is exported and encoded, so that the JSON form is a
// complete snapshot and Hash covers everything.
type State struct {
	Lesson         uuid.UUID               `json:"lesson"`
	Seq            int64                   `json:"seq"`
	Title          string                  `json:"title"`
	Status         Status                  `json:"status"`
	Created        time.Time               `json:"created"`
	Participants   map[string]*Participant `json:"participants"`
	DrawingAllowed bool                    `json:"drawing_allowed"` // lesson-wide default for students
	Decks          []Deck                  `json:"decks"`
	Slide          Slide                   `json:"slide"`
	Boards         map[string]*Board       `json:"boards"` // by Slide.Key
	Hands          []string                `json:"hands"`  // raised hands, first raised first
	Floor          string                  `json:"floor"`  // the student who has the floor, or ""
	Chat           []ChatMessage           `json:"chat"`
	Recording      bool                    `json:"recording"`
	Lobby          bool                    `json:"lobby"`       // students wait to be admitted
	Locked         bool                    `json:"locked"`      // no student who never joined may join
	Waiting        []Waiter                `json:"waiting"`     // students in the lobby, first arrived first
	Admitted       []string                `json:"admitted"`    // students admitted who have not joined yet
	Removed        []string                `json:"removed"`     // participants removed, refused from then on
	ChatClosed     bool                    `json:"chat_closed"` // students may not chat
	Polls          []*Poll                 `json:"polls"`       // asked first first
	Breakout       *Breakout               `json:"breakout"`    // the breakout groups, open or last
}

// Participant is someone who has joined the lesson at least once.
type Participant struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Role    Role   `json:"role"`
	Present bool   `json:"present"`
	// Drawing overrides State.DrawingAllowed for this student when not nil.
	Drawing *bool `json:"drawing,omitempty"`
	// AudioMuted and VideoMuted say that the teacher stopped the student's
	// microphone or camera; UnmuteAsked that the teacher asked them to
	// turn it back on.
	AudioMuted  bool `json:"audio_muted,omitempty"`
	VideoMuted  bool `json:"video_muted,omitempty"`
	UnmuteAsked bool `json:"unmute_asked,omitempty"`
}

// Deck is a set of slides the teacher added.
type Deck struct {
	ID    uuid.UUID `json:"id"`
	Name  string    `json:"name"`
	Pages int       `json:"pages"`
}

// ChatMessage is one message of the lesson's chat.
type ChatMessage struct {
	Seq   int64     `json:"seq"`
	Actor string    `json:"actor"`
	Time  time.Time `json:"time"`
	Text  string    `json:"text"`
}

// Object kinds on a board.
const (
	ObjectStroke = "stroke"
	ObjectShape  = "shape"
	ObjectText   = "text"
)

// Object is one thing drawn on a board. Erased objects stay, hidden, so that
// undo can bring them back at their place in the drawing order.
type Object struct {
	ID     uuid.UUID `json:"id"`
	Kind   string    `json:"kind"`
	Owner  string    `json:"owner"`
	Seq    int64     `json:"seq"` // the event that created it
	Hidden bool      `json:"hidden,omitempty"`

	Tool   string     `json:"tool,omitempty"`
	Shape  string     `json:"shape,omitempty"`
	Color  string     `json:"color"`
	Fill   string     `json:"fill,omitempty"`
	Width  float64    `json:"width,omitempty"`
	Points Points     `json:"points,omitempty"`
	Parts  int        `json:"parts,omitempty"` // stroke segments received
	From   [2]float64 `json:"from,omitzero"`
	To     [2]float64 `json:"to,omitzero"`
	At     [2]float64 `json:"at,omitzero"`
	Text   string     `json:"text,omitempty"`
	Size   float64    `json:"size,omitempty"`
}

// Board is the drawing on one slide with each participant's undo history.
type Board struct {
	Objects []*Object           `json:"objects"` // drawing order
	History map[string]*History `json:"history"` // by participant

	index map[uuid.UUID]int // Objects position by id; rebuilt lazily
}

// History is one participant's undo and redo stacks on one board.
type History struct {
	Undo []Action `json:"undo"`
	Redo []Action `json:"redo"`
}

// Board actions that can be undone.
const (
	ActionAdd   = "add"
	ActionErase = "erase"
	ActionClear = "clear"
)

// Action is an undoable change to a board: the objects it showed (add) or
// hid (erase, clear).
type Action struct {
	Op      string      `json:"op"`
	Objects []uuid.UUID `json:"objects"`
}

// NewState returns the state of a lesson before its first event.
func NewState() *State {
	return &State{Participants: map[string]*Participant{}, Boards: map[string]*Board{}}
}

// Apply folds one stored event into the state and returns it. It mutates s.
// It is deterministic and total: an event that makes no sense in the current
// state (which Decide would have refused) changes nothing but Seq, so that
// replay never fails half-way.
func Apply(s *State, e Event) *State {
	s.apply(e)
	return s
}

// Apply folds one stored event into the state; see the function Apply.
func (s *State) Apply(e Event) { s.apply(e) }

func (s *State) apply(e Event) {
	if s.Participants == nil {
		s.Participants = map[string]*Participant{}
	}
	if s.Boards == nil {
		s.Boards = map[string]*Board{}
	}
	if e.Seq > s.Seq {
		s.Seq = e.Seq
	}
	// Mirror Decide's first checks: nothing happens in a lesson that does not
	// exist, and nothing but leaving after it has ended.
	if _, ok := e.Payload.(*LessonCreated); !ok && s.Status == "" {
		return
	}
	if _, ok := e.Payload.(*ParticipantLeft); !ok && s.Status == StatusEnded {
		return
	}
	switch p := e.Payload.(type) {
	case *LessonCreated:
		if s.Status == "" {
			s.Lesson, s.Title, s.Status, s.Created, s.Lobby = e.Lesson, p.Title, StatusCreated, e.Time, p.Lobby
		}
	case *LessonStarted:
		if s.Status == StatusCreated {
			s.Status = StatusLive
		}
	case *LessonEnded:
		s.Status, s.Floor, s.Hands, s.Recording, s.Waiting = StatusEnded, "", nil, false, nil
	case *ParticipantJoined:
		if pt, ok := s.Participants[e.Actor]; ok {
			pt.Name, pt.Present = p.Name, true
		} else if len(s.Participants) < MaxParticipantsKnown {
			s.Participants[e.Actor] = &Participant{ID: e.Actor, Name: p.Name, Role: e.Role, Present: true}
		}
		if i := s.waiter(e.Actor); i >= 0 {
			s.Waiting = slices.Delete(s.Waiting, i, i+1)
		}
		s.Admitted = remove(s.Admitted, e.Actor)
	case *ParticipantLeft:
		if pt, ok := s.Participants[e.Actor]; ok {
			pt.Present = false
		}
		if i := s.waiter(e.Actor); i >= 0 {
			s.Waiting = slices.Delete(s.Waiting, i, i+1) // left the lobby
		}
		s.Hands = remove(s.Hands, e.Actor)
		if s.Floor == e.Actor {
			s.Floor = ""
		}
	case *DrawingPermitted:
		if p.Participant == "" {
			s.DrawingAllowed = p.Allowed
		} else if pt, ok := s.Participants[p.Participant]; ok {
			allowed := p.Allowed
			pt.Drawing = &allowed
		}
	case *StrokeDrawn:
		if p.Part == 0 {
			s.board(p.Slide).add(e.Actor, &Object{ID: p.Object, Kind: ObjectStroke, Owner: e.Actor, Seq: e.Seq,
				Tool: p.Tool, Color: p.Color, Width: p.Width, Points: slices.Clone(p.Points), Parts: 1})
		} else if o := s.object(p.Slide, p.Object); o != nil && o.Owner == e.Actor && o.Kind == ObjectStroke &&
			o.Parts == p.Part && len(o.Points)+len(p.Points) <= MaxObjectPoints {
			o.Points = append(o.Points, p.Points...)
			o.Parts++
		}
	case *ShapeAdded:
		s.board(p.Slide).add(e.Actor, &Object{ID: p.Object, Kind: ObjectShape, Owner: e.Actor, Seq: e.Seq,
			Shape: p.Shape, Color: p.Color, Fill: p.Fill, Width: p.Width, From: p.From, To: p.To})
	case *TextAdded:
		s.board(p.Slide).add(e.Actor, &Object{ID: p.Object, Kind: ObjectText, Owner: e.Actor, Seq: e.Seq,
			Color: p.Color, At: p.At, Text: p.Text, Size: p.Size})
	case *ObjectsErased:
		if b := s.Board(p.Slide); b != nil {
			b.record(e.Actor, Action{Op: ActionErase, Objects: b.setHidden(p.Objects, true)})
		}
	case *BoardCleared:
		b := s.Board(p.Slide)
		if b == nil {
			break
		}
		var visible []uuid.UUID
		for _, o := range b.Objects {
			if !o.Hidden {
				visible = append(visible, o.ID)
			}
		}
		b.record(e.Actor, Action{Op: ActionClear, Objects: b.setHidden(visible, true)})
	case *BoardUndone:
		if b := s.Board(p.Slide); b != nil {
			b.undo(e.Actor)
		}
	case *BoardRedone:
		if b := s.Board(p.Slide); b != nil {
			b.redo(e.Actor)
		}
	case *DeckAdded:
		if s.deck(p.Deck) == nil && len(s.Decks) < MaxDecks {
			s.Decks = append(s.Decks, Deck{ID: p.Deck, Name: p.Name, Pages: p.Pages})
		}
	case *SlideChanged:
		s.Slide = p.Slide
	case *HandRaised:
		if !slices.Contains(s.Hands, e.Actor) && s.Floor != e.Actor {
			s.Hands = append(s.Hands, e.Actor)
		}
	case *HandLowered:
		s.Hands = remove(s.Hands, p.Participant)
	case *FloorGranted:
		s.Floor = p.Participant
		s.Hands = remove(s.Hands, p.Participant)
	case *FloorRevoked:
		if s.Floor == p.Participant {
			s.Floor = ""
		}
	case *ChatPosted:
		s.Chat = append(s.Chat, ChatMessage{Seq: e.Seq, Actor: e.Actor, Time: e.Time, Text: p.Text})
		if len(s.Chat) > MaxChatMessagesKept {
			s.Chat = slices.Delete(s.Chat, 0, len(s.Chat)-MaxChatMessagesKept)
		}
	case *RecordingStarted:
		s.Recording = true
	case *RecordingStopped:
		s.Recording = false
	default:
		s.applyControl(e)
		s.applyPoll(e)
		s.applyBreakout(e)
	}
}

// board returns the board of a slide, creating it when it has none yet.
func (s *State) board(sl Slide) *Board {
	k := sl.Key()
	b, ok := s.Boards[k]
	if !ok {
		b = &Board{History: map[string]*History{}, index: map[uuid.UUID]int{}}
		s.Boards[k] = b
	}
	return b
}

// Board returns the board of a slide, or nil when nothing was drawn on it.
func (s *State) Board(sl Slide) *Board { return s.Boards[sl.Key()] }

// object returns an object of a slide's board, or nil.
func (s *State) object(sl Slide, id uuid.UUID) *Object {
	if b := s.Board(sl); b != nil {
		return b.object(id)
	}
	return nil
}

func (s *State) deck(id uuid.UUID) *Deck {
	for i := range s.Decks {
		if s.Decks[i].ID == id {
			return &s.Decks[i]
		}
	}
	return nil
}

// object finds an object by id. It only reads, so that Decide may run on a
// state others read at the same time; without an index (a board decoded by
// hand rather than by RestoreSnapshot) it scans.
func (b *Board) object(id uuid.UUID) *Object {
	if b.index == nil {
		for _, o := range b.Objects {
			if o.ID == id {
				return o
			}
		}
		return nil
	}
	if i, ok := b.index[id]; ok {
		return b.Objects[i]
	}
	return nil
}

// reindex rebuilds the index of objects by id.
func (b *Board) reindex() {
	b.index = make(map[uuid.UUID]int, len(b.Objects))
	for i, o := range b.Objects {
		b.index[o.ID] = i
	}
}

// Visible returns the objects not erased, in drawing order.
func (b *Board) Visible() []*Object {
	var v []*Object
	for _, o := range b.Objects {
		if !o.Hidden {
			v = append(v, o)
		}
	}
	return v
}

func (b *Board) add(actor string, o *Object) {
	if b.index == nil {
		b.reindex()
	}
	if b.object(o.ID) != nil || len(b.Objects) >= MaxObjectsPerSlide {
		return
	}
	b.index[o.ID] = len(b.Objects)
	b.Objects = append(b.Objects, o)
	b.record(actor, Action{Op: ActionAdd, Objects: []uuid.UUID{o.ID}})
}

// setHidden sets the Hidden flag of the named objects and returns the ids of
// those it changed.
func (b *Board) setHidden(ids []uuid.UUID, hidden bool) []uuid.UUID {
	var changed []uuid.UUID
	for _, id := range ids {
		if o := b.object(id); o != nil && o.Hidden != hidden {
			o.Hidden = hidden
			changed = append(changed, id)
		}
	}
	return changed
}

func (b *Board) history(actor string) *History {
	if b.History == nil {
		b.History = map[string]*History{}
	}
	h, ok := b.History[actor]
	if !ok {
		h = &History{}
		b.History[actor] = h
	}
	return h
}

// record pushes a new action on the actor's undo stack and forgets their redo.
func (b *Board) record(actor string, a Action) {
	if len(a.Objects) == 0 {
		return
	}
	h := b.history(actor)
	h.Undo = pushBounded(h.Undo, a)
	h.Redo = nil
}

func (b *Board) undo(actor string) {
	if h := b.History[actor]; h != nil {
		b.step(&h.Undo, &h.Redo, true)
	}
}

func (b *Board) redo(actor string) {
	if h := b.History[actor]; h != nil {
		b.step(&h.Redo, &h.Undo, false)
	}
}

// step moves the last action of from onto to and undoes it (hiding what it
// added, showing what it erased) or, when undo is false, does it again.
func (b *Board) step(from, to *[]Action, undo bool) {
	if len(*from) == 0 {
		return
	}
	a := (*from)[len(*from)-1]
	*from = (*from)[:len(*from)-1]
	b.setHidden(a.Objects, (a.Op == ActionAdd) == undo)
	*to = pushBounded(*to, a)
}

func pushBounded(stack []Action, a Action) []Action {
	if len(stack) >= MaxUndoDepth {
		stack = slices.Delete(stack, 0, len(stack)-MaxUndoDepth+1)
	}
	return append(stack, a)
}

func remove(list []string, s string) []string {
	if i := slices.Index(list, s); i >= 0 {
		return slices.Delete(list, i, i+1)
	}
	return list
}

// SnapshotEvery is how many events apart a lesson's snapshots are stored: a
// live room and an import each save one every SnapshotEvery events, so that
// the state at any point of a lesson is at most that many events' fold from a
// snapshot. Each snapshot encodes the whole state again, on the room's
// goroutine, which decides nothing meanwhile, and is a store write of its
// own; a longer interval makes seeks fold more. A late joiner of a live
// lesson does not fold that many (its room encodes a fresher snapshot), and
// a seek by time starts from the snapshot a seek to its event would.
// docs/benchmarks.md measures both sides.
const SnapshotEvery = 5000

// MarshalSnapshot encodes the whole state; RestoreSnapshot reverses it.
// The encoding is exactly json.Marshal(s) (a test holds it to that), put
// together by hand so that the boards and the chat, which are most of it,
// are not checked and copied again by encoding/json.
func (s *State) MarshalSnapshot() ([]byte, error) {
	b, err := s.marshalSnapshot()
	if err != nil {
		return nil, fmt.Errorf("encode lesson state: %w", err)
	}
	return b, nil
}

func (s *State) marshalSnapshot() ([]byte, error) {
	size := 4096 + 128*len(s.Chat)
	for _, board := range s.Boards {
		if board != nil {
			size += board.sizeHint()
		}
	}
	var (
		b   = make([]byte, 0, size)
		err error
	)
	field := func(key string, v any) {
		if err != nil {
			return
		}
		var enc []byte
		if enc, err = json.Marshal(v); err == nil {
			b = append(b, key...)
			b = append(b, enc...)
		}
	}
	field(`{"lesson":`, s.Lesson)
	field(`,"seq":`, s.Seq)
	field(`,"title":`, s.Title)
	field(`,"status":`, s.Status)
	field(`,"created":`, s.Created)
	field(`,"participants":`, s.Participants)
	field(`,"drawing_allowed":`, s.DrawingAllowed)
	field(`,"decks":`, s.Decks)
	field(`,"slide":`, s.Slide)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"boards":`...)
	b = appendMap(b, s.Boards, func(b []byte, board *Board) []byte {
		if board == nil {
			return append(b, "null"...)
		}
		return board.appendJSON(b)
	})
	field(`,"hands":`, s.Hands)
	field(`,"floor":`, s.Floor)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"chat":`...)
	if b, err = appendChat(b, s.Chat); err != nil {
		return nil, err
	}
	field(`,"recording":`, s.Recording)
	field(`,"lobby":`, s.Lobby)
	field(`,"locked":`, s.Locked)
	field(`,"waiting":`, s.Waiting)
	field(`,"admitted":`, s.Admitted)
	field(`,"removed":`, s.Removed)
	field(`,"chat_closed":`, s.ChatClosed)
	field(`,"polls":`, s.Polls)
	field(`,"breakout":`, s.Breakout)
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// RestoreSnapshot decodes a state encoded by MarshalSnapshot. It accepts and
// refuses what json.Unmarshal into NewState() does, and refuses a null board
// or board object besides; a refusal is CodeInvalid. Snapshots as
// MarshalSnapshot writes them take a fast path (decodeSnapshot); any other
// input is decoded by encoding/json.
func RestoreSnapshot(b []byte) (*State, error) {
	s, ok := decodeSnapshot(b)
	if !ok {
		s = NewState()
		if err := json.Unmarshal(b, s); err != nil {
			return nil, Errorf(CodeInvalid, "malformed lesson snapshot: %v", err)
		}
	}
	if s.Participants == nil {
		s.Participants = map[string]*Participant{}
	}
	if s.Boards == nil {
		s.Boards = map[string]*Board{}
	}
	for k, b := range s.Boards {
		if b == nil {
			return nil, Errorf(CodeInvalid, "malformed lesson snapshot: board %q is null", k)
		}
		for i, o := range b.Objects {
			if o == nil {
				return nil, Errorf(CodeInvalid, "malformed lesson snapshot: object %d of board %q is null", i, k)
			}
		}
		b.reindex()
	}
	return s, nil
}

// Hash returns a stable digest of the whole state, the same for the same log
// on any machine: a hex SHA-256 of the snapshot encoding, whose map keys
// encoding/json sorts.
func (s *State) Hash() string {
	b, err := s.MarshalSnapshot()
	if err != nil {
		// Only unencodable floats could fail, and validation refuses them.
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Clone returns a deep copy of the state.
func (s *State) Clone() *State {
	b, err := s.MarshalSnapshot()
	if err != nil {
		panic(err)
	}
	c, err := RestoreSnapshot(b)
	if err != nil {
		panic(err)
	}
	return c
}
