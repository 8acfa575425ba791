package domain

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// Command is what a participant (or the server, for joins and leaves) asks of
// a lesson. Actor and Role come from the authenticated connection, never from
// the message body.
type Command struct {
	ID      uuid.UUID // chosen by the client; becomes the event id
	Actor   string
	Role    Role
	Payload Payload
}

// NewLesson returns the first event of a new lesson's log.
func NewLesson(lesson, eventID uuid.UUID, title string, now time.Time) (Event, error) {
	if lesson == uuid.Nil || eventID == uuid.Nil {
		return Event{}, Errorf(CodeInvalid, "lesson and event ids are required")
	}
	p := &LessonCreated{Title: title}
	if err := p.validate(); err != nil {
		return Event{}, err
	}
	return Event{ID: eventID, Lesson: lesson, Version: EventVersion, Role: RoleSystem,
		Time: serverTime(now), Payload: p}, nil
}

// Decide checks a command against the lesson's current state and the actor's
// role and returns the event it becomes. It does not change s: the caller
// stores the event and then applies it. A refusal is an *Error whose code is
// CodeInvalid, CodeForbidden, CodeNotFound or CodeConflict.
//
// A participant's command that would change nothing (a slide changed to the
// one shown, a board cleared with nothing on it, drawing permitted as it is
// already) is refused with CodeConflict, so that every event in a log
// changes the lesson. The server's own records of joins and leaves are
// exempt: a join of someone present records a reconnection.
func Decide(s *State, c Command, now time.Time) (Event, error) {
	if c.ID == uuid.Nil {
		return Event{}, Errorf(CodeInvalid, "command has no id")
	}
	if isNil(c.Payload) {
		return Event{}, Errorf(CodeInvalid, "command has no payload")
	}
	if err := checkID("actor", c.Actor, c.Role != RoleSystem); err != nil {
		return Event{}, err
	}
	if err := c.Payload.validate(); err != nil {
		return Event{}, err
	}
	if err := s.check(c); err != nil {
		return Event{}, err
	}
	return Event{ID: c.ID, Lesson: s.Lesson, Version: EventVersion, Actor: c.Actor, Role: c.Role,
		Time: serverTime(now), Payload: s.stampGroupChat(c.Payload)}, nil
}

func serverTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// check refuses a command the lesson's state or the actor's role does not
// allow: first what holds for every command (the lesson exists and goes on,
// the actor is present in the role it claims), then the rules of the
// command's family.
func (s *State) check(c Command) error {
	if c.Payload.Kind() == KindLessonCreated {
		return Errorf(CodeConflict, "the lesson already exists")
	}
	if s.Status == "" {
		return Errorf(CodeNotFound, "no such lesson")
	}
	if s.Status == StatusEnded && c.Payload.Kind() != KindParticipantLeft {
		return Errorf(CodeConflict, "the lesson has ended").Because(ReasonLessonEnded)
	}
	switch p := c.Payload.(type) {
	case *ParticipantJoined:
		return s.checkJoin(c, p)
	case *ParticipantWaiting:
		return s.checkWaiting(c)
	case *ParticipantLeft:
		if pt := s.Participants[c.Actor]; s.IsWaiting(c.Actor) && (pt == nil || !pt.Present) {
			return nil // a student leaves the lobby
		}
	}
	me, ok := s.Participants[c.Actor]
	if !ok || !me.Present {
		return Errorf(CodeForbidden, "join the lesson first")
	}
	if me.Role != c.Role {
		return Errorf(CodeForbidden, "you joined as %s, not %s", me.Role, c.Role)
	}
	if _, leaving := c.Payload.(*ParticipantLeft); me.Role == RoleViewer && !leaving {
		return Errorf(CodeForbidden, "a viewer watches and does nothing else")
	}
	switch c.Payload.(type) {
	case *LessonStarted, *LessonEnded, *ParticipantLeft, *RecordingStarted, *RecordingStopped:
		return s.checkLessonCommand(c)
	case *DrawingPermitted, *StrokeDrawn, *ShapeAdded, *TextAdded, *ObjectsErased, *BoardUndone, *BoardRedone, *BoardCleared:
		return s.checkBoardCommand(c, me)
	case *DeckAdded, *SlideChanged:
		return s.checkSlideCommand(c)
	case *HandRaised, *HandLowered, *FloorGranted, *FloorRevoked, *ChatPosted:
		return s.checkFloorCommand(c)
	case *LobbyChanged, *LessonLocked, *ParticipantAdmitted, *ParticipantDenied, *ParticipantRemoved,
		*MediaMuted, *MediaUnmuted, *UnmuteAsked, *ChatPermitted:
		return s.checkControlCommand(c)
	case *PollAsked, *PollAnswered, *PollClosed, *PollResultsShown:
		return s.checkPollCommand(c)
	case *GroupsFormed, *GroupJoined, *GroupLeft, *GroupsMessaged, *GroupsRecalled, *GroupsEnded, *GroupBoardShown,
		*GroupChatPosted:
		return s.checkBreakoutCommand(c)
	}
	return notACommand(c)
}

