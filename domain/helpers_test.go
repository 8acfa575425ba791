package domain

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Participants of the test lessons.
const (
	teacher = "tina"
	ann     = "ann"
	bob     = "bob"
	cat     = "cat"
)

// t0 is when every test lesson is created.
var t0 = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

// whiteboard is page 0 of the blank whiteboard, the slide a lesson starts on.
var whiteboard = Slide{}

// id returns a stable UUID for a name, so that test logs and hashes are the
// same on every run.
func id(name string) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("classroom-test/"+name))
}

// play is a lesson played the way a server would: commands go through Decide
// and the events it returns are stored with the next Seq and applied.
type play struct {
	tb  testing.TB
	st  *State
	log []Event
	now time.Time
	n   int // commands sent, for event ids
}

// newPlay creates a lesson and nothing else.
func newPlay(tb testing.TB) *play {
	tb.Helper()
	p := &play{tb: tb, st: NewState(), now: t0}
	ev, err := NewLesson(id("lesson"), id("event-created"), "Fractions", p.now)
	if err != nil {
		tb.Fatalf("NewLesson: %v", err)
	}
	p.store(ev)
	return p
}

// newLive creates a lesson, lets the teacher and the given students join and
// starts it.
func newLive(tb testing.TB, students ...string) *play {
	tb.Helper()
	p := newPlay(tb)
	p.must(teacher, RoleTeacher, &ParticipantJoined{Name: "Tina"})
	for _, s := range students {
		p.must(s, RoleStudent, &ParticipantJoined{Name: "Student " + s})
	}
	p.teacher(&LessonStarted{})
	return p
}

// store appends an event to the log with the next Seq and applies it.
func (p *play) store(ev Event) Event {
	ev.Seq = int64(len(p.log)) + 1
	p.st.Apply(ev)
	p.log = append(p.log, ev)
	return ev
}

// do sends one command. When Decide accepts it, the event is stored and applied.
func (p *play) do(actor string, role Role, pl Payload) (Event, error) {
	p.tb.Helper()
	p.now = p.now.Add(time.Second)
	p.n++
	ev, err := Decide(p.st, Command{ID: id(fmt.Sprintf("event-%d", p.n)), Actor: actor, Role: role, Payload: pl}, p.now)
	if err != nil {
		var de *Error
		if !errors.As(err, &de) {
			p.tb.Fatalf("Decide(%s by %s) returned %T %v, not a *Error", pl.Kind(), actor, err, err)
		}
		return Event{}, err
	}
	if err := ev.Validate(); err != nil {
		p.tb.Fatalf("Decide(%s by %s) returned an invalid event: %v", pl.Kind(), actor, err)
	}
	return p.store(ev), nil
}

// must sends a command that has to be accepted.
func (p *play) must(actor string, role Role, pl Payload) Event {
	p.tb.Helper()
	ev, err := p.do(actor, role, pl)
	if err != nil {
		p.tb.Fatalf("%s by %s (%s): %v", pl.Kind(), actor, role, err)
	}
	return ev
}

func (p *play) teacher(pl Payload) Event { p.tb.Helper(); return p.must(teacher, RoleTeacher, pl) }

func (p *play) student(who string, pl Payload) Event {
	p.tb.Helper()
	return p.must(who, RoleStudent, pl)
}

// refuse sends a command that has to be refused with code, and checks that
// nothing was stored or applied.
func (p *play) refuse(code Code, actor string, role Role, pl Payload) {
	p.tb.Helper()
	before, n := p.st.Hash(), len(p.log)
	_, err := p.do(actor, role, pl)
	if err == nil {
		p.tb.Fatalf("%s by %s (%s) was accepted, want %s", pl.Kind(), actor, role, code)
	}
	if got := ErrorCode(err); got != code {
		p.tb.Fatalf("%s by %s (%s): got %v, want code %s", pl.Kind(), actor, role, err, code)
	}
	if len(p.log) != n || p.st.Hash() != before {
		p.tb.Fatalf("%s by %s was refused but changed the state", pl.Kind(), actor)
	}
}

