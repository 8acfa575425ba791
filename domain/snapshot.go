package domain

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/google/uuid"
)

// A snapshot is mostly board objects and their points, and seeking a past
// lesson decodes one of tens of megabytes. decodeSnapshot reads the encoding
// MarshalSnapshot writes in one pass, without reflection and without the
// validity scan that encoding/json makes before it decodes.
//
// It is a fast path, not a second definition of the format: it accepts only
// what it can decode exactly as json.Unmarshal into a State would (keys in
// any order and whitespace anywhere, but only exact key names, no key twice,
// null only where a nil slice, map or pointer goes) and reports anything else,
// malformed input included, as not handled. RestoreSnapshot then decodes
// that input with encoding/json, whose answer, refusal and error message
// stay what they were. FuzzRestoreSnapshot holds the two to the same result.

// snapshotDecoder reads one snapshot. Every method that reads a value skips
// the white space before it and returns false when the input is not what the
// fast path handles.
type snapshotDecoder struct {
	jsonCursor

	// intern shares the strings that repeat across objects (kinds, owners,
	// tools, colours), so that a board of thousands of strokes holds each
	// once.
	intern map[string]string
	pts    []Point // the chunk points are decoded into; see points
}

// maxInterned is the length up to which object strings are interned.
const maxInterned = 64

// decodeSnapshot decodes b as json.Unmarshal would into NewState(), or
// returns false when b is not an input it handles; see snapshotDecoder.
func decodeSnapshot(b []byte) (*State, bool) {
	d := snapshotDecoder{jsonCursor: jsonCursor{b: b}, intern: make(map[string]string)}
	s := NewState()
	if !d.state(s) {
		return nil, false
	}
	d.space()
	if d.i != len(d.b) {
		return nil, false
	}
	return s, true
}

// State fields, as bits of the set of fields seen.
const (
	fieldLesson = 1 << iota
	fieldSeq
	fieldTitle
	fieldStatus
	fieldCreated
	fieldParticipants
	fieldDrawingAllowed
	fieldDecks
	fieldSlide
	fieldBoards
	fieldHands
	fieldFloor
	fieldChat
	fieldRecording
	fieldLobby
	fieldLocked
	fieldWaiting
	fieldAdmitted
	fieldRemoved
	fieldChatClosed
	fieldPolls
	fieldBreakout
)

func (d *snapshotDecoder) state(s *State) bool {
	var seen uint32
	return d.object(func(key []byte) bool {
		var bit uint32
		ok := true
		switch string(key) {
		case "lesson":
			bit = fieldLesson
			s.Lesson, ok = d.uuid()
		case "seq":
			bit = fieldSeq
			s.Seq, ok = d.int()
		case "title":
			bit = fieldTitle
			s.Title, ok = d.string(false)
		case "status":
			bit = fieldStatus
			var st string
			st, ok = d.string(true)
			s.Status = Status(st)
		case "created":
			bit = fieldCreated
			ok = d.delegate(&s.Created)
		case "participants":
			bit = fieldParticipants
			ok = d.delegate(&s.Participants)
		case "drawing_allowed":
			bit = fieldDrawingAllowed
			s.DrawingAllowed, ok = d.bool()
		case "decks":
			bit = fieldDecks
			ok = d.delegate(&s.Decks)
		case "slide":
			bit = fieldSlide
			ok = d.delegate(&s.Slide)
		case "boards":
			bit = fieldBoards
			ok = d.boards(s)
		case "hands":
			bit = fieldHands
			s.Hands, ok = d.strings()
		case "floor":
			bit = fieldFloor
			s.Floor, ok = d.string(false)
		case "chat":
			bit = fieldChat
			ok = d.delegate(&s.Chat)
		case "recording":
			bit = fieldRecording
			s.Recording, ok = d.bool()
		case "lobby":
			bit = fieldLobby
			s.Lobby, ok = d.bool()
		case "locked":
			bit = fieldLocked
			s.Locked, ok = d.bool()
		case "waiting":
			bit = fieldWaiting
			ok = d.delegate(&s.Waiting)
		case "admitted":
			bit = fieldAdmitted
			s.Admitted, ok = d.strings()
		case "removed":
			bit = fieldRemoved
			s.Removed, ok = d.strings()
		case "chat_closed":
			bit = fieldChatClosed
			s.ChatClosed, ok = d.bool()
		case "polls":
			bit = fieldPolls
			ok = d.delegate(&s.Polls)
		case "breakout":
			bit = fieldBreakout
			ok = d.delegate(&s.Breakout)
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return ok
	})
}

// boards decodes the boards into s.Boards, which is empty or nil, or sets it
// to nil for null.
func (d *snapshotDecoder) boards(s *State) bool {
	if d.null() {
		s.Boards = nil
		return true
	}
	if s.Boards == nil {
		s.Boards = map[string]*Board{}
	}
	return d.object(func(key []byte) bool {
		if _, dup := s.Boards[string(key)]; dup {
			return false
		}
		b := &Board{}
		if !d.board(b) {
			return false
		}
		s.Boards[string(key)] = b
		return true
	})
}

func (d *snapshotDecoder) board(b *Board) bool {
	var seenObjects, seenHistory bool
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "objects":
			if seenObjects {
				return false
			}
			seenObjects = true
			return d.objects(b)
		case "history":
			if seenHistory {
				return false
			}
			seenHistory = true
			return d.history(b)
		}
		return false
	})
}

