package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// sampleEvents returns one valid event of every kind, with optional fields
// both set and left out across them.
func sampleEvents() []Event {
	tm := time.Date(2024, 3, 1, 9, 15, 30, 123456000, time.UTC)
	ev := func(seq int64, actor string, role Role, p Payload) Event {
		return Event{ID: id(fmt.Sprint("sample-", seq)), Lesson: id("lesson"), Seq: seq, Version: EventVersion,
			Actor: actor, Role: role, Time: tm.Add(time.Duration(seq) * time.Millisecond), Payload: p}
	}
	return []Event{
		ev(1, "", RoleSystem, &LessonCreated{Title: "Fractions <&> \"quotes\" ½"}),
		ev(2, teacher, RoleTeacher, &ParticipantJoined{Name: "Tina"}),
		ev(3, teacher, RoleTeacher, &LessonStarted{}),
		ev(0, ann, RoleStudent, &ParticipantLeft{}), // not stored yet: no seq
		ev(5, teacher, RoleTeacher, &DrawingPermitted{Allowed: true}),
		ev(6, teacher, RoleTeacher, &DrawingPermitted{Participant: ann}),
		ev(7, ann, RoleStudent, &StrokeDrawn{Object: id("s"), Slide: Slide{Deck: id("deck"), Page: 2}, Tool: ToolHighlighter,
			Color: "#ffcc0080", Width: 12.75, Points: []Point{{X: -1e6, Y: 1e6, T: 0, Pressure: 0}, {X: 1e-7, Y: math.Copysign(0, -1), T: MaxPointMillis, Pressure: 1}}}),
		ev(8, ann, RoleStudent, &StrokeDrawn{Object: id("s"), Slide: Slide{Deck: id("deck"), Page: 2}, Part: 1, Points: line(3, 5)}),
		ev(9, teacher, RoleTeacher, &ShapeAdded{Object: id("sh"), Shape: ShapeEllipse, From: [2]float64{-1.5, 2}, To: [2]float64{3, 4e5},
			Color: "#000000", Width: 1, Fill: "#ABCDEF"}),
		ev(10, teacher, RoleTeacher, &ShapeAdded{Object: id("sh2"), Slide: Slide{Page: 3}, Shape: ShapeArrow, Color: "#000000", Width: 0.5}),
		ev(11, teacher, RoleTeacher, &TextAdded{Object: id("tx"), At: [2]float64{0.25, 100}, Text: "line 1\nline 2\t\u2028", Color: "#123abc", Size: 18}),
		ev(12, teacher, RoleTeacher, &ObjectsErased{Slide: Slide{Page: 3}, Objects: []uuid.UUID{id("sh2"), id("tx")}}),
		ev(13, teacher, RoleTeacher, &BoardUndone{Slide: Slide{Page: 3}}),
		ev(14, teacher, RoleTeacher, &BoardRedone{Slide: Slide{Page: 3}}),
		ev(15, teacher, RoleTeacher, &BoardCleared{Slide: Slide{Deck: id("deck"), Page: 999}}),
		ev(16, teacher, RoleTeacher, &DeckAdded{Deck: id("deck"), Name: "Chapter 1.pdf", Pages: 1000}),
		ev(17, teacher, RoleTeacher, &SlideChanged{Slide: Slide{Deck: id("deck"), Page: 1}}),
		ev(18, ann, RoleStudent, &HandRaised{}),
		ev(19, teacher, RoleTeacher, &HandLowered{Participant: ann}),
		ev(20, teacher, RoleTeacher, &FloorGranted{Participant: bob}),
		ev(21, bob, RoleStudent, &FloorRevoked{Participant: bob}),
		ev(22, bob, RoleStudent, &ChatPosted{Text: "emoji 👩‍🏫 and </script>"}),
		ev(23, teacher, RoleTeacher, &RecordingStarted{}),
		ev(24, teacher, RoleTeacher, &RecordingStopped{}),
		ev(25, teacher, RoleTeacher, &LessonEnded{}),
		ev(26, bob, RoleStudent, &ParticipantLeft{Reason: LeftAbsent}),
		ev(27, teacher, RoleTeacher, &LobbyChanged{On: true}),
		ev(28, teacher, RoleTeacher, &LessonLocked{}),
		ev(29, cat, RoleStudent, &ParticipantWaiting{Name: "Cat <&>"}),
		ev(30, teacher, RoleTeacher, &ParticipantAdmitted{}),
		ev(31, teacher, RoleTeacher, &ParticipantAdmitted{Participant: cat}),
		ev(32, teacher, RoleTeacher, &ParticipantDenied{Participant: cat}),
		ev(33, teacher, RoleTeacher, &ParticipantRemoved{Participant: bob}),
		ev(34, teacher, RoleTeacher, &ParticipantRemoved{Participant: ann, KeepOpen: true}),
		ev(35, teacher, RoleTeacher, &MediaMuted{Audio: true}),
		ev(36, teacher, RoleTeacher, &MediaMuted{Participant: ann, Audio: true, Video: true}),
		ev(37, ann, RoleStudent, &MediaUnmuted{Video: true}),
		ev(38, teacher, RoleTeacher, &UnmuteAsked{Participant: ann}),
		ev(39, teacher, RoleTeacher, &ChatPermitted{}),
		ev(40, "", RoleSystem, &LessonCreated{Title: "With a lobby", Lobby: true}),
		ev(41, teacher, RoleTeacher, &PollAsked{Poll: id("poll"), Question: "2+2?", Choices: []string{"3", "4"}, Correct: []int{1}}),
		ev(42, ann, RoleStudent, &PollAnswered{Poll: id("poll"), Choices: []int{1}}),
		ev(43, teacher, RoleTeacher, &PollClosed{Poll: id("poll")}),
		ev(44, teacher, RoleTeacher, &PollResultsShown{Poll: id("poll"), Counts: []int{0, 1}}),
		ev(45, teacher, RoleTeacher, &GroupsFormed{Groups: []GroupPlan{{ID: id("g1"), Name: "Blue", Members: []string{ann}}}, Seconds: 600}),
		ev(46, teacher, RoleTeacher, &GroupJoined{Group: id("g1")}),
		ev(47, ann, RoleStudent, &GroupChatPosted{Group: id("g1"), Text: "over here </script>", Members: []string{ann}}),
		ev(48, teacher, RoleTeacher, &GroupLeft{}),
		ev(49, teacher, RoleTeacher, &GroupsMessaged{Text: "two minutes"}),
		ev(50, teacher, RoleTeacher, &GroupsRecalled{Seconds: 30}),
		ev(51, teacher, RoleTeacher, &GroupsEnded{}),
		ev(52, teacher, RoleTeacher, &GroupBoardShown{Group: id("g1")}),
	}
}