func notACommand(c Command) error {
	return Errorf(CodeInvalid, "%s is not a command", c.Payload.Kind())
}

// checkLessonCommand checks the commands that start, end, leave and record
// the lesson.
func (s *State) checkLessonCommand(c Command) error {
	teacher := c.Role == RoleTeacher
	switch c.Payload.(type) {
	case *LessonStarted:
		if !teacher {
			return Errorf(CodeForbidden, "only the teacher starts the lesson")
		}
		if s.Status != StatusCreated {
			return Errorf(CodeConflict, "the lesson has already started")
		}
	case *LessonEnded:
		if !teacher {
			return Errorf(CodeForbidden, "only the teacher ends the lesson")
		}
	case *ParticipantLeft:
		// A present participant may always leave.
	case *RecordingStarted:
		if !teacher {
			return Errorf(CodeForbidden, "only the teacher records")
		}
		if s.Recording {
			return Errorf(CodeConflict, "already recording")
		}
	case *RecordingStopped:
		if !teacher {
			return Errorf(CodeForbidden, "only the teacher records")
		}
		if !s.Recording {
			return Errorf(CodeConflict, "not recording")
		}
	default:
		return notACommand(c)
	}
	return nil
}

// checkBoardCommand checks the commands that draw on, erase, undo, redo and
// clear a board, and the teacher's permission to draw.
func (s *State) checkBoardCommand(c Command, me *Participant) error {
	teacher := c.Role == RoleTeacher
	switch p := c.Payload.(type) {
	case *DrawingPermitted:
		if !teacher {
			return Errorf(CodeForbidden, "only the teacher allows drawing")
		}
		if p.Participant == "" {
			if s.DrawingAllowed == p.Allowed {
				return Errorf(CodeConflict, "drawing is already %s", allowedWord(p.Allowed))
			}
			break
		}
		pt, ok := s.Participants[p.Participant]
		if !ok {
			return Errorf(CodeNotFound, "no participant %q", p.Participant)
		}
		if pt.Role != RoleStudent {
			return Errorf(CodeInvalid, "drawing permission is for students")
		}
		if pt.Drawing != nil && *pt.Drawing == p.Allowed {
			return Errorf(CodeConflict, "drawing is already %s for %s", allowedWord(p.Allowed), pt.Name)
		}
	case *StrokeDrawn:
		return s.checkStroke(c, me, p)
	case *ShapeAdded:
		if err := s.checkDraw(me, p.Slide); err != nil {
			return err
		}
		return s.checkNewObject(s.Board(p.Slide), p.Object)
	case *TextAdded:
		if err := s.checkDraw(me, p.Slide); err != nil {
			return err
		}
		return s.checkNewObject(s.Board(p.Slide), p.Object)
	case *ObjectsErased:
		return s.checkErase(c, me, p)
	case *BoardUndone, *BoardRedone:
		sl := slideOf(p)
		if err := s.checkDraw(me, sl); err != nil {
			return err
		}
		b := s.Board(sl)
		var h *History
		if b != nil {
			h = b.History[c.Actor]
		}
		if _, undo := p.(*BoardUndone); undo && (h == nil || len(h.Undo) == 0) {
			return Errorf(CodeConflict, "nothing to undo")
		} else if !undo && (h == nil || len(h.Redo) == 0) {
			return Errorf(CodeConflict, "nothing to redo")
		}
	case *BoardCleared:
		if !teacher {
			return Errorf(CodeForbidden, "only the teacher clears the board")
		}
		if err := s.checkSlide(p.Slide); err != nil {
			return err
		}
		if b := s.Board(p.Slide); b == nil || !slices.ContainsFunc(b.Objects, func(o *Object) bool { return !o.Hidden }) {
			return Errorf(CodeConflict, "the board is already clear")
		}
		return nil
	default:
		return notACommand(c)
	}
	return nil
}

