package domain

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// fullLesson plays a lesson that uses every kind of event and leaves undo and
// redo history, overrides, hands and a floor in the state along the way.
func fullLesson(tb testing.TB) *play {
	tb.Helper()
	p := newLive(tb, ann, bob, cat)
	addDeck(p)
	p.teacher(&RecordingStarted{})
	p.teacher(&SlideChanged{Slide: deckPage(1)})
	p.teacher(&DrawingPermitted{Allowed: true})
	p.teacher(&DrawingPermitted{Participant: cat, Allowed: false})
	p.teacher(pen("t1", deckPage(1), line(5, 0)))
	p.teacher(segment("t1", deckPage(1), 1, []Point{{X: 0.1, Y: 1e-7, T: 9, Pressure: 0.25}, {X: -12.5, Y: 3e5, T: 12, Pressure: 1}}))
	p.student(ann, pen("a1", deckPage(1), line(3, 100)))
	p.student(ann, rect("a2", deckPage(1)))
	p.student(bob, label("b1", deckPage(1), "x = ¾"))
	p.student(ann, erase(deckPage(1), "a1"))
	p.student(ann, &BoardUndone{Slide: deckPage(1)})
	p.student(ann, &BoardUndone{Slide: deckPage(1)})
	p.student(ann, &BoardRedone{Slide: deckPage(1)})
	p.student(ann, &HandRaised{})
	p.student(bob, &HandRaised{})
	p.student(cat, &HandRaised{})
	p.teacher(&FloorGranted{Participant: bob})
	p.student(cat, &HandLowered{Participant: cat})
	p.student(bob, &ChatPosted{Text: "Can I show my answer?"})
	p.teacher(&ChatPosted{Text: "Go ahead <b>&</b>"})
	p.teacher(&BoardCleared{Slide: deckPage(1)})
	p.teacher(&BoardUndone{Slide: deckPage(1)})
	p.teacher(&SlideChanged{Slide: Slide{Page: 2}})
	p.teacher(dot("t2", Slide{Page: 2}))
	p.student(bob, &FloorRevoked{Participant: bob})
	p.student(cat, &ParticipantLeft{})
	p.student(cat, &ParticipantJoined{Name: "Cat again"})
	p.teacher(&RecordingStopped{})
	p.teacher(&MediaMuted{Participant: bob, Audio: true})
	p.teacher(&UnmuteAsked{Participant: bob})
	p.student(bob, &MediaUnmuted{Audio: true})
	p.teacher(&MediaMuted{Audio: true, Video: true})
	p.teacher(&PollAsked{Poll: id("poll"), Question: "2+2?", Choices: []string{"3", "4"}, Correct: []int{1}})
	p.student(ann, &PollAnswered{Poll: id("poll"), Choices: []int{1}})
	p.teacher(&PollClosed{Poll: id("poll")})
	p.teacher(&PollResultsShown{Poll: id("poll"), Counts: []int{0, 1}})
	p.teacher(&GroupsFormed{Groups: []GroupPlan{{ID: id("blue"), Name: "Blue", Members: []string{ann}},
		{ID: id("red"), Name: "Red", Members: []string{bob}}}, Seconds: 600})
	p.student(ann, pen("g1", GroupBoard(id("blue")), line(3, 0)))
	p.student(ann, &GroupChatPosted{Group: id("blue"), Text: "I start"})
	p.teacher(&GroupJoined{Group: id("red")})
	p.teacher(&GroupChatPosted{Group: id("red"), Text: "How is it going?"})
	p.teacher(&GroupLeft{})
	p.teacher(&GroupsMessaged{Text: "Two minutes"})
	p.teacher(&GroupsRecalled{Seconds: 30})
	p.teacher(&GroupsEnded{})
	p.teacher(&GroupBoardShown{Group: id("blue")})
	p.teacher(&ChatPermitted{Allowed: false})
	p.teacher(&LobbyChanged{On: true})
	p.student("dan", &ParticipantWaiting{Name: "Dan"})
	p.student("eve", &ParticipantWaiting{Name: "Eve"})
	p.student("fay", &ParticipantWaiting{Name: "Fay"})
	p.teacher(&ParticipantDenied{Participant: "eve"})
	p.teacher(&ParticipantAdmitted{Participant: "fay"})
	p.teacher(&ParticipantAdmitted{})
	p.student("dan", &ParticipantJoined{Name: "Dan"})
	p.teacher(&LessonLocked{Locked: true})
	p.teacher(&ParticipantRemoved{Participant: cat, KeepOpen: true})
	p.teacher(&LobbyChanged{On: false})
	p.teacher(&ParticipantRemoved{Participant: "dan"})
	p.student(ann, &ParticipantLeft{})
	p.teacher(&LessonEnded{})
	p.student(bob, &ParticipantLeft{})
	return p
}

