package domain

import (
	"strings"
	"testing"
)

// The tests in this file pin bugs that testing found and that were fixed:
// each states the property the package lacked.

// Whatever Decide accepts must survive the encodings the rest of the system
// puts it through: the event's JSON and the state's snapshot.
func TestRegressionStrokeTimeIsNotBounded(t *testing.T) {
	p := newLive(t)
	ev, err := p.do(teacher, RoleTeacher, pen("late", whiteboard, []Point{{T: 1 << 41, Pressure: 0.5}}))
	if err != nil {
		if ErrorCode(err) != CodeInvalid {
			t.Fatalf("refused with %v, want invalid", err)
		}
		return // fixed by refusing the point
	}
	b, err := ev.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	_, decodeErr := DecodeEvent(b)
	snap, err := p.st.MarshalSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	_, restoreErr := RestoreSnapshot(snap)
	if decodeErr != nil || restoreErr != nil {
		t.Fatalf("Decide accepts a point time of 2^41 ms, which Point.UnmarshalJSON refuses: "+
			"the stored event does not decode (%v) and the snapshot does not restore (%v), so Clone panics", decodeErr, restoreErr)
	}
}

// DecodePayload promises to refuse trailing data.
func TestRegressionDecodePayloadTrailingCloser(t *testing.T) {
	for _, tt := range []struct {
		kind Kind
		data string
	}{
		{KindLessonCreated, `{"title":"x"}}`},
		{KindChatPosted, `{"text":"hi"}]`},
		{KindHandRaised, `{} ]]]`},
	} {
		p, err := DecodePayload(tt.kind, []byte(tt.data))
		if err == nil {
			t.Fatalf("DecodePayload(%s, %#q) accepts the trailing closer as %#v "+
				"(json.Decoder.More reports false before ] and })", tt.kind, tt.data, p)
		}
		if ErrorCode(err) != CodeInvalid {
			t.Fatalf("DecodePayload(%#q): %v, want invalid", tt.data, err)
		}
	}
}

// A point is exactly four numbers.
func TestRegressionPointArity(t *testing.T) {
	for _, in := range []string{`[1,2,3]`, `[1]`, `[]`, `[1,2,3,0.5,9]`} {
		var p Point
		if err := p.UnmarshalJSON([]byte(in)); err == nil {
			t.Fatalf("Point.UnmarshalJSON(%s) accepts it as %+v: a [4]float64 target pads and truncates", in, p)
		}
	}
}

// Decide refuses with a *Error; it never panics.
func TestRegressionTypedNilPayload(t *testing.T) {
	p := newLive(t, ann)
	for _, pl := range []Payload{(*ChatPosted)(nil), (*StrokeDrawn)(nil), (*LessonStarted)(nil)} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Decide panics on a typed nil %T payload: %v", pl, r)
				}
			}()
			_, err := Decide(p.st, Command{ID: id("c"), Actor: teacher, Role: RoleTeacher, Payload: pl}, t0)
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("typed nil %T: %v, want invalid", pl, err)
			}
		}()
	}
}

// The size limit is one: an event the store accepts (EncodePayload) decodes
// with DecodeEvent, and an event DecodeEvent accepts re-encodes to something
// DecodeEvent accepts.
func TestRegressionEventSizeLimits(t *testing.T) {
	t.Run("stored payload near the limit", func(t *testing.T) {
		st := pen("big", whiteboard, line(MaxStrokePoints, 0))
		for i := range st.Points {
			st.Points[i] = Point{X: 123456.78901234567, Y: -98765.43210987654, T: MaxPointMillis, Pressure: 0.1234567}
		}
		base, err := EncodePayload(st)
		if err != nil {
			t.Fatal(err)
		}
		// Ten more digits of pressure add ten bytes a point: grow the payload
		// to just under the limit.
		for i := range (MaxEventBytes - 50 - len(base)) / 10 {
			st.Points[i].Pressure = 0.12345678901234567
		}
		data, err := EncodePayload(st)
		if err != nil || len(data) <= MaxEventBytes-100 {
			t.Fatalf("payload of %d bytes: %v", len(data), err)
		}
		ev := Event{ID: id("e"), Lesson: id("lesson"), Seq: 99, Version: 1, Actor: teacher, Role: RoleTeacher, Time: t0, Payload: st}
		b, err := ev.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeEvent(b); err != nil {
			t.Fatalf("EncodePayload accepts a payload of %d bytes, but DecodeEvent refuses the %d-byte event: %v",
				len(data), len(b), err)
		}
	})
	t.Run("canonical form over the limit", func(t *testing.T) {
		// Short numbers in, long numbers out: 1.099E12 is 1099000000000.
		pts := strings.TrimSuffix(strings.Repeat(`[-1.2345678e-6,-1.2345678e-6,1.099E12,0.12345678901234],`, MaxStrokePoints), ",")
		in := strings.Replace(goodChat, `"kind":"chat.posted"`, `"kind":"stroke.drawn"`, 1)
		in = strings.Replace(in, `{"text":"hi"}`, strings.Replace(goodStrokeData, `[[1,2,3,0.5]]`, "["+pts+"]", 1), 1)
		if len(in) > MaxEventBytes {
			t.Fatalf("the input is %d bytes", len(in))
		}
		e, err := DecodeEvent([]byte(in))
		if err != nil {
			return // fixed by refusing the input
		}
		b, _ := e.MarshalJSON()
		if _, err := DecodeEvent(b); err != nil {
			t.Fatalf("DecodeEvent accepts a %d-byte event whose canonical encoding of %d bytes it refuses: %v",
				len(in), len(b), err)
		}
	})
}

// Apply's doc: an event that makes no sense in the current state (which
// Decide would have refused) changes nothing but Seq.
func TestRegressionApplyOfRefusedEventsChangesState(t *testing.T) {
	live := func() *State {
		p := newLive(t, ann)
		p.teacher(dot("t1", whiteboard))
		return p.st
	}
	tests := []struct {
		name  string
		state func() *State
		event Event
	}{
		{"undo by someone with no history on the board", live, Event{Actor: ann, Payload: &BoardUndone{Slide: whiteboard}}},
		{"redo on a slide with no board", live, Event{Actor: teacher, Payload: &BoardRedone{Slide: Slide{Page: 5}}}},
		{"stroke part on a slide with no board", live, Event{Actor: teacher, Payload: segment("t1", Slide{Page: 5}, 1, line(1, 0))}},
		{"erase on a slide with no board", live, Event{Actor: teacher, Payload: erase(Slide{Page: 5}, "t1")}},
		{"lesson.ended of a lesson that does not exist", NewState, Event{Actor: teacher, Payload: &LessonEnded{}}},
		{"participant.joined of a lesson that does not exist", NewState, Event{Actor: ann, Role: RoleStudent, Payload: &ParticipantJoined{Name: "Ann"}}},
	}
	var broken []string
	for _, tt := range tests {
		s := tt.state()
		want := s.Clone()
		e := tt.event
		e.Seq = s.Seq + 1
		want.Seq = e.Seq
		s.Apply(e)
		if s.Hash() != want.Hash() {
			broken = append(broken, tt.name)
		}
	}
	if len(broken) > 0 {
		t.Fatalf("Apply changes more than Seq for %d refused events: %s", len(broken), strings.Join(broken, "; "))
	}
}