func TestEveryKindHasAPayload(t *testing.T) {
	seen := map[Kind]bool{}
	for _, k := range allKinds {
		if seen[k] {
			t.Fatalf("%s listed twice", k)
		}
		seen[k] = true
		p := newPayload(k)
		if p == nil || p.Kind() != k {
			t.Fatalf("newPayload(%s) = %#v", k, p)
		}
	}
	if len(allKinds) != 44 {
		t.Fatalf("%d kinds", len(allKinds))
	}
	sampled := map[Kind]bool{}
	for _, e := range sampleEvents() {
		sampled[e.Kind()] = true
	}
	for _, k := range allKinds {
		if !sampled[k] {
			t.Errorf("no sample event of kind %s", k)
		}
	}
	if newPayload("") != nil || newPayload("lesson.deleted") != nil {
		t.Fatal("newPayload of an unknown kind is not nil")
	}
}

func TestEventJSONRoundTrip(t *testing.T) {
	events := append(sampleEvents(), fullLesson(t).log...)
	for _, e := range events {
		t.Run(fmt.Sprint(e.Kind(), "/", e.Seq), func(t *testing.T) {
			if err := e.Validate(); err != nil {
				t.Fatalf("sample is invalid: %v", err)
			}
			b1, err := e.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			viaJSON, err := json.Marshal(e)
			if err != nil || !bytes.Equal(viaJSON, b1) {
				t.Fatalf("json.Marshal gives %s, %v", viaJSON, err)
			}
			d, err := DecodeEvent(b1)
			if err != nil {
				t.Fatalf("DecodeEvent(%s): %v", b1, err)
			}
			b2, err := d.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b1, b2) {
				t.Fatalf("encodings differ:\n%s\n%s", b1, b2)
			}
			if d.ID != e.ID || d.Lesson != e.Lesson || d.Seq != e.Seq || d.Version != e.Version ||
				d.Actor != e.Actor || d.Role != e.Role || !d.Time.Equal(e.Time) || d.Time.Location() != time.UTC {
				t.Fatalf("envelope %+v, want %+v", d, e)
			}
			if !reflect.DeepEqual(d.Payload, e.Payload) {
				t.Fatalf("payload %#v, want %#v", d.Payload, e.Payload)
			}
			// The store keeps the payload body apart: it is the "data" of the event.
			data, err := EncodePayload(e.Payload)
			if err != nil {
				t.Fatal(err)
			}
			var w struct{ Data json.RawMessage }
			if err := json.Unmarshal(b1, &w); err != nil || !bytes.Equal(w.Data, data) {
				t.Fatalf("EncodePayload %s, data %s", data, w.Data)
			}
			p, err := DecodePayload(e.Kind(), data)
			if err != nil || !reflect.DeepEqual(p, e.Payload) {
				t.Fatalf("DecodePayload: %#v, %v", p, err)
			}
		})
	}
}