// checkStroke checks a stroke's part: the first opens a new object, a later
// one continues the actor's own stroke in order and within its points.
func (s *State) checkStroke(c Command, me *Participant, p *StrokeDrawn) error {
	if err := s.checkDraw(me, p.Slide); err != nil {
		return err
	}
	b := s.Board(p.Slide)
	if p.Part == 0 {
		return s.checkNewObject(b, p.Object)
	}
	var o *Object
	if b != nil {
		o = b.object(p.Object)
	}
	switch {
	case o == nil:
		return Errorf(CodeNotFound, "no stroke %s on this slide", p.Object)
	case o.Owner != c.Actor || o.Kind != ObjectStroke:
		return Errorf(CodeForbidden, "you can only continue your own stroke")
	case o.Parts != p.Part:
		return Errorf(CodeConflict, "stroke part %d expected, got %d", o.Parts, p.Part)
	case len(o.Points)+len(p.Points) > MaxObjectPoints:
		return Errorf(CodeInvalid, "a stroke has at most %d points", MaxObjectPoints)
	}
	return nil
}

// checkErase checks an erase: every object is on the slide, a student's are
// their own, and at least one is still visible.
func (s *State) checkErase(c Command, me *Participant, p *ObjectsErased) error {
	if err := s.checkDraw(me, p.Slide); err != nil {
		return err
	}
	teacher := c.Role == RoleTeacher
	b := s.Board(p.Slide)
	visible := 0
	for _, id := range p.Objects {
		var o *Object
		if b != nil {
			o = b.object(id)
		}
		if o == nil {
			return Errorf(CodeNotFound, "no object %s on this slide", id)
		}
		if !teacher && o.Owner != c.Actor {
			return Errorf(CodeForbidden, "students erase only their own drawing")
		}
		if !o.Hidden {
			visible++
		}
	}
	if visible == 0 {
		return Errorf(CodeConflict, "already erased")
	}
	return nil
}

// checkSlideCommand checks the commands that add a deck and change the slide.
func (s *State) checkSlideCommand(c Command) error {
	teacher := c.Role == RoleTeacher
	switch p := c.Payload.(type) {
	case *DeckAdded:
		if !teacher {
			return Errorf(CodeForbidden, "only the teacher adds slides")
		}
		if s.deck(p.Deck) != nil || s.Group(p.Deck) != nil {
			return Errorf(CodeConflict, "deck %s already exists", p.Deck)
		}
		if len(s.Decks) >= MaxDecks {
			return Errorf(CodeConflict, "a lesson has at most %d decks", MaxDecks)
		}
	case *SlideChanged:
		if !teacher {
			return Errorf(CodeForbidden, "only the teacher changes slides")
		}
		if err := s.checkSlide(p.Slide); err != nil {
			return err
		}
		if p.Slide == s.Slide {
			return Errorf(CodeConflict, "already on that slide")
		}
	default:
		return notACommand(c)
	}
	return nil
}