// refuseStudent is refuse for a student's command.
func (p *play) refuseStudent(code Code, who string, pl Payload) {
	p.tb.Helper()
	p.refuse(code, who, RoleStudent, pl)
}

// refuseTeacher is refuse for the teacher's command.
func (p *play) refuseTeacher(code Code, pl Payload) {
	p.tb.Helper()
	p.refuse(code, teacher, RoleTeacher, pl)
}

// visible returns the ids of the visible objects of a slide, in drawing order.
func (p *play) visible(sl Slide) []uuid.UUID {
	b := p.st.Board(sl)
	if b == nil {
		return nil
	}
	var ids []uuid.UUID
	for _, o := range b.Visible() {
		ids = append(ids, o.ID)
	}
	return ids
}

// wantVisible checks the visible objects of a slide by name, in order.
func (p *play) wantVisible(sl Slide, names ...string) {
	p.tb.Helper()
	want := make([]uuid.UUID, 0, len(names))
	for _, n := range names {
		want = append(want, id(n))
	}
	got := p.visible(sl)
	if !slices.Equal(got, want) {
		p.tb.Fatalf("visible on %s: got %v, want %v", sl.Key(), nameIDs(got), names)
	}
}

// object returns an object of a slide's board, or fails.
func (p *play) object(sl Slide, name string) *Object {
	p.tb.Helper()
	b := p.st.Board(sl)
	if b == nil {
		p.tb.Fatalf("no board on %s", sl.Key())
	}
	for _, o := range b.Objects {
		if o.ID == id(name) {
			return o
		}
	}
	p.tb.Fatalf("no object %q on %s", name, sl.Key())
	return nil
}

// names maps test UUIDs back to the names they were made from, for messages.
var knownNames = []string{"a", "b", "c", "d", "e", "t1", "t2", "a1", "a2", "a3", "b1", "s", "x", "shape", "text", "stroke"}

func nameIDs(ids []uuid.UUID) []string {
	var out []string
	for _, u := range ids {
		n := u.String()
		for _, k := range knownNames {
			if id(k) == u {
				n = k
			}
		}
		out = append(out, n)
	}
	return out
}

// line returns n points going right, with time counting up from start.
func line(n int, start int64) []Point {
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = Point{X: float64(i), Y: float64(i) / 2, T: start + int64(i), Pressure: 0.5}
	}
	return pts
}

// pen is part 0 of a pen stroke named name.
func pen(name string, sl Slide, pts []Point) *StrokeDrawn {
	return &StrokeDrawn{Object: id(name), Slide: sl, Tool: ToolPen, Color: "#112233", Width: 2, Points: pts}
}

// dot is a one-point pen stroke: the shortest thing a participant can draw.
func dot(name string, sl Slide) *StrokeDrawn { return pen(name, sl, line(1, 0)) }

// segment is part n of the stroke named name.
func segment(name string, sl Slide, part int, pts []Point) *StrokeDrawn {
	return &StrokeDrawn{Object: id(name), Slide: sl, Part: part, Points: pts}
}

func rect(name string, sl Slide) *ShapeAdded {
	return &ShapeAdded{Object: id(name), Slide: sl, Shape: ShapeRectangle, From: [2]float64{1, 2},
		To: [2]float64{30, 40}, Color: "#ff0000", Width: 3}
}

func label(name string, sl Slide, text string) *TextAdded {
	return &TextAdded{Object: id(name), Slide: sl, At: [2]float64{5, 6}, Text: text, Color: "#000000", Size: 14}
}

func erase(sl Slide, names ...string) *ObjectsErased {
	e := &ObjectsErased{Slide: sl}
	for _, n := range names {
		e.Objects = append(e.Objects, id(n))
	}
	return e
}

// replay folds a log into a fresh state.
func replay(log []Event) *State {
	s := NewState()
	for _, e := range log {
		s.Apply(e)
	}
	return s
}