func (d *snapshotDecoder) objects(b *Board) bool {
	if d.null() {
		b.Objects = nil
		return true
	}
	b.Objects = []*Object{}
	return d.array(func() bool {
		o := &Object{}
		if !d.objectFields(o) {
			return false
		}
		b.Objects = append(b.Objects, o)
		return true
	})
}

// Object fields, as bits of the set of fields seen.
const (
	fieldID = 1 << iota
	fieldKind
	fieldOwner
	fieldObjectSeq
	fieldHidden
	fieldTool
	fieldShape
	fieldColor
	fieldFill
	fieldWidth
	fieldPoints
	fieldParts
	fieldFrom
	fieldTo
	fieldAt
	fieldText
	fieldSize
)

func (d *snapshotDecoder) objectFields(o *Object) bool {
	var seen uint32
	return d.object(func(key []byte) bool {
		var bit uint32
		ok := true
		switch string(key) {
		case "id":
			bit = fieldID
			o.ID, ok = d.uuid()
		case "kind":
			bit = fieldKind
			o.Kind, ok = d.string(true)
		case "owner":
			bit = fieldOwner
			o.Owner, ok = d.string(true)
		case "seq":
			bit = fieldObjectSeq
			o.Seq, ok = d.int()
		case "hidden":
			bit = fieldHidden
			o.Hidden, ok = d.bool()
		case "tool":
			bit = fieldTool
			o.Tool, ok = d.string(true)
		case "shape":
			bit = fieldShape
			o.Shape, ok = d.string(true)
		case "color":
			bit = fieldColor
			o.Color, ok = d.string(true)
		case "fill":
			bit = fieldFill
			o.Fill, ok = d.string(true)
		case "width":
			bit = fieldWidth
			o.Width, ok = d.float()
		case "points":
			bit = fieldPoints
			o.Points, ok = d.points()
		case "parts":
			bit = fieldParts
			var n int64
			n, ok = d.int()
			o.Parts = int(n)
			ok = ok && int64(o.Parts) == n
		case "from":
			bit = fieldFrom
			o.From, ok = d.pair()
		case "to":
			bit = fieldTo
			o.To, ok = d.pair()
		case "at":
			bit = fieldAt
			o.At, ok = d.pair()
		case "text":
			bit = fieldText
			o.Text, ok = d.string(false)
		case "size":
			bit = fieldSize
			o.Size, ok = d.float()
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return ok
	})
}

// points decodes [[x,y,t,pressure],…] or null as Points.UnmarshalJSON does.
// The points of all objects are decoded into shared chunks (d.pts), each
// object's a slice of one chunk whose capacity ends where its points do, so
// that appending to it copies.
func (d *snapshotDecoder) points() (Points, bool) {
	if d.null() {
		return nil, true
	}
	if !d.next('[') {
		return nil, false
	}
	if d.next(']') {
		return Points{}, true
	}
	start := len(d.pts)
	for {
		if !d.next('[') {
			return nil, false
		}
		var a [4]float64
		for k := range a {
			if k > 0 && !d.next(',') {
				return nil, false
			}
			f, ok := d.float()
			if !ok {
				return nil, false
			}
			a[k] = f
		}
		if !d.next(']') {
			return nil, false
		}
		p, err := pointOf(a)
		if err != nil {
			return nil, false
		}
		if len(d.pts) == cap(d.pts) {
			start = d.grow(start)
		}
		d.pts = append(d.pts, p)
		if d.next(']') {
			end := len(d.pts)
			return d.pts[start:end:end], true
		}
		if !d.next(',') {
			return nil, false
		}
	}
}

// Sizes of the chunks points are decoded into, in points: the first is small
// for small states, and each next one twice the last up to the largest.
const (
	firstPointChunk = 256
	maxPointChunk   = 1 << 16
)

// grow starts a new chunk of points, moves the points of the object being
// decoded, d.pts[start:], to it, and returns where they start now.
func (d *snapshotDecoder) grow(start int) int {
	n := min(max(2*cap(d.pts), firstPointChunk), maxPointChunk)
	moving := d.pts[start:]
	chunk := make([]Point, len(moving), max(n, 2*len(moving)))
	copy(chunk, moving)
	d.pts = chunk
	return 0
}

// pair decodes a [2]float64 of exactly two numbers. (encoding/json also
// takes shorter and longer arrays; those go to it.)
func (d *snapshotDecoder) pair() ([2]float64, bool) {
	var p [2]float64
	var ok bool
	if !d.next('[') {
		return p, false
	}
	if p[0], ok = d.float(); !ok || !d.next(',') {
		return p, false
	}
	if p[1], ok = d.float(); !ok || !d.next(']') {
		return p, false
	}
	return p, true
}

func (d *snapshotDecoder) history(b *Board) bool {
	if d.null() {
		b.History = nil
		return true
	}
	b.History = map[string]*History{}
	return d.object(func(key []byte) bool {
		if _, dup := b.History[string(key)]; dup {
			return false
		}
		h := &History{}
		var seenUndo, seenRedo bool
		if !d.object(func(key []byte) bool {
			switch string(key) {
			case "undo":
				if seenUndo {
					return false
				}
				seenUndo = true
				var ok bool
				h.Undo, ok = d.actions()
				return ok
			case "redo":
				if seenRedo {
					return false
				}
				seenRedo = true
				var ok bool
				h.Redo, ok = d.actions()
				return ok
			}
			return false
		}) {
			return false
		}
		b.History[d.internBytes(key)] = h
		return true
	})
}

func (d *snapshotDecoder) actions() ([]Action, bool) {
	if d.null() {
		return nil, true
	}
	as := []Action{}
	ok := d.array(func() bool {
		var a Action
		var seenOp, seenObjects bool
		if !d.object(func(key []byte) bool {
			switch string(key) {
			case "op":
				if seenOp {
					return false
				}
				seenOp = true
				var ok bool
				a.Op, ok = d.string(true)
				return ok
			case "objects":
				if seenObjects {
					return false
				}
				seenObjects = true
				return d.uuids(&a.Objects)
			}
			return false
		}) {
			return false
		}
		as = append(as, a)
		return true
	})
	return as, ok
}

func (d *snapshotDecoder) uuids(ids *[]uuid.UUID) bool {
	if d.null() {
		*ids = nil
		return true
	}
	*ids = []uuid.UUID{}
	return d.array(func() bool {
		id, ok := d.uuid()
		*ids = append(*ids, id)
		return ok
	})
}

func (d *snapshotDecoder) strings() ([]string, bool) {
	if d.null() {
		return nil, true
	}
	ss := []string{}
	ok := d.array(func() bool {
		s, ok := d.string(false)
		ss = append(ss, s)
		return ok
	})
	return ss, ok
}

// delegate decodes the next value into v with encoding/json: the small
// parts of a state (participants, decks, chat, times) are not worth a
// decoder of their own. skip finds where the value ends without checking
// it, and json.Unmarshal checks it.
func (d *snapshotDecoder) delegate(v any) bool {
	raw, ok := d.skip()
	return ok && json.Unmarshal(raw, v) == nil
}

// skip returns the next value's bytes: its extent if it is well-formed, and
// some extent that encoding/json refuses if it is not.
func (d *snapshotDecoder) skip() ([]byte, bool) {
	d.space()
	start, depth := d.i, 0
	for d.i < len(d.b) {
		switch c := d.b[d.i]; c {
		case '"':
			if _, _, ok := d.stringToken(); !ok {
				return nil, false
			}
			if depth == 0 {
				return d.b[start:d.i], true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 { // the end of the object or array holding a scalar
				return d.b[start:d.i], d.i > start
			}
			depth--
			if depth == 0 {
				d.i++
				return d.b[start:d.i], true
			}
		case ',', ':', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return d.b[start:d.i], d.i > start
			}
		}
		d.i++
	}
	return d.b[start:d.i], depth == 0 && d.i > start
}

// object reads an object, calling field for each key (unescaped ASCII only)
// with the decoder at its value.
func (d *snapshotDecoder) object(field func(key []byte) bool) bool {
	if !d.next('{') {
		return false
	}
	if d.next('}') {
		return true
	}
	for {
		d.space()
		key, plain, ok := d.stringToken()
		if !ok || !plain || !d.next(':') || !field(key) {
			return false
		}
		if d.next('}') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

// array reads an array, calling elem with the decoder at each element.
func (d *snapshotDecoder) array(elem func() bool) bool {
	if !d.next('[') {
		return false
	}
	if d.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.next(']') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

// next skips white space and consumes c if it comes next.
func (d *snapshotDecoder) next(c byte) bool {
	d.space()
	return d.byte(c)
}

// null skips white space and consumes the literal null if it comes next.
func (d *snapshotDecoder) null() bool {
	d.space()
	return d.literal("null")
}

func (d *snapshotDecoder) bool() (bool, bool) {
	d.space()
	switch {
	case d.literal("true"):
		return true, true
	case d.literal("false"):
		return false, true
	}
	return false, false
}

// stringToken reads a string at d.i. plain reports that it is printable
// ASCII without escapes; then s is its content, and otherwise the whole
// quoted token, for encoding/json to unquote. ok is false for an unclosed
// string or one with a control character.
func (d *snapshotDecoder) stringToken() (s []byte, plain, ok bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, false, false
	}
	start := d.i
	plain = true
	for j := d.i + 1; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			if plain {
				return d.b[start+1 : j], true, true
			}
			return d.b[start:d.i], false, true
		case c == '\\':
			plain = false
			j++
		case c < 0x20:
			return nil, false, false
		case c >= 0x80:
			plain = false
		}
	}
	return nil, false, false
}

// string reads a string; short ones are interned when intern is true.
func (d *snapshotDecoder) string(intern bool) (string, bool) {
	d.space()
	tok, plain, ok := d.stringToken()
	if !ok {
		return "", false
	}
	if !plain {
		var s string
		if json.Unmarshal(tok, &s) != nil {
			return "", false
		}
		return s, true
	}
	if intern {
		return d.internBytes(tok), true
	}
	return string(tok), true
}

// internBytes returns b as a string, the same string for the same bytes
// when they are short.
func (d *snapshotDecoder) internBytes(b []byte) string {
	if len(b) > maxInterned {
		return string(b)
	}
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	d.intern[s] = s
	return s
}

// uuid reads a UUID as encoding/json does through uuid.UUID.UnmarshalText.
func (d *snapshotDecoder) uuid() (uuid.UUID, bool) {
	d.space()
	tok, plain, ok := d.stringToken()
	if !ok {
		return uuid.UUID{}, false
	}
	if !plain {
		var id uuid.UUID
		return id, json.Unmarshal(tok, &id) == nil
	}
	id, err := uuid.ParseBytes(tok)
	return id, err == nil
}

// number reads a number that follows the JSON grammar and returns its
// bytes, whether it has a fraction or an exponent, and, when it has at most
// 15 digits and no exponent, its digits as an integer m and how many of them
// follow the point, so that its value is ±m/10^frac.
func (d *snapshotDecoder) number() (tok []byte, m uint64, frac int, simple, ok bool) {
	d.space()
	b, i := d.b, d.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := 0
	switch {
	case i < len(b) && b[i] == '0':
		i++
		digits++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			m = m*10 + uint64(b[i]-'0')
			i++
			digits++
		}
	default:
		return nil, 0, 0, false, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		f := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			m = m*10 + uint64(b[i]-'0')
			i++
		}
		if i == f {
			return nil, 0, 0, false, false
		}
		frac = i - f
		digits += frac
	}
	simple = digits <= 15
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		e := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == e {
			return nil, 0, 0, false, false
		}
		simple = false
	}
	d.i = i
	return b[start:i], m, frac, simple, true
}

// float reads a number as strconv.ParseFloat (which encoding/json uses)
// does. A number of at most 15 digits without an exponent is m/10^frac with
// m and 10^frac exact in a float64, so that the one correctly rounded
// division is the correctly rounded value ParseFloat returns.
func (d *snapshotDecoder) float() (float64, bool) {
	tok, m, frac, simple, ok := d.number()
	if !ok {
		return 0, false
	}
	if simple {
		f := float64(m) / math.Pow10(frac)
		if tok[0] == '-' {
			f = -f
		}
		return f, true
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	return f, err == nil
}

// int reads a number into an int64 as encoding/json does, which refuses
// fractions, exponents and overflow.
func (d *snapshotDecoder) int() (int64, bool) {
	tok, m, frac, simple, ok := d.number()
	if !ok {
		return 0, false
	}
	if simple && frac == 0 {
		if tok[0] == '-' {
			return -int64(m), true
		}
		return int64(m), true
	}
	n, err := strconv.ParseInt(string(tok), 10, 64)
	return n, err == nil
}
