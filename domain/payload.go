package domain

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits that protect the server and every client from one oversized input.
const (
	MaxEventBytes        = 64 << 10 // encoded payload of one event
	MaxStrokePoints      = 1000     // points in one stroke event (one segment)
	MaxObjectPoints      = 20000    // points in one stroke across its segments
	MaxObjectsPerSlide   = 20000    // board objects, erased ones included
	MaxChatRunes         = 2000     // one chat message
	MaxTextRunes         = 2000     // one text object on the board
	MaxTitleRunes        = 200      // a lesson's title
	MaxNameRunes         = 100      // a participant's display name or a deck's name
	MaxIDBytes           = 128      // a participant id
	MaxDeckPages         = 1000     // pages in one slide deck
	MaxDecks             = 100      // decks in one lesson
	MaxEraseObjects      = 1000     // objects in one erase
	MaxUndoDepth         = 200      // undoable actions kept per participant and slide
	MaxStrokeWidth       = 200.0    // in board units
	MaxPointMillis       = 3600000  // time of a point since its stroke began: one hour
	MaxCoordinate        = 1e6      // absolute value of a board coordinate
	MaxWhiteboardPages   = 1000     // blank board pages outside any deck
	MaxChatMessagesKept  = 10000    // chat messages kept in the state; older ones remain in the log
	MaxParticipantsKnown = 10000    // distinct participants a lesson remembers
)

// Slide identifies one page everyone looks at and draws on: page Page of deck
// Deck, or page Page of the blank whiteboard when Deck is uuid.Nil.
type Slide struct {
	Deck uuid.UUID `json:"deck"`
	Page int       `json:"page"`
}

// Key is the slide's stable string form, used as a map key.
func (s Slide) Key() string { return s.Deck.String() + "/" + strconv.Itoa(s.Page) }

// Point is one sample of a pen: a position on the board, the time since the
// stroke began in milliseconds, and the pressure from 0 to 1 (0.5 when the
// device reports none). It encodes as the array [x, y, t, pressure].
type Point struct {
	X, Y     float64
	T        int64
	Pressure float64
}

// MarshalJSON encodes the point as [x, y, t, pressure].
func (p Point) MarshalJSON() ([]byte, error) { return p.appendJSON(make([]byte, 0, 48)), nil }

// UnmarshalJSON decodes [x, y, t, pressure].
func (p *Point) UnmarshalJSON(b []byte) error {
	var a []float64
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	if len(a) != 4 {
		return Errorf(CodeInvalid, "a point is [x, y, t, pressure], not %d numbers", len(a))
	}
	pt, err := pointOf([4]float64(a))
	if err != nil {
		return err
	}
	*p = pt
	return nil
}