// TestGroupChatEventGolden pins the stored form of a group's chat line, as
// TestStrokeEventGolden does a stroke's.
func TestGroupChatEventGolden(t *testing.T) {
	e := Event{ID: uuid.MustParse("11111111-2222-4333-8444-555555555555"), Lesson: uuid.MustParse("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"),
		Seq: 7, Version: 1, Actor: "ann", Role: RoleStudent, Time: time.Date(2026, 12, 7, 9, 15, 30, 123456000, time.UTC),
		Payload: &GroupChatPosted{Group: uuid.MustParse("12345678-9abc-4def-8123-456789abcdef"), Text: "x = 2?", Members: []string{"ann", "bob"}}}
	const golden = `{"v":1,"id":"11111111-2222-4333-8444-555555555555","lesson":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",` +
		`"seq":7,"kind":"group.chat.posted","actor":"ann","role":"student","time":"2026-12-07T09:15:30.123456Z",` +
		`"data":{"group":"12345678-9abc-4def-8123-456789abcdef","text":"x = 2?","members":["ann","bob"]}}`
	b, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != golden {
		t.Fatalf("group chat event encodes as\n%s\nwant\n%s", b, golden)
	}
	d, err := DecodeEvent([]byte(golden))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Payload, e.Payload) {
		t.Fatalf("golden decodes as %+v", d.Payload)
	}
}