// allKinds lists every event kind.
var allKinds = []Kind{
	KindLessonCreated, KindLessonStarted, KindLessonEnded, KindParticipantJoined, KindParticipantLeft,
	KindDrawingPermitted, KindStrokeDrawn, KindShapeAdded, KindTextAdded, KindObjectsErased,
	KindBoardUndone, KindBoardRedone, KindBoardCleared, KindDeckAdded, KindSlideChanged,
	KindHandRaised, KindHandLowered, KindFloorGranted, KindFloorRevoked, KindChatPosted,
	KindRecordingStarted, KindRecordingStopped,
	KindLobbyChanged, KindLessonLocked, KindParticipantWaiting, KindParticipantAdmitted, KindParticipantDenied,
	KindParticipantRemoved, KindMediaMuted, KindMediaUnmuted, KindUnmuteAsked, KindChatPermitted,
	KindPollAsked, KindPollAnswered, KindPollClosed, KindPollResultsShown,
	KindGroupsFormed, KindGroupJoined, KindGroupLeft, KindGroupsMessaged, KindGroupsRecalled, KindGroupsEnded,
	KindGroupBoardShown, KindGroupChatPosted,
}

func TestFullLessonUsesEveryKind(t *testing.T) {
	p := fullLesson(t)
	seen := map[Kind]bool{}
	for _, e := range p.log {
		seen[e.Kind()] = true
	}
	for _, k := range allKinds {
		if !seen[k] {
			t.Errorf("the full lesson has no %s event", k)
		}
	}
	if p.st.Status != StatusEnded || p.st.Seq != int64(len(p.log)) {
		t.Fatalf("status %s seq %d of %d events", p.st.Status, p.st.Seq, len(p.log))
	}
}