// appendFloat formats f exactly as encoding/json formats a float64: the
// shortest decimal that parses back to f, as strconv.AppendFloat finds it.
// Board coordinates mostly have a few decimals, and for those it finds that
// decimal itself, which is several times faster: see appendShortDecimal.
func appendFloat(b []byte, f float64) []byte {
	if abs := math.Abs(f); abs >= 1e-4 && abs < 1e9 {
		if m, k, ok := shortDecimal(f); ok {
			return appendShortDecimal(b, m, k)
		}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0') // validation refuses such points before they are stored
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// shortDecimal finds the fewest decimals k ≤ 4 for which f is the float64
// nearest to m/10^k, if any. For 1e-4 ≤ |f| < 1e9 that m/10^k is then the
// shortest decimal that parses back to f: a float64 there is less than 2e-7
// from its neighbours, closer than two decimals of k places are to each
// other, so no other decimal of k places or fewer parses to f. m/p is one
// correctly rounded division of two exact integers, so it is the float64
// nearest m/10^k, as strconv.ParseFloat would give.
func shortDecimal(f float64) (m int64, k int, ok bool) {
	p := 1.0
	for k := 0; k <= 4; k++ {
		if r := math.Round(f * p); r/p == f {
			return int64(r), k, true
		}
		p *= 10
	}
	return 0, 0, false
}

// appendShortDecimal appends m/10^k in decimal, as %f would with k places.
func appendShortDecimal(b []byte, m int64, k int) []byte {
	if m < 0 {
		b = append(b, '-')
		m = -m
	}
	if k == 0 {
		return strconv.AppendInt(b, m, 10)
	}
	var buf [20]byte
	digits := strconv.AppendInt(buf[:0], m, 10)
	if len(digits) <= k {
		b = append(b, '0', '.')
		for range k - len(digits) {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	b = append(b, digits[:len(digits)-k]...)
	b = append(b, '.')
	return append(b, digits[len(digits)-k:]...)
}

// Tools that draw strokes.
const (
	ToolPen         = "pen"
	ToolHighlighter = "highlighter"
)

// Shapes.
const (
	ShapeLine      = "line"
	ShapeArrow     = "arrow"
	ShapeRectangle = "rectangle"
	ShapeEllipse   = "ellipse"
)

// LessonCreated opens a lesson's log. It is always the event of sequence 1.
// With Lobby, students wait to be admitted from the start.
type LessonCreated struct {
	Title string `json:"title"`
	Lobby bool   `json:"lobby,omitempty"`
}

// LessonStarted marks the start of the live lesson.
type LessonStarted struct{}

// LessonEnded closes the lesson: nothing but leaving is accepted afterwards.
type LessonEnded struct{}

// ParticipantJoined records a participant entering the lesson. The actor of
// the event is the participant; the role of the event is theirs.
type ParticipantJoined struct {
	Name string `json:"name"`
}

// ParticipantLeft records a participant leaving the lesson: their session
// ended (no Reason), or, with LeftAbsent, the server found them present with
// no session of theirs.
type ParticipantLeft struct {
	Reason string `json:"reason,omitempty"`
}

// LeftAbsent is the Reason of a leave the server records for a participant
// the log says is present but who has no session: one whose server was
// killed or lost its database before it could store their leave, and who
// did not come back within the grace period after the lesson was opened, or
// was not there when it ended.
const LeftAbsent = "absent"

// DrawingPermitted lets students draw, or stops them. With Participant empty
// it sets the lesson-wide default; otherwise it overrides it for one student.
type DrawingPermitted struct {
	Participant string `json:"participant,omitempty"`
	Allowed     bool   `json:"allowed"`
}

// StrokeDrawn is a freehand stroke, or the next segment of one: long strokes
// are committed in parts sharing the Object id, Part counting up from 0. Only
// part 0 carries the style; later parts append points.
type StrokeDrawn struct {
	Object uuid.UUID `json:"object"`
	Slide  Slide     `json:"slide"`
	Part   int       `json:"part"`
	Tool   string    `json:"tool,omitempty"`
	Color  string    `json:"color,omitempty"`
	Width  float64   `json:"width,omitempty"`
	Points Points    `json:"points"`
}

// ShapeAdded is a line, arrow, rectangle or ellipse between two corners.
type ShapeAdded struct {
	Object uuid.UUID  `json:"object"`
	Slide  Slide      `json:"slide"`
	Shape  string     `json:"shape"`
	From   [2]float64 `json:"from"`
	To     [2]float64 `json:"to"`
	Color  string     `json:"color"`
	Width  float64    `json:"width"`
	Fill   string     `json:"fill,omitempty"`
}

// TextAdded is a text box anchored at At.
type TextAdded struct {
	Object uuid.UUID  `json:"object"`
	Slide  Slide      `json:"slide"`
	At     [2]float64 `json:"at"`
	Text   string     `json:"text"`
	Color  string     `json:"color"`
	Size   float64    `json:"size"`
}

// ObjectsErased hides objects from a slide's board; undo brings them back.
type ObjectsErased struct {
	Slide   Slide       `json:"slide"`
	Objects []uuid.UUID `json:"objects"`
}

// BoardUndone undoes the actor's most recent board action on the slide.
type BoardUndone struct {
	Slide Slide `json:"slide"`
}

// BoardRedone redoes the actor's most recently undone board action on the slide.
type BoardRedone struct {
	Slide Slide `json:"slide"`
}

// BoardCleared erases every visible object of a slide's board at once.
type BoardCleared struct {
	Slide Slide `json:"slide"`
}

// DeckAdded adds a slide deck (an uploaded PDF or set of images) of Pages pages.
type DeckAdded struct {
	Deck  uuid.UUID `json:"deck"`
	Name  string    `json:"name"`
	Pages int       `json:"pages"`
}

// SlideChanged moves everyone to another slide.
type SlideChanged struct {
	Slide Slide `json:"slide"`
}

// HandRaised puts the actor at the end of the queue of raised hands.
type HandRaised struct{}

// HandLowered takes Participant's hand out of the queue.
type HandLowered struct {
	Participant string `json:"participant"`
}

// FloorGranted gives Participant the floor: their camera and microphone go to
// everyone. It replaces any previous holder and lowers their hand.
type FloorGranted struct {
	Participant string `json:"participant"`
}

// FloorRevoked takes the floor back from Participant.
type FloorRevoked struct {
	Participant string `json:"participant"`
}

// ChatPosted is a chat message to the whole lesson.
type ChatPosted struct {
	Text string `json:"text"`
}

// RecordingStarted marks the start of media recording.
type RecordingStarted struct{}

// RecordingStopped marks the end of media recording.
type RecordingStopped struct{}

func (*LessonCreated) Kind() Kind     { return KindLessonCreated }
func (*LessonStarted) Kind() Kind     { return KindLessonStarted }
func (*LessonEnded) Kind() Kind       { return KindLessonEnded }
func (*ParticipantJoined) Kind() Kind { return KindParticipantJoined }
func (*ParticipantLeft) Kind() Kind   { return KindParticipantLeft }
func (*DrawingPermitted) Kind() Kind  { return KindDrawingPermitted }
func (*StrokeDrawn) Kind() Kind       { return KindStrokeDrawn }
func (*ShapeAdded) Kind() Kind        { return KindShapeAdded }
func (*TextAdded) Kind() Kind         { return KindTextAdded }
func (*ObjectsErased) Kind() Kind     { return KindObjectsErased }
func (*BoardUndone) Kind() Kind       { return KindBoardUndone }
func (*BoardRedone) Kind() Kind       { return KindBoardRedone }
func (*BoardCleared) Kind() Kind      { return KindBoardCleared }
func (*DeckAdded) Kind() Kind         { return KindDeckAdded }
func (*SlideChanged) Kind() Kind      { return KindSlideChanged }
func (*HandRaised) Kind() Kind        { return KindHandRaised }
func (*HandLowered) Kind() Kind       { return KindHandLowered }
func (*FloorGranted) Kind() Kind      { return KindFloorGranted }
func (*FloorRevoked) Kind() Kind      { return KindFloorRevoked }
func (*ChatPosted) Kind() Kind        { return KindChatPosted }
func (*RecordingStarted) Kind() Kind  { return KindRecordingStarted }
func (*RecordingStopped) Kind() Kind  { return KindRecordingStopped }

func (p *LessonCreated) validate() error {
	return checkText("title", p.Title, 1, MaxTitleRunes)
}
func (*LessonStarted) validate() error { return nil }
func (*LessonEnded) validate() error   { return nil }
func (p *ParticipantJoined) validate() error {
	return checkText("name", p.Name, 1, MaxNameRunes)
}
func (p *ParticipantLeft) validate() error {
	if p.Reason != "" && p.Reason != LeftAbsent {
		return Errorf(CodeInvalid, "a leave's reason is empty or %q", LeftAbsent)
	}
	return nil
}
func (p *DrawingPermitted) validate() error {
	return checkID("participant", p.Participant, false)
}

func (p *StrokeDrawn) validate() error {
	if p.Object == uuid.Nil {
		return Errorf(CodeInvalid, "stroke has no object id")
	}
	if err := checkSlide(p.Slide); err != nil {
		return err
	}
	if p.Part < 0 || p.Part > MaxObjectPoints {
		return Errorf(CodeInvalid, "stroke part %d is out of range", p.Part)
	}
	if len(p.Points) == 0 || len(p.Points) > MaxStrokePoints {
		return Errorf(CodeInvalid, "a stroke segment has 1 to %d points, not %d", MaxStrokePoints, len(p.Points))
	}
	if p.Part == 0 {
		if p.Tool != ToolPen && p.Tool != ToolHighlighter {
			return Errorf(CodeInvalid, "unknown stroke tool %q", p.Tool)
		}
		if err := checkColor("color", p.Color, false); err != nil {
			return err
		}
		if err := checkWidth(p.Width); err != nil {
			return err
		}
	} else if p.Tool != "" || p.Color != "" || p.Width != 0 {
		return Errorf(CodeInvalid, "only the first part of a stroke carries its style")
	}
	for i, pt := range p.Points {
		if !coord(pt.X) || !coord(pt.Y) {
			return Errorf(CodeInvalid, "point %d is off the board", i)
		}
		if pt.T < 0 || (i > 0 && pt.T < p.Points[i-1].T) {
			return Errorf(CodeInvalid, "point %d goes back in time", i)
		}
		if pt.T > MaxPointMillis {
			return Errorf(CodeInvalid, "point %d is more than an hour into its stroke", i)
		}
		if !(pt.Pressure >= 0 && pt.Pressure <= 1) {
			return Errorf(CodeInvalid, "point %d has pressure outside 0..1", i)
		}
	}
	return nil
}

func (p *ShapeAdded) validate() error {
	if p.Object == uuid.Nil {
		return Errorf(CodeInvalid, "shape has no object id")
	}
	if err := checkSlide(p.Slide); err != nil {
		return err
	}
	switch p.Shape {
	case ShapeLine, ShapeArrow, ShapeRectangle, ShapeEllipse:
	default:
		return Errorf(CodeInvalid, "unknown shape %q", p.Shape)
	}
	if !coord(p.From[0]) || !coord(p.From[1]) || !coord(p.To[0]) || !coord(p.To[1]) {
		return Errorf(CodeInvalid, "shape is off the board")
	}
	if err := checkColor("color", p.Color, false); err != nil {
		return err
	}
	if err := checkColor("fill", p.Fill, true); err != nil {
		return err
	}
	return checkWidth(p.Width)
}

func (p *TextAdded) validate() error {
	if p.Object == uuid.Nil {
		return Errorf(CodeInvalid, "text has no object id")
	}
	if err := checkSlide(p.Slide); err != nil {
		return err
	}
	if !coord(p.At[0]) || !coord(p.At[1]) {
		return Errorf(CodeInvalid, "text is off the board")
	}
	if err := checkText("text", p.Text, 1, MaxTextRunes); err != nil {
		return err
	}
	if err := checkColor("color", p.Color, false); err != nil {
		return err
	}
	if !(p.Size > 0 && p.Size <= MaxStrokeWidth) {
		return Errorf(CodeInvalid, "text size must be above 0 and at most %v", MaxStrokeWidth)
	}
	return nil
}

func (p *ObjectsErased) validate() error {
	if err := checkSlide(p.Slide); err != nil {
		return err
	}
	if len(p.Objects) == 0 || len(p.Objects) > MaxEraseObjects {
		return Errorf(CodeInvalid, "an erase names 1 to %d objects", MaxEraseObjects)
	}
	return nil
}

func (p *BoardUndone) validate() error  { return checkSlide(p.Slide) }
func (p *BoardRedone) validate() error  { return checkSlide(p.Slide) }
func (p *BoardCleared) validate() error { return checkSlide(p.Slide) }

func (p *DeckAdded) validate() error {
	if p.Deck == uuid.Nil {
		return Errorf(CodeInvalid, "deck has no id")
	}
	if p.Pages < 1 || p.Pages > MaxDeckPages {
		return Errorf(CodeInvalid, "a deck has 1 to %d pages", MaxDeckPages)
	}
	return checkText("deck name", p.Name, 1, MaxNameRunes)
}

func (p *SlideChanged) validate() error { return checkSlide(p.Slide) }
func (*HandRaised) validate() error     { return nil }
func (p *HandLowered) validate() error  { return checkID("participant", p.Participant, true) }
func (p *FloorGranted) validate() error { return checkID("participant", p.Participant, true) }
func (p *FloorRevoked) validate() error { return checkID("participant", p.Participant, true) }
func (p *ChatPosted) validate() error   { return checkText("chat message", p.Text, 1, MaxChatRunes) }
func (*RecordingStarted) validate() error {
	return nil
}
func (*RecordingStopped) validate() error { return nil }

func checkText(what, s string, minRunes, maxRunes int) error {
	if !utf8.ValidString(s) {
		return Errorf(CodeInvalid, "%s is not valid UTF-8", what)
	}
	n := utf8.RuneCountInString(s)
	if n < minRunes {
		return Errorf(CodeInvalid, "%s is empty", what)
	}
	if n > maxRunes {
		return Errorf(CodeInvalid, "%s is longer than %d characters", what, maxRunes)
	}
	return nil
}

func checkID(what, id string, required bool) error {
	if id == "" && required {
		return Errorf(CodeInvalid, "%s is missing", what)
	}
	if len(id) > MaxIDBytes || !utf8.ValidString(id) {
		return Errorf(CodeInvalid, "%s is not a valid participant id", what)
	}
	return nil
}

func checkSlide(s Slide) error {
	if s.Page < 0 || s.Page >= MaxDeckPages || (s.Deck == uuid.Nil && s.Page >= MaxWhiteboardPages) {
		return Errorf(CodeInvalid, "slide page %d is out of range", s.Page)
	}
	return nil
}

// checkColor accepts "#rrggbb" or "#rrggbbaa"; optional colours may be empty.
func checkColor(what, c string, optional bool) error {
	if c == "" && optional {
		return nil
	}
	if (len(c) != 7 && len(c) != 9) || c[0] != '#' {
		return Errorf(CodeInvalid, "%s %q is not #rrggbb or #rrggbbaa", what, c)
	}
	for _, r := range c[1:] {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return Errorf(CodeInvalid, "%s %q is not #rrggbb or #rrggbbaa", what, c)
		}
	}
	return nil
}

func checkWidth(w float64) error {
	if !(w > 0 && w <= MaxStrokeWidth) {
		return Errorf(CodeInvalid, "width must be above 0 and at most %v", MaxStrokeWidth)
	}
	return nil
}

func coord(v float64) bool { return v >= -MaxCoordinate && v <= MaxCoordinate }
