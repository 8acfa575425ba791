package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// FuzzDecodeEvent feeds arbitrary bytes to DecodeEvent. It must never panic;
// it refuses with a *Error of code invalid; and what it accepts is valid and
// re-encodes to a canonical form that decodes to itself.
func FuzzDecodeEvent(f *testing.F) {
	for _, e := range append(sampleEvents(), fullLesson(f).log...) {
		b, err := e.MarshalJSON()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		goodChat, goodChat + "}", goodChat + " ", "\n" + goodChat, "null", "{}", "[]", `""`, "",
		`{"v":1,"kind":"stroke.drawn","data":{"points":[[1,2,3,4]]}}`,
		`{"v":1,"id":"11111111-2222-4333-8444-555555555555","lesson":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee","kind":"hand.raised","role":"student","time":"2024-03-01T09:00:00+02:00","data":{}}`,
		`{"v":1,"id":"11111111-2222-4333-8444-555555555555","lesson":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee","kind":"lesson.started","role":"system","time":"2024-03-01T09:00:00Z","data":null}`,
		`{"v":1,"id":"11111111-2222-4333-8444-555555555555","lesson":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee","kind":"stroke.drawn","role":"student","actor":"a\ud800","time":"2024-03-01T09:00:00Z","data":` +
			`{"object":"0f0e0d0c-0b0a-4908-8706-050403020100","slide":{"deck":"00000000-0000-0000-0000-000000000000","page":0},"part":1,"points":[[1E5,-0.000001e0,1.099E12,1e-1],[1,2,3]]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEvent(b)
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.Code != CodeInvalid {
				t.Fatalf("refused with %T %v, want a *Error with code invalid", err, err)
			}
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("accepted an invalid event: %v", err)
		}
		b1, err := e.MarshalJSON()
		if err != nil {
			t.Fatalf("cannot re-encode %q: %v", b, err)
		}
		e2, err := DecodeEvent(b1)
		if err != nil {
			t.Fatalf("cannot decode the re-encoding %s: %v", b1, err)
		}
		if err := e2.Validate(); err != nil {
			t.Fatal(err)
		}
		b2, err := e2.MarshalJSON()
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("the encoding is not canonical:\n%s\n%s (%v)", b1, b2, err)
		}
		// Whatever decodes can be folded, hashed and snapshotted.
		s := NewState()
		s.Apply(e)
		if s.Hash() != s.Clone().Hash() {
			t.Fatal("the clone of the state hashes differently")
		}
	})
}

// decideFixture is a lesson state with the log that made it.
type decideFixture struct {
	log  []Event
	st   *State
	hash string
}

// fuzzActors and fuzzRoles are what the actor and role bytes of FuzzDecide
// choose from; the actor byte also chooses the fixture.
var (
	fuzzActors = []string{teacher, ann, bob, cat, "", "dan"}
	fuzzRoles  = []Role{RoleTeacher, RoleStudent, RoleSystem, "admin", RoleViewer}
)

// decideFixtures builds the lessons FuzzDecide sends commands to: a live one
// with a deck, strokes, a shape, a text, a raised hand and recording on; the
// same with a floor, an undo to redo, another slide and someone who left;
// and the same, ended.
func decideFixtures(tb testing.TB) []decideFixture {
	tb.Helper()
	build := func(more func(p *play)) decideFixture {
		p := newLive(tb, ann, bob)
		addDeck(p)
		p.teacher(&DrawingPermitted{Allowed: true})
		p.teacher(&DrawingPermitted{Participant: bob, Allowed: false})
		p.teacher(pen("t1", whiteboard, line(4, 0)))
		p.teacher(segment("t1", whiteboard, 1, line(2, 10)))
		p.student(ann, pen("a1", whiteboard, line(3, 0)))
		p.student(ann, rect("a2", whiteboard))
		p.teacher(label("t2", deckPage(1), "note"))
		p.student(ann, &HandRaised{})
		p.teacher(&RecordingStarted{})
		if more != nil {
			more(p)
		}
		return decideFixture{log: p.log, st: p.st, hash: p.st.Hash()}
	}
	return []decideFixture{
		build(nil),
		build(func(p *play) {
			p.teacher(&FloorGranted{Participant: ann})
			p.student(bob, &HandRaised{})
			p.student(ann, erase(whiteboard, "a1"))
			p.student(ann, &BoardUndone{Slide: whiteboard})
			p.teacher(&SlideChanged{Slide: deckPage(1)})
			p.must(cat, RoleStudent, &ParticipantJoined{Name: "Cat"})
			p.student(cat, &ParticipantLeft{})
			p.teacher(&LobbyChanged{On: true})
			p.student("dan", &ParticipantWaiting{Name: "Dan"})
			p.teacher(&MediaMuted{Participant: ann, Audio: true})
			p.teacher(&ChatPermitted{Allowed: false})
			p.teacher(&PollAsked{Poll: id("quiz"), Question: "2+2?", Choices: []string{"3", "4"}, Correct: []int{1}})
			p.student(bob, &PollAnswered{Poll: id("quiz"), Choices: []int{0}})
		}),
		build(func(p *play) {
			p.teacher(&PollAsked{Poll: id("secret"), Question: "Happy?", Choices: []string{"yes", "no", "not sure"},
				Multiple: true, Anonymous: true})
			p.student(ann, &PollAnswered{Poll: id("secret"), Choices: []int{0, 2}, Anonymous: true})
			p.teacher(&PollClosed{Poll: id("secret")})
			p.teacher(&GroupsFormed{Groups: []GroupPlan{{ID: id("g1"), Name: "One", Members: []string{ann}},
				{ID: id("g2"), Name: "Two", Members: []string{bob}}}, Seconds: 60})
			p.teacher(&GroupJoined{Group: id("g1")})
			p.student(ann, pen("ga", GroupBoard(id("g1")), line(2, 0)))
			p.student(bob, &GroupChatPosted{Group: id("g2"), Text: "alone here"})
		}),
		build(func(p *play) {
			p.teacher(&GroupsFormed{Groups: []GroupPlan{{ID: id("g1"), Name: "One"}}, Choose: true})
			p.teacher(&GroupsEnded{})
		}),
		build(func(p *play) { p.teacher(&LessonEnded{}) }),
	}
}

// FuzzDecide decodes a fuzzed command and sends it to one of the fixture
// lessons. Decide must never panic. A refusal is a *Error with one of the
// four codes and leaves the state alone. An accepted command gives a valid
// event that Apply folds without panicking into the state a replay of the
// whole log gives, and that survives its JSON encoding.
func FuzzDecide(f *testing.F) {
	fixtures := decideFixtures(f)
	var payloads []Payload
	for _, e := range append(sampleEvents(), fullLesson(f).log...) {
		payloads = append(payloads, e.Payload)
	}
	payloads = append(payloads,
		segment("t1", whiteboard, 2, line(3, 20)), segment("t1", whiteboard, 1, line(1, 20)),
		segment("a1", whiteboard, 1, line(2, 5)), pen("new", whiteboard, line(2, 0)), pen("t1", whiteboard, line(2, 0)),
		erase(whiteboard, "a1"), erase(whiteboard, "t1"), erase(whiteboard, "a1", "a2"), erase(deckPage(1), "t2"),
		&BoardUndone{Slide: whiteboard}, &BoardRedone{Slide: whiteboard}, &BoardUndone{Slide: deckPage(1)},
		&BoardCleared{Slide: whiteboard}, &SlideChanged{Slide: deckPage(2)}, &SlideChanged{Slide: deckPage(3)},
		&FloorGranted{Participant: ann}, &FloorGranted{Participant: bob}, &FloorRevoked{Participant: ann},
		&HandLowered{Participant: ann}, &HandLowered{Participant: bob}, &DrawingPermitted{Participant: bob, Allowed: true},
		rect("a2", whiteboard), label("t3", deckPage(2), "x"),
		&ParticipantAdmitted{Participant: "dan"}, &ParticipantDenied{Participant: "dan"}, &ParticipantWaiting{Name: "Dan"},
		&ParticipantRemoved{Participant: ann}, &ParticipantRemoved{Participant: cat, KeepOpen: true},
		&MediaMuted{Participant: ann, Video: true}, &MediaUnmuted{Audio: true}, &UnmuteAsked{Participant: ann},
		&ChatPermitted{Allowed: true}, &LessonLocked{Locked: true}, &LobbyChanged{},
		&PollAsked{Poll: id("new"), Question: "Why?"}, &PollAnswered{Poll: id("quiz"), Choices: []int{1}},
		&PollAnswered{Poll: id("secret"), Choices: []int{1}, Anonymous: true}, &PollClosed{Poll: id("quiz")},
		&PollResultsShown{Poll: id("secret"), Counts: []int{1, 0, 1}}, &PollAnswered{Poll: id("new"), Text: "because"},
		&GroupsFormed{Groups: []GroupPlan{{ID: id("g3"), Name: "Three", Members: []string{ann, bob}}}, Blank: true},
		&GroupJoined{Group: id("g2"), Participant: ann}, &GroupJoined{Group: id("g1")}, &GroupLeft{},
		&GroupsMessaged{Text: "back soon"}, &GroupsRecalled{Seconds: 30}, &GroupsEnded{},
		&GroupBoardShown{Group: id("g1")}, &GroupBoardShown{}, pen("gb", GroupBoard(id("g2")), line(2, 0)),
		&GroupChatPosted{Group: id("g1"), Text: "hello group"}, &GroupChatPosted{Group: id("g2"), Text: "hi", Members: []string{cat}},
	)
	for i, pl := range payloads {
		data, err := EncodePayload(pl)
		if err != nil {
			f.Fatal(err)
		}
		// Spread the seeds over fixtures, actors and roles.
		for _, a := range []int{0, 1, 2} {
			fx := (i + a) % len(fixtures)
			role := byte(0)
			if a != 0 {
				role = 1
			}
			f.Add(string(pl.Kind()), data, byte(fx*len(fuzzActors)+a), role)
		}
	}
	f.Add("chat.posted", []byte(`{"text":"hi"}`), byte(3), byte(1)) // cat has not joined
	f.Add("chat.posted", []byte(`{"text":"hi"}`), byte(4), byte(2)) // the system
	f.Add("chat.posted", []byte(`{"text":"hi"}`), byte(1), byte(3)) // a bogus role
	f.Add("lesson.created", []byte(`{"title":"x"}`), byte(0), byte(0))
	f.Add("stroke.drawn", []byte(`{}`), byte(0), byte(0))
	f.Add("nope", []byte(`{}`), byte(0), byte(0))

	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, kind string, data []byte, actor, role byte) {
		pl, err := DecodePayload(Kind(kind), data)
		if err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("DecodePayload: %v", err)
			}
			return
		}
		fx := fixtures[int(actor)/len(fuzzActors)%len(fixtures)]
		cmd := Command{ID: id("fuzz-command"), Actor: fuzzActors[int(actor)%len(fuzzActors)],
			Role: fuzzRoles[int(role)%len(fuzzRoles)], Payload: pl}
		s := fx.st.Clone()
		ev, err := Decide(s, cmd, now)
		if err != nil {
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("refused with %T %v, not a *Error", err, err)
			}
			switch de.Code {
			case CodeInvalid, CodeForbidden, CodeNotFound, CodeConflict:
			default:
				t.Fatalf("refused with code %q: %v", de.Code, err)
			}
			if s.Hash() != fx.hash {
				t.Fatal("a refused command changed the state")
			}
			return
		}
		if s.Hash() != fx.hash {
			t.Fatal("Decide changed the state")
		}
		if err := ev.Validate(); err != nil {
			t.Fatalf("Decide made an invalid event: %v", err)
		}
		if ev.ID != cmd.ID || ev.Actor != cmd.Actor || ev.Role != cmd.Role || ev.Lesson != fx.st.Lesson || !decidedPayload(s, ev, pl) {
			t.Fatalf("event %+v for command %+v", ev, cmd)
		}
		ev.Seq = s.Seq + 1
		s.Apply(ev)
		got := s.Hash()
		if want := replay(append(fx.log[:len(fx.log):len(fx.log)], ev)).Hash(); got != want {
			t.Fatalf("state after %s hashes %s, a replay %s", ev.Kind(), got, want)
		}
		if s.Clone().Hash() != got {
			t.Fatal("the snapshot of the new state does not restore to it")
		}
		// Every accepted command changes the lesson, not only its seq
		// (Decide's rule); the server's joins record reconnections.
		if ev.Kind() != KindParticipantJoined {
			same := fx.st.Clone()
			same.Seq = ev.Seq
			if same.Hash() == got {
				t.Fatalf("%s was accepted but changes nothing", ev.Kind())
			}
		}
		b, err := ev.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) <= MaxEventBytes {
			d, err := DecodeEvent(b)
			if err != nil {
				t.Fatalf("the accepted event does not decode: %v\n%s", err, b)
			}
			if b2, _ := d.MarshalJSON(); !bytes.Equal(b, b2) {
				t.Fatalf("the accepted event does not round-trip:\n%s\n%s", b, b2)
			}
		}
	})
}

// FuzzPointJSON checks the hand-written point encoder against encoding/json.
func FuzzPointJSON(f *testing.F) {
	f.Add(0.0, math.Copysign(0, -1), int64(0), 0.5)
	f.Add(1e-7, 1e21, int64(1)<<40, 1.0)
	f.Add(123456.78901234567, -98765.43210987654, int64(16), 0.12345678901234567)
	f.Add(5e-324, math.MaxFloat64, int64(-5), 1e-6)
	f.Fuzz(func(t *testing.T, x, y float64, tm int64, pr float64) {
		for _, v := range []float64{x, y, pr} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return
			}
		}
		if tm > 1<<40 || tm < -(1<<40) {
			return
		}
		pt := Point{X: x, Y: y, T: tm, Pressure: pr}
		got, err := pt.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal([4]float64{x, y, float64(tm), pr})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%+v encodes as %s, encoding/json writes %s", pt, got, want)
		}
		var back Point
		if err := back.UnmarshalJSON(got); err != nil {
			t.Fatal(err)
		}
		if math.Float64bits(back.X) != math.Float64bits(x) || math.Float64bits(back.Y) != math.Float64bits(y) ||
			back.T != tm || math.Float64bits(back.Pressure) != math.Float64bits(pr) {
			t.Fatalf("%s decodes as %+v, want %+v", got, back, pt)
		}
	})
}

// FuzzPointsJSON checks the hand-written decoder of a stroke's points against
// encoding/json decoding the same input point by point.
func FuzzPointsJSON(f *testing.F) {
	for _, s := range []string{`[[1,2,3,0.5]]`, `[]`, `null`, `[[1,2,3,0.5],[-1e-7,2E3,4,1]]`, `[[1,2,3]]`,
		`[[1,2,3,4,5]]`, `[ [ 1 , 2 , 3 , 0.5 ] ]`, `[["1",2,3,4]]`, `[[1,2,3.5,0]]`, `[[1e400,0,0,0]]`, `[1,2,3,4]`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast Points
		errFast := json.Unmarshal(b, &fast)
		var slow []Point
		errSlow := json.Unmarshal(b, &slow)
		if (errFast == nil) != (errSlow == nil) {
			t.Fatalf("%q: Points says %v, []Point says %v", b, errFast, errSlow)
		}
		if errFast != nil {
			return
		}
		if len(fast) != len(slow) || (fast == nil) != (slow == nil) {
			t.Fatalf("%q: %v vs %v", b, fast, slow)
		}
		for i := range fast {
			if fast[i] != slow[i] && !(fast[i].X != fast[i].X) { // NaN cannot come from JSON
				t.Fatalf("%q: point %d is %v, want %v", b, i, fast[i], slow[i])
			}
		}
		again, err := json.Marshal(fast)
		if err != nil {
			t.Fatal(err)
		}
		var back Points
		if err := json.Unmarshal(again, &back); err != nil || len(back) != len(fast) {
			t.Fatalf("%q re-encoded as %s does not decode: %v", b, again, err)
		}
	})
}

// plainBoard and plainObject encode through encoding/json's reflection: the
// reference the hand-written encoders must match byte for byte.
type plainObject Object

type plainBoard struct {
	Objects []*plainObject      `json:"objects"`
	History map[string]*History `json:"history"`
}

func FuzzBoardJSON(f *testing.F) {
	f.Add("s1", "pen", "", "#112233", "", "hello <b> & \u2028 \x01 \xff", 2.5, 0.0, 1e-7, 3, true)
	f.Add("", "", "ellipse", "#000", "#fff", "", 0.0, 12.0, 1e21, 0, false)
	f.Fuzz(func(t *testing.T, owner, tool, shape, color, fill, text string, width, size, coord float64, npoints int, hidden bool) {
		if coord != coord || coord > 1e300 || coord < -1e300 {
			return // NaN and infinities are refused before they reach a board
		}
		o := &Object{ID: uuid.MustParse("11111111-2222-4333-8444-555555555555"), Kind: ObjectStroke, Owner: owner,
			Seq: int64(npoints), Hidden: hidden, Tool: tool, Shape: shape, Color: color, Fill: fill, Width: width,
			Parts: npoints % 7, From: [2]float64{coord, 0}, At: [2]float64{0, -coord}, Text: text, Size: size}
		for i := range npoints % 50 {
			o.Points = append(o.Points, Point{X: coord * float64(i), Y: -coord, T: int64(i), Pressure: 0.5})
		}
		b := &Board{Objects: []*Object{o, nil, {ID: o.ID, Color: text}}, History: map[string]*History{
			owner: {Undo: []Action{{Op: ActionAdd, Objects: []uuid.UUID{o.ID}}}}}}
		got, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		ref := plainBoard{History: b.History}
		for _, o := range b.Objects {
			ref.Objects = append(ref.Objects, (*plainObject)(o))
		}
		want, err := json.Marshal(ref)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("hand-written encoding differs:\n got %s\nwant %s", got, want)
		}
	})
}

// TestSnapshotIsJSONMarshal holds the hand-assembled snapshot to what
// encoding/json makes of the same state.
func TestSnapshotIsJSONMarshal(t *testing.T) {
	full := fullLesson(t)
	for _, st := range []*State{NewState(), {}, newLive(t, "ann").st, full.st} {
		got, err := st.MarshalSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("snapshot differs from json.Marshal:\n got %s\nwant %s", got, want)
		}
	}
}

// decidedPayload reports whether an event carries the payload of the command
// it was decided from: the payload itself, or for a group's chat line a copy
// whose members are the group's, whatever the command said.
func decidedPayload(s *State, ev Event, pl Payload) bool {
	said, ok := pl.(*GroupChatPosted)
	if !ok {
		return ev.Payload == pl
	}
	stored, ok := ev.Payload.(*GroupChatPosted)
	g := s.Group(said.Group)
	return ok && g != nil && stored.Group == said.Group && stored.Text == said.Text && slices.Equal(stored.Members, g.Members)
}