func TestReplayIsDeterministic(t *testing.T) {
	p := fullLesson(t)
	want := p.st.Hash()
	for i := range 2 {
		if got := replay(p.log).Hash(); got != want {
			t.Fatalf("replay %d: hash %s, want %s", i, got, want)
		}
	}
	// The function Apply and the method are the same fold.
	s := NewState()
	for _, e := range p.log {
		s = Apply(s, e)
	}
	if s.Hash() != want {
		t.Fatal("Apply and State.Apply disagree")
	}
	// So is a replay of the log as a store keeps it: encoded, then decoded.
	decoded := make([]Event, len(p.log))
	for i, e := range p.log {
		b, err := e.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if decoded[i], err = DecodeEvent(b); err != nil {
			t.Fatalf("event %d: %v", e.Seq, err)
		}
	}
	if replay(decoded).Hash() != want {
		t.Fatal("a replay of the decoded log differs")
	}
	// And as a store reads it back: the envelope beside the payload body.
	stored := make([]Event, len(p.log))
	for i, e := range p.log {
		data, err := EncodePayload(e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := DecodePayload(e.Kind(), data)
		if err != nil {
			t.Fatal(err)
		}
		stored[i] = e
		stored[i].Payload = pl
	}
	if replay(stored).Hash() != want {
		t.Fatal("a replay of the stored payloads differs")
	}
}

func TestHashSeesEveryChange(t *testing.T) {
	p := fullLesson(t)
	seen := map[string]int64{}
	s := NewState()
	seen[s.Hash()] = 0
	for _, e := range p.log {
		s.Apply(e)
		h := s.Hash()
		if prev, ok := seen[h]; ok {
			t.Fatalf("the state after event %d hashes like the state after event %d", e.Seq, prev)
		}
		seen[h] = e.Seq
	}
	if len(s.Hash()) != 64 {
		t.Fatalf("hash %q is not hex SHA-256", s.Hash())
	}
}

func TestSnapshotAtEveryPoint(t *testing.T) {
	p := fullLesson(t)
	want := p.st.Hash()
	for cut := range len(p.log) + 1 {
		head := replay(p.log[:cut])
		snap, err := head.MarshalSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		s, err := RestoreSnapshot(snap)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		again, _ := s.MarshalSnapshot()
		if !bytes.Equal(snap, again) {
			t.Fatalf("cut %d: the snapshot does not survive a restore:\n%s\n%s", cut, snap, again)
		}
		if s.Hash() != head.Hash() {
			t.Fatalf("cut %d: restored hash differs", cut)
		}
		for _, e := range p.log[cut:] {
			s.Apply(e)
		}
		if got := s.Hash(); got != want {
			t.Fatalf("cut %d: snapshot + tail hashes %s, straight replay %s", cut, got, want)
		}
	}
}

// TestSnapshotThenDecide checks that Decide gives the same answers on a
// restored state as on the state it came from: the board index that is not
// part of the snapshot is rebuilt.
func TestSnapshotThenDecide(t *testing.T) {
	p := newLive(t, ann)
	p.teacher(&DrawingPermitted{Allowed: true})
	p.student(ann, pen("a1", whiteboard, line(2, 0)))
	p.teacher(dot("t1", whiteboard))
	p.st = p.st.Clone()
	p.student(ann, segment("a1", whiteboard, 1, line(2, 5)))
	p.refuseStudent(CodeForbidden, ann, segment("t1", whiteboard, 1, line(2, 5)))
	p.refuseStudent(CodeConflict, ann, dot("t1", whiteboard))
	p.student(ann, erase(whiteboard, "a1"))
	p.student(ann, &BoardUndone{Slide: whiteboard})
	p.wantVisible(whiteboard, "a1", "t1")
	if p.st.Hash() != replay(p.log).Hash() {
		t.Fatal("state played through a clone differs from a replay")
	}
}

func TestRestoreSnapshot(t *testing.T) {
	for _, bad := range []string{"", "nope", "[]", `{"seq":"x"}`, `{"boards":{"k":{"objects":[{"points":[[1,2,3.5,0]]}]}}}`} {
		if _, err := RestoreSnapshot([]byte(bad)); ErrorCode(err) != CodeInvalid {
			t.Errorf("RestoreSnapshot(%q): got %v, want invalid", bad, err)
		}
	}
	s, err := RestoreSnapshot([]byte(`{"participants":null,"boards":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Participants == nil || s.Boards == nil {
		t.Fatal("a restored state has nil maps")
	}
	if s.Hash() != NewState().Hash() {
		t.Fatal("an empty snapshot does not restore to NewState")
	}
	// A restored state can be applied to at once.
	ev, _ := NewLesson(id("l"), id("e"), "x", t0)
	ev.Seq = 1
	s.Apply(ev)
	if s.Status != StatusCreated {
		t.Fatal("could not apply to a restored state")
	}
}

func TestCloneIsDeep(t *testing.T) {
	p := fullLesson(t)
	orig := p.st
	want := orig.Hash()

	mutations := []struct {
		name string
		mut  func(c *State)
	}{
		{"participant", func(c *State) { c.Participants[ann].Name = "changed"; c.Participants[cat].Drawing = nil }},
		{"override", func(c *State) { *c.Participants[cat].Drawing = true }},
		{"new participant", func(c *State) { c.Participants["new"] = &Participant{ID: "new"} }},
		{"deck", func(c *State) { c.Decks[0].Name = "changed" }},
		{"board object", func(c *State) {
			b := c.Board(deckPage(1))
			b.Objects[0].Points[0].X = 42
			b.Objects[0].Hidden = !b.Objects[0].Hidden
			b.Objects = b.Objects[:1]
		}},
		{"board history", func(c *State) {
			h := c.Board(deckPage(1)).History[ann]
			h.Undo[0].Objects[0] = uuid.Nil
			h.Redo = append(h.Redo, Action{Op: ActionAdd})
		}},
		{"new board", func(c *State) { c.Boards["x"] = &Board{} }},
		{"hands and chat", func(c *State) {
			c.Hands = append(c.Hands, "x")
			c.Chat[0].Text = "changed"
			c.Chat = append(c.Chat, ChatMessage{})
		}},
		{"apply", func(c *State) {
			c.Apply(Event{Seq: 999, Actor: ann, Payload: &ChatPosted{Text: "after"}})
			c.Apply(Event{Seq: 1000, Actor: teacher, Payload: &BoardUndone{Slide: deckPage(1)}})
			c.Apply(Event{Seq: 1001, Actor: teacher, Payload: &StrokeDrawn{Object: id("t1"), Slide: deckPage(1), Part: 2, Points: line(1, 50)}})
		}},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			c := orig.Clone()
			if c.Hash() != orig.Hash() {
				t.Fatal("the clone hashes differently")
			}
			m.mut(c)
			if c.Hash() == orig.Hash() {
				t.Fatal("the mutation did not change the clone")
			}
			if orig.Hash() != want {
				t.Fatal("mutating the clone changed the original")
			}
		})
	}
	// And the other way round.
	c := orig.Clone()
	ch := c.Hash()
	orig.Board(deckPage(1)).Objects[0].Points[0].Y = -42
	orig.Participants[bob].Present = true
	if c.Hash() != ch {
		t.Fatal("mutating the original changed the clone")
	}
}

// TestApplyIsTotal applies events that Decide would refuse. Apply must not
// panic, must advance Seq and, for these, must change nothing else.
func TestApplyIsTotal(t *testing.T) {
	live := func() *State {
		p := newLive(t, ann, bob)
		addDeck(p)
		p.teacher(&DrawingPermitted{Allowed: true})
		p.teacher(dot("t1", whiteboard))
		p.student(ann, pen("a1", whiteboard, line(2, 0)))
		p.student(ann, erase(whiteboard, "a1"))
		p.student(ann, &BoardUndone{Slide: whiteboard})
		p.student(ann, &BoardUndone{Slide: whiteboard})
		p.teacher(erase(whiteboard, "t1"))
		p.teacher(label("text", whiteboard, "x"))
		p.student(bob, &HandRaised{})
		p.teacher(&FloorGranted{Participant: ann})
		return p.st
	}
	ended := func() *State {
		p := newLive(t, ann)
		p.teacher(&LessonEnded{})
		return p.st
	}
	ev := func(actor string, role Role, pl Payload) Event {
		return Event{ID: id("ev"), Lesson: id("lesson"), Version: 1, Actor: actor, Role: role, Time: t0, Payload: pl}
	}

	tests := []struct {
		name  string
		state func() *State
		event Event
	}{
		{"undo with an empty undo stack", live, ev(ann, RoleStudent, &BoardUndone{Slide: whiteboard})},
		{"redo with an empty redo stack", live, ev(teacher, RoleTeacher, &BoardRedone{Slide: whiteboard})},
		{"stroke part for a missing object", live, ev(ann, RoleStudent, segment("nope", whiteboard, 1, line(1, 0)))},
		{"stroke part out of order", live, ev(ann, RoleStudent, segment("a1", whiteboard, 3, line(1, 0)))},
		{"stroke part for someone else's stroke", live, ev(bob, RoleStudent, segment("a1", whiteboard, 1, line(1, 0)))},
		{"stroke part for a text", live, ev(teacher, RoleTeacher, segment("text", whiteboard, 1, line(1, 0)))},
		{"stroke part beyond MaxObjectPoints", live, ev(ann, RoleStudent, segment("a1", whiteboard, 1, line(MaxObjectPoints, 0)))},
		{"stroke part 0 for an existing object", live, ev(ann, RoleStudent, pen("t1", whiteboard, line(1, 0)))},
		{"shape with an existing id", live, ev(teacher, RoleTeacher, rect("a1", whiteboard))},
		{"erase of unknown objects", live, ev(teacher, RoleTeacher, erase(whiteboard, "x", "y"))},
		{"erase of hidden objects", live, ev(teacher, RoleTeacher, erase(whiteboard, "a1", "t1"))},
		{"floor revoke of a non-holder", live, ev(teacher, RoleTeacher, &FloorRevoked{Participant: bob})},
		{"floor revoke with nobody holding it", ended, ev(teacher, RoleTeacher, &FloorRevoked{Participant: ann})},
		{"hand lowered that is not raised", live, ev(teacher, RoleTeacher, &HandLowered{Participant: ann})},
		{"hand raised twice", live, ev(bob, RoleStudent, &HandRaised{})},
		{"hand raised by the floor holder", live, ev(ann, RoleStudent, &HandRaised{})},
		{"duplicate deck", live, ev(teacher, RoleTeacher, &DeckAdded{Deck: id("deck"), Name: "other", Pages: 9})},
		{"permission for an unknown participant", live, ev(teacher, RoleTeacher, &DrawingPermitted{Participant: "x", Allowed: true})},
		{"unknown participant leaves", live, ev("x", RoleStudent, &ParticipantLeft{})},
		{"second lesson.created", live, Event{ID: id("ev"), Lesson: id("other"), Version: 1, Role: RoleSystem, Time: t0, Payload: &LessonCreated{Title: "Other"}}},
		{"lesson.started when live", live, ev(teacher, RoleTeacher, &LessonStarted{})},
		{"lesson.started when ended", ended, ev(teacher, RoleTeacher, &LessonStarted{})},
		{"lesson.started of an unknown lesson", NewState, ev(teacher, RoleTeacher, &LessonStarted{})},
		{"recording.stopped when not recording", live, ev(teacher, RoleTeacher, &RecordingStopped{})},
		{"no payload", live, Event{Seq: 5}},
		{"no payload, unknown lesson", NewState, Event{}},
		{"zero state", func() *State { return &State{} }, ev(teacher, RoleTeacher, &FloorRevoked{Participant: ann})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.state()
			want := s.Clone()
			e := tt.event
			e.Seq = s.Seq + 7
			want.Seq = e.Seq
			Apply(s, e)
			if s.Seq != e.Seq {
				t.Fatalf("seq %d, want %d", s.Seq, e.Seq)
			}
			if s.Hash() != want.Hash() {
				a, _ := s.MarshalSnapshot()
				b, _ := want.MarshalSnapshot()
				t.Fatalf("the event changed more than Seq:\ngot  %s\nwant %s", a, b)
			}
			_ = s.Clone()
		})
	}
}

// TestApplyNeverPanics applies every kind of event, refused or not, to states
// at every point of a lesson, in every role, with the Seq going up, staying or
// going back. It checks only that nothing panics, that Seq never goes back,
// and that Hash and Clone still work.
func TestApplyNeverPanics(t *testing.T) {
	p := fullLesson(t)
	var payloads []Payload
	for _, e := range p.log {
		payloads = append(payloads, e.Payload)
	}
	payloads = append(payloads,
		segment("t1", deckPage(1), 5, line(1, 0)), segment("nope", Slide{Page: 9}, 1, line(1, 0)),
		&BoardUndone{Slide: Slide{Page: 8}}, &BoardRedone{Slide: deckPage(2)}, erase(Slide{Page: 7}, "t1"),
		&BoardCleared{Slide: Slide{Page: 6}}, &FloorGranted{Participant: "ghost"}, &HandLowered{Participant: "ghost"},
		&ObjectsErased{Slide: deckPage(1)}, &StrokeDrawn{Object: id("t1"), Slide: deckPage(1), Part: 2},
		&StrokeDrawn{}, &ShapeAdded{}, &TextAdded{}, &DeckAdded{}, &ChatPosted{}, &DrawingPermitted{Participant: ann},
	)
	actors := []struct {
		id   string
		role Role
	}{{teacher, RoleTeacher}, {ann, RoleStudent}, {"ghost", RoleStudent}, {"", RoleSystem}, {ann, RoleTeacher}}
	for _, cut := range []int{0, 5, 30, len(p.log)} {
		base := replay(p.log[:cut])
		for i, pl := range payloads {
			for _, a := range actors {
				for _, dseq := range []int64{1, -3} {
					s := base.Clone()
					seq := s.Seq
					func() {
						defer func() {
							if r := recover(); r != nil {
								t.Fatalf("cut %d payload %d (%s) by %s seq %+d: panic %v", cut, i, pl.Kind(), a.id, dseq, r)
							}
						}()
						s.Apply(Event{Seq: seq + dseq, Actor: a.id, Role: a.role, Time: t0, Payload: pl})
						_ = s.Hash()
						_ = s.Clone()
					}()
					if s.Seq != max(seq, seq+dseq) {
						t.Fatalf("seq went from %d to %d applying seq %d", seq, s.Seq, seq+dseq)
					}
				}
			}
		}
	}
}

func TestChatKeepsTheLastMessages(t *testing.T) {
	p := newLive(t, ann)
	s := p.st
	first := s.Seq + 1
	n := MaxChatMessagesKept + 25
	for i := range n {
		s.Apply(Event{Seq: first + int64(i), Actor: ann, Role: RoleStudent, Time: t0, Payload: &ChatPosted{Text: fmt.Sprint(i)}})
	}
	if len(s.Chat) != MaxChatMessagesKept {
		t.Fatalf("%d messages kept, want %d", len(s.Chat), MaxChatMessagesKept)
	}
	if s.Chat[0].Text != "25" || s.Chat[0].Seq != first+25 || s.Chat[len(s.Chat)-1].Text != fmt.Sprint(n-1) {
		t.Fatalf("kept %+v ... %+v", s.Chat[0], s.Chat[len(s.Chat)-1])
	}
}

func TestParticipantsKnownIsBounded(t *testing.T) {
	s := newPlay(t).st
	for i := range MaxParticipantsKnown + 3 {
		s.Apply(Event{Seq: int64(i) + 2, Actor: fmt.Sprint("p", i), Role: RoleStudent, Payload: &ParticipantJoined{Name: "P"}})
	}
	if len(s.Participants) != MaxParticipantsKnown {
		t.Fatalf("%d participants known", len(s.Participants))
	}
	_, err := Decide(s, Command{ID: id("c"), Actor: "one-more", Role: RoleStudent, Payload: &ParticipantJoined{Name: "X"}}, t0)
	if ErrorCode(err) != CodeConflict {
		t.Fatalf("join of a full lesson: %v", err)
	}
	// Someone already known may come back.
	if _, err := Decide(s, Command{ID: id("c"), Actor: "p7", Role: RoleStudent, Payload: &ParticipantJoined{Name: "X"}}, t0); err != nil {
		t.Fatalf("rejoin of a full lesson: %v", err)
	}
}

func TestBoardFullRefusesObjects(t *testing.T) {
	s := newLive(t).st
	b := s.board(whiteboard)
	for i := range MaxObjectsPerSlide {
		b.add(teacher, &Object{ID: uuid.NewSHA1(uuid.NameSpaceOID, fmt.Append(nil, i)), Kind: ObjectText})
	}
	if len(b.Objects) != MaxObjectsPerSlide {
		t.Fatalf("%d objects", len(b.Objects))
	}
	for _, pl := range []Payload{dot("x", whiteboard), rect("x", whiteboard), label("x", whiteboard, "x")} {
		_, err := Decide(s, Command{ID: id("c"), Actor: teacher, Role: RoleTeacher, Payload: pl}, t0)
		if ErrorCode(err) != CodeConflict {
			t.Fatalf("%s on a full board: %v", pl.Kind(), err)
		}
		s.Apply(Event{Seq: s.Seq + 1, Actor: teacher, Role: RoleTeacher, Payload: pl})
		if len(b.Objects) != MaxObjectsPerSlide {
			t.Fatalf("Apply of %s grew a full board", pl.Kind())
		}
	}
}

func TestVisible(t *testing.T) {
	b := &Board{Objects: []*Object{{ID: id("a")}, {ID: id("b"), Hidden: true}, {ID: id("c")}}}
	var got []uuid.UUID
	for _, o := range b.Visible() {
		got = append(got, o.ID)
	}
	if !slices.Equal(got, []uuid.UUID{id("a"), id("c")}) {
		t.Fatalf("visible %v", nameIDs(got))
	}
	if (&Board{}).Visible() != nil {
		t.Fatal("an empty board has visible objects")
	}
	if NewState().Board(whiteboard) != nil {
		t.Fatal("a new state has a board")
	}
}

func TestSlideKey(t *testing.T) {
	for _, tt := range []struct {
		s    Slide
		want string
	}{
		{Slide{}, "00000000-0000-0000-0000-000000000000/0"},
		{Slide{Page: 12}, "00000000-0000-0000-0000-000000000000/12"},
		{Slide{Deck: uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), Page: 3}, "6ba7b810-9dad-11d1-80b4-00c04fd430c8/3"},
	} {
		if got := tt.s.Key(); got != tt.want {
			t.Errorf("%+v.Key() = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestCreatedTimeIsKept(t *testing.T) {
	p := newPlay(t)
	if !p.st.Created.Equal(t0) || p.st.Title != "Fractions" || p.st.Lesson != id("lesson") {
		t.Fatalf("state %+v", p.st)
	}
	// The time survives a snapshot exactly.
	s := p.st.Clone()
	if !s.Created.Equal(t0) || s.Created.Location() != time.UTC {
		t.Fatalf("created %v", s.Created)
	}
}