// TestStrokeEventGolden pins the stored form of an event. If it fails, the
// format of every stored lesson has changed: that needs a new EventVersion
// and a decoder for the old one, not a new golden string.
func TestStrokeEventGolden(t *testing.T) {
	e := Event{
		ID:      uuid.MustParse("11111111-2222-4333-8444-555555555555"),
		Lesson:  uuid.MustParse("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"),
		Seq:     42,
		Version: 1,
		Actor:   "ann",
		Role:    RoleStudent,
		Time:    time.Date(2024, 3, 1, 9, 15, 30, 123456000, time.UTC),
		Payload: &StrokeDrawn{
			Object: uuid.MustParse("0f0e0d0c-0b0a-4908-8706-050403020100"),
			Slide:  Slide{Deck: uuid.MustParse("12345678-9abc-4def-8123-456789abcdef"), Page: 2},
			Tool:   ToolHighlighter,
			Color:  "#ffcc00",
			Width:  2.5,
			Points: []Point{
				{X: 10, Y: 20.5, T: 0, Pressure: 0.5},
				{X: -3.25, Y: 1e-7, T: 16, Pressure: 1},
				{X: 1e6, Y: 0.1, T: 3600000, Pressure: 0},
			},
		},
	}
	const golden = `{"v":1,"id":"11111111-2222-4333-8444-555555555555","lesson":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",` +
		`"seq":42,"kind":"stroke.drawn","actor":"ann","role":"student","time":"2024-03-01T09:15:30.123456Z",` +
		`"data":{"object":"0f0e0d0c-0b0a-4908-8706-050403020100","slide":{"deck":"12345678-9abc-4def-8123-456789abcdef","page":2},` +
		`"part":0,"tool":"highlighter","color":"#ffcc00","width":2.5,` +
		`"points":[[10,20.5,0,0.5],[-3.25,1e-7,16,1],[1000000,0.1,3600000,0]]}}`
	b, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != golden {
		t.Fatalf("stroke event encodes as\n%s\nwant\n%s", b, golden)
	}
	d, err := DecodeEvent([]byte(golden))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Payload, e.Payload) || d.ID != e.ID || !d.Time.Equal(e.Time) || d.Seq != 42 {
		t.Fatalf("golden decodes as %+v", d)
	}

	// A later segment carries no style: the fields are left out, not zero.
	seg, err := EncodePayload(&StrokeDrawn{Object: id("s"), Part: 3, Points: []Point{{X: 1.5, Y: 2, T: 40, Pressure: 0.5}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"object":"` + id("s").String() + `","slide":{"deck":"00000000-0000-0000-0000-000000000000","page":0},"part":3,"points":[[1.5,2,40,0.5]]}`
	if string(seg) != want {
		t.Fatalf("segment encodes as\n%s\nwant\n%s", seg, want)
	}
}

// goodChat is a valid chat event in its stable form, to break in tests.
const goodChat = `{"v":1,"id":"11111111-2222-4333-8444-555555555555","lesson":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",` +
	`"seq":3,"kind":"chat.posted","actor":"ann","role":"student","time":"2024-03-01T09:00:00Z","data":{"text":"hi"}}`

const goodStrokeData = `{"object":"0f0e0d0c-0b0a-4908-8706-050403020100","slide":{"deck":"00000000-0000-0000-0000-000000000000","page":0},` +
	`"part":0,"tool":"pen","color":"#000000","width":1,"points":[[1,2,3,0.5]]}`

func TestDecodeEventRefuses(t *testing.T) {
	if _, err := DecodeEvent([]byte(goodChat)); err != nil {
		t.Fatalf("the good chat event is refused: %v", err)
	}
	repl := func(old, new string) string {
		if !strings.Contains(goodChat, old) {
			t.Fatalf("%q is not in the good event", old)
		}
		return strings.Replace(goodChat, old, new, 1)
	}
	stroke := func(points string) string {
		s := repl(`"kind":"chat.posted"`, `"kind":"stroke.drawn"`)
		return strings.Replace(s, `{"text":"hi"}`, strings.Replace(goodStrokeData, `[[1,2,3,0.5]]`, points, 1), 1)
	}
	padded := func(n int) string { return goodChat + strings.Repeat(" ", n-len(goodChat)) }

	tests := []struct{ name, in string }{
		{"empty", ""},
		{"not JSON", "nope"},
		{"null", "null"},
		{"array", "[]"},
		{"string", `"event"`},
		{"truncated", goodChat[:len(goodChat)-1]},
		{"unknown kind", repl(`"chat.posted"`, `"chat.deleted"`)},
		{"no kind", repl(`"kind":"chat.posted",`, ``)},
		{"unknown payload field", repl(`{"text":"hi"}`, `{"text":"hi","bold":true}`)},
		{"payload field of the wrong type", repl(`{"text":"hi"}`, `{"text":5}`)},
		{"payload of the wrong type", repl(`{"text":"hi"}`, `[1]`)},
		{"payload null", repl(`{"text":"hi"}`, `null`)},
		{"no payload", repl(`,"data":{"text":"hi"}`, ``)},
		{"invalid payload", repl(`{"text":"hi"}`, `{"text":""}`)},
		{"payload too long", repl(`{"text":"hi"}`, `{"text":"`+strings.Repeat("a", MaxChatRunes+1)+`"}`)},
		{"leave for an unknown reason", strings.Replace(repl(`{"text":"hi"}`, `{"reason":"bored"}`), `"chat.posted"`, `"participant.left"`, 1)},
		{"trailing data", goodChat + `{}`},
		{"trailing garbage", goodChat + ` x`},
		{"trailing brace", goodChat + `}`},
		{"two events", goodChat + "\n" + goodChat},
		{"no id", repl(`"id":"11111111-2222-4333-8444-555555555555",`, ``)},
		{"nil id", repl(`11111111-2222-4333-8444-555555555555`, uuid.Nil.String())},
		{"malformed id", repl(`11111111-2222-4333-8444-555555555555`, `11111111`)},
		{"no lesson", repl(`"lesson":"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",`, ``)},
		{"no version", repl(`"v":1,`, ``)},
		{"version 0", repl(`"v":1`, `"v":0`)},
		{"future version", repl(`"v":1`, fmt.Sprintf(`"v":%d`, EventVersion+1))},
		{"version as string", repl(`"v":1`, `"v":"1"`)},
		{"seq as string", repl(`"seq":3`, `"seq":"3"`)},
		{"unknown role", repl(`"student"`, `"headmaster"`)},
		{"no role", repl(`"role":"student",`, ``)},
		{"no time", repl(`"time":"2024-03-01T09:00:00Z",`, ``)},
		{"malformed time", repl(`2024-03-01T09:00:00Z`, `yesterday`)},
		{"zero time", repl(`2024-03-01T09:00:00Z`, `0001-01-01T00:00:00Z`)},
		{"actor too long", repl(`"actor":"ann"`, `"actor":"`+strings.Repeat("a", MaxIDBytes+1)+`"`)},
		{"fractional point time", stroke(`[[1,2,3.5,0.5]]`)},
		{"point time beyond 2^40", stroke(`[[1,2,1099511627777,0.5]]`)},
		{"point time beyond an hour", stroke(`[[1,2,3600001,0.5]]`)},
		{"point off the board", stroke(`[[1000001,2,3,0.5]]`)},
		{"point of strings", stroke(`[["1",2,3,0.5]]`)},
		{"point as object", stroke(`[{"x":1}]`)},
		{"number out of float range", stroke(`[[1e400,2,3,0.5]]`)},
		{"oversized", padded(MaxEncodedEventBytes + 1)},
		{"much oversized", goodChat + strings.Repeat(" ", 10*MaxEventBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := DecodeEvent([]byte(tt.in))
			if err == nil {
				t.Fatalf("accepted as %+v", e)
			}
			var de *Error
			if !errors.As(err, &de) || de.Code != CodeInvalid {
				t.Fatalf("got %T %v, want a *Error with code invalid", err, err)
			}
			if !reflect.DeepEqual(e, Event{}) {
				t.Fatalf("a refused event is not zero: %+v", e)
			}
		})
	}

	// Right at the size limit, and with a valid stroke, it is fine.
	for _, in := range []string{padded(MaxEncodedEventBytes), stroke(`[[1,2,3,0.5],[1e6,-1e6,3600000,1]]`)} {
		if _, err := DecodeEvent([]byte(in)); err != nil {
			t.Errorf("DecodeEvent(%.80s...): %v", in, err)
		}
	}
}

func TestDecodeEventNormalises(t *testing.T) {
	// Another time zone becomes UTC; JSON escapes and whitespace disappear.
	in := strings.Replace(goodChat, `"2024-03-01T09:00:00Z"`, `"2024-03-01T10:00:00.5+01:00"`, 1)
	in = strings.Replace(in, `{"text":"hi"}`, " {\n\t\"text\" : \"h\\u0069\" } ", 1)
	e, err := DecodeEvent([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if e.Time.Location() != time.UTC || !e.Time.Equal(time.Date(2024, 3, 1, 9, 0, 0, 5e8, time.UTC)) {
		t.Fatalf("time %v", e.Time)
	}
	b, _ := e.MarshalJSON()
	want := strings.Replace(goodChat, `09:00:00Z`, `09:00:00.5Z`, 1)
	if string(b) != want {
		t.Fatalf("re-encoded as\n%s\nwant\n%s", b, want)
	}
}

func TestDecodePayload(t *testing.T) {
	refused := []struct {
		name string
		kind Kind
		data string
	}{
		{"unknown kind", "chat.deleted", `{"text":"hi"}`},
		{"no kind", "", `{}`},
		{"no data", KindChatPosted, ``},
		{"unknown field", KindChatPosted, `{"text":"hi","x":1}`},
		{"unknown field of an empty payload", KindHandRaised, `{"x":1}`},
		{"nested unknown field", KindSlideChanged, `{"slide":{"deck":"00000000-0000-0000-0000-000000000000","page":1,"zoom":2}}`},
		{"second value", KindChatPosted, `{"text":"hi"} {"text":"again"}`},
		{"trailing garbage", KindChatPosted, `{"text":"hi"}x`},
		{"trailing number", KindLessonStarted, `{} 1`},
		{"wrong type", KindDeckAdded, `{"deck":"00000000-0000-0000-0000-000000000000","name":"x","pages":"3"}`},
		{"not JSON", KindLessonEnded, `{`},
		{"array for object", KindLessonEnded, `[]`},
		{"bad point", KindStrokeDrawn, strings.Replace(goodStrokeData, `3,0.5`, `3.25,0.5`, 1)},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			p, err := DecodePayload(tt.kind, []byte(tt.data))
			if ErrorCode(err) != CodeInvalid || p != nil {
				t.Fatalf("got %#v, %v; want nil and invalid", p, err)
			}
		})
	}
	// Whitespace around the value is fine, and decoding does not validate.
	p, err := DecodePayload(KindChatPosted, []byte(" \n{\"text\":\"\"}\n "))
	if err != nil || p.(*ChatPosted).Text != "" {
		t.Fatalf("got %#v, %v", p, err)
	}
	p, err = DecodePayload(KindStrokeDrawn, []byte(goodStrokeData))
	if err != nil || p.(*StrokeDrawn).Points[0] != (Point{X: 1, Y: 2, T: 3, Pressure: 0.5}) {
		t.Fatalf("got %#v, %v", p, err)
	}
}

func TestEncodePayload(t *testing.T) {
	if _, err := EncodePayload(nil); ErrorCode(err) != CodeInvalid {
		t.Fatalf("nil payload: %v", err)
	}
	// 1000 points with long numbers: valid, but too big to store.
	huge := pen("s", whiteboard, line(MaxStrokePoints, 0))
	for i := range huge.Points {
		huge.Points[i] = Point{X: 123456.78901234567, Y: -98765.43210987654, T: MaxPointMillis - 1000 + int64(i), Pressure: 0.12345678901234567}
	}
	if err := huge.validate(); err != nil {
		t.Fatalf("the huge stroke is invalid: %v", err)
	}
	if _, err := EncodePayload(huge); ErrorCode(err) != CodeInvalid {
		t.Fatalf("huge payload: %v", err)
	}
	b, err := EncodePayload(&ChatPosted{Text: "a<b"})
	if err != nil || string(b) != `{"text":"a\u003cb"}` {
		t.Fatalf("chat encodes as %s, %v", b, err)
	}
	for _, k := range allKinds {
		if b, err := EncodePayload(newPayload(k)); err != nil || !json.Valid(b) {
			t.Errorf("zero %s encodes as %s, %v", k, b, err)
		}
	}
}

func TestEventValidate(t *testing.T) {
	good := sampleEvents()[6] // a stroke
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mut  func(e *Event)
	}{
		{"no id", func(e *Event) { e.ID = uuid.Nil }},
		{"no lesson", func(e *Event) { e.Lesson = uuid.Nil }},
		{"version 0", func(e *Event) { e.Version = 0 }},
		{"future version", func(e *Event) { e.Version = EventVersion + 1 }},
		{"no role", func(e *Event) { e.Role = "" }},
		{"unknown role", func(e *Event) { e.Role = "Teacher" }},
		{"actor too long", func(e *Event) { e.Actor = strings.Repeat("a", MaxIDBytes+1) }},
		{"no time", func(e *Event) { e.Time = time.Time{} }},
		{"no payload", func(e *Event) { e.Payload = nil }},
		{"invalid payload", func(e *Event) { e.Payload = &ChatPosted{} }},
	}
	for _, tt := range tests {
		e := good
		tt.mut(&e)
		if err := e.Validate(); ErrorCode(err) != CodeInvalid {
			t.Errorf("%s: got %v, want invalid", tt.name, err)
		}
	}
	var none Event
	if none.Kind() != "" {
		t.Fatal("an event without payload has a kind")
	}
	if _, err := none.MarshalJSON(); ErrorCode(err) != CodeInvalid {
		t.Fatalf("MarshalJSON without payload: %v", err)
	}
	if _, err := json.Marshal(none); err == nil {
		t.Fatal("json.Marshal of an event without payload succeeded")
	}
}

// TestPointJSON checks that the hand-written point encoder writes exactly
// what encoding/json writes for the same four numbers, and that decoding
// gives back the same bits.
func TestPointJSON(t *testing.T) {
	floats := []float64{
		0, math.Copysign(0, -1), 1, -1, 0.5, 0.1, 1.0 / 3, -2.0 / 3, 123456.78901234567, -98765.43210987654,
		1e-6, 9.99999e-7, 1e-7, -1e-9, 1.5e-10, 5e-324, 1e20, 99999999999999999999, 1e21, -1e21, 1.7976931348623157e308,
		MaxCoordinate, -MaxCoordinate, math.Nextafter(1, 2), math.Nextafter(1e21, 0), 12345678.5e-13,
	}
	times := []int64{0, 1, 16, 999999999, 1 << 40, -(1 << 40), 1<<40 - 1}
	for i, f := range floats {
		for j, tm := range times {
			g := floats[(i+j+1)%len(floats)]
			pt := Point{X: f, Y: -g, T: tm, Pressure: g}
			got, err := pt.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal([4]float64{pt.X, pt.Y, float64(pt.T), pt.Pressure})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%+v encodes as %s, encoding/json writes %s", pt, got, want)
			}
			var back Point
			if err := back.UnmarshalJSON(got); err != nil {
				t.Fatalf("%s: %v", got, err)
			}
			if math.Float64bits(back.X) != math.Float64bits(pt.X) || math.Float64bits(back.Y) != math.Float64bits(pt.Y) ||
				back.T != pt.T || math.Float64bits(back.Pressure) != math.Float64bits(pt.Pressure) {
				t.Fatalf("%s decodes as %+v, want %+v", got, back, pt)
			}
		}
	}

	for _, bad := range []string{`[1,2,3.5,0]`, `[1,2,1099511627777,0]`, `[1,2,-1099511627777,0]`, `[1,2,1e300,0]`,
		`{"x":1}`, `"1,2,3,4"`, `[1,2,"3",4]`, `[1,2,3,true]`, `[1,2,3,4`} {
		var p Point
		if err := p.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%s decodes as %+v", bad, p)
		}
	}
	// Numbers JSON cannot hold are written as 0; validation keeps them out.
	nan, _ := Point{X: math.NaN(), Y: math.Inf(-1), T: 1, Pressure: math.Inf(1)}.MarshalJSON()
	if string(nan) != "[0,0,1,0]" {
		t.Fatalf("NaN and infinities encode as %s", nan)
	}
	var p Point
	if err := json.Unmarshal([]byte(`[1.5, -2e3, 1e3, 0.25]`), &p); err != nil || p != (Point{X: 1.5, Y: -2000, T: 1000, Pressure: 0.25}) {
		t.Fatalf("got %+v, %v", p, err)
	}
}