// checkFloorCommand checks the commands of hands, the floor and chat.
func (s *State) checkFloorCommand(c Command) error {
	teacher := c.Role == RoleTeacher
	switch p := c.Payload.(type) {
	case *HandRaised:
		if teacher {
			return Errorf(CodeForbidden, "the teacher does not raise a hand")
		}
		if slices.Contains(s.Hands, c.Actor) {
			return Errorf(CodeConflict, "your hand is already raised")
		}
		if s.Floor == c.Actor {
			return Errorf(CodeConflict, "you already have the floor")
		}
	case *HandLowered:
		if !teacher && p.Participant != c.Actor {
			return Errorf(CodeForbidden, "only the teacher lowers another student's hand")
		}
		if !slices.Contains(s.Hands, p.Participant) {
			return Errorf(CodeConflict, "that hand is not raised")
		}
	case *FloorGranted:
		if !teacher {
			return Errorf(CodeForbidden, "only the teacher gives the floor")
		}
		pt, ok := s.Participants[p.Participant]
		switch {
		case !ok || !pt.Present:
			return Errorf(CodeNotFound, "%q is not in the lesson", p.Participant)
		case pt.Role != RoleStudent:
			return Errorf(CodeInvalid, "the floor is given to a student")
		case s.Floor == p.Participant:
			return Errorf(CodeConflict, "that student already has the floor")
		}
	case *FloorRevoked:
		if !teacher && p.Participant != c.Actor {
			return Errorf(CodeForbidden, "only the teacher takes the floor back")
		}
		if s.Floor != p.Participant {
			return Errorf(CodeConflict, "that student does not have the floor")
		}
	case *ChatPosted:
		if !s.MayChat(c.Actor) {
			return Errorf(CodeForbidden, "the teacher has switched the chat off")
		}
	default:
		return notACommand(c)
	}
	return nil
}

func allowedWord(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "not allowed"
}

func (s *State) checkJoin(c Command, p *ParticipantJoined) error {
	if c.Role != RoleTeacher && c.Role != RoleStudent && c.Role != RoleViewer {
		return Errorf(CodeInvalid, "participants join as teacher, student or viewer")
	}
	if pt, ok := s.Participants[c.Actor]; ok && pt.Role != c.Role {
		return Errorf(CodeConflict, "%q already joined as %s", c.Actor, pt.Role)
	}
	if err := s.MayEnter(c.Actor, c.Role); err != nil {
		return err
	}
	if _, ok := s.Participants[c.Actor]; ok {
		return nil
	}
	if len(s.Participants) >= MaxParticipantsKnown {
		return Errorf(CodeConflict, "the lesson is full")
	}
	return nil
}

// CanDraw reports whether a participant may draw on the board now.
func (s *State) CanDraw(participant string) bool {
	pt, ok := s.Participants[participant]
	if !ok {
		return false
	}
	if pt.Role == RoleTeacher {
		return true
	}
	if pt.Drawing != nil {
		return *pt.Drawing
	}
	return s.DrawingAllowed
}

func (s *State) checkDraw(me *Participant, sl Slide) error {
	if group, err := s.checkGroupDraw(me, sl); group {
		return err
	}
	if !s.CanDraw(me.ID) {
		return Errorf(CodeForbidden, "the teacher has not allowed you to draw")
	}
	return s.checkSlide(sl)
}

// checkSlide refuses a slide outside the whiteboard and the decks.
func (s *State) checkSlide(sl Slide) error {
	if sl.Deck == uuid.Nil {
		return nil // validate bounds the whiteboard pages
	}
	d := s.deck(sl.Deck)
	if d == nil && s.Group(sl.Deck) != nil {
		if sl.Page != groupBoardPage {
			return Errorf(CodeNotFound, "a group's board has one page")
		}
		return nil
	}
	if d == nil {
		return Errorf(CodeNotFound, "no deck %s", sl.Deck)
	}
	if sl.Page >= d.Pages {
		return Errorf(CodeNotFound, "deck %q has no page %d", d.Name, sl.Page)
	}
	return nil
}

func (s *State) checkNewObject(b *Board, id uuid.UUID) error {
	if b == nil {
		return nil
	}
	if b.object(id) != nil {
		return Errorf(CodeConflict, "object %s already exists", id)
	}
	if len(b.Objects) >= MaxObjectsPerSlide {
		return Errorf(CodeConflict, "this board is full (%d objects)", MaxObjectsPerSlide)
	}
	return nil
}

func slideOf(p Payload) Slide {
	switch p := p.(type) {
	case *BoardUndone:
		return p.Slide
	case *BoardRedone:
		return p.Slide
	}
	return Slide{}
}
