package domain

import (
	"reflect"
	"testing"
	"time"
)

// roster is the part of a state LeavesRoster speaks of.
type roster struct {
	Status                   Status
	Floor                    string
	Lobby, Locked            bool
	Waiting                  []Waiter
	Admitted, Removed        []string
	Participants             map[string]Participant // without Drawing and UnmuteAsked
	Breakout                 bool
	Open                     bool
	Recalled                 time.Time
	Recall                   int
	Members, Visitors, Names [][]string
}

func rosterOf(s *State) roster {
	r := roster{Status: s.Status, Floor: s.Floor, Lobby: s.Lobby, Locked: s.Locked, Waiting: s.Waiting,
		Admitted: s.Admitted, Removed: s.Removed, Participants: map[string]Participant{}}
	for id, p := range s.Participants {
		c := *p
		c.Drawing, c.UnmuteAsked = nil, false
		r.Participants[id] = c
	}
	if b := s.Breakout; b != nil {
		r.Breakout, r.Open, r.Recalled, r.Recall = true, b.Open, b.Recalled, b.Recall
		for _, g := range b.Groups {
			r.Members, r.Visitors = append(r.Members, g.Members), append(r.Visitors, g.Visitors)
			r.Names = append(r.Names, []string{g.ID.String(), g.Name})
		}
	}
	return r
}

// rosterLesson returns a live lesson with something in every part of the
// roster: a student on the floor, another muted, a lobby with a student waiting,
// one admitted and one removed, open breakout groups with a visitor.
func rosterLesson(t *testing.T) *State {
	t.Helper()
	s := &State{}
	tm := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, e := range []struct {
		actor string
		role  Role
		p     Payload
	}{
		{"", RoleSystem, &LessonCreated{Title: "Roster"}},
		{teacher, RoleTeacher, &ParticipantJoined{Name: "Tina"}},
		{teacher, RoleTeacher, &LessonStarted{}},
		{ann, RoleStudent, &ParticipantJoined{Name: "Ann"}},
		{bob, RoleStudent, &ParticipantJoined{Name: "Bob"}},
		{"eve", RoleStudent, &ParticipantJoined{Name: "Eve"}},
		{ann, RoleStudent, &HandRaised{}},
		{teacher, RoleTeacher, &FloorGranted{Participant: ann}},
		{teacher, RoleTeacher, &MediaMuted{Participant: bob, Audio: true}},
		{teacher, RoleTeacher, &ParticipantRemoved{Participant: "eve"}},
		{cat, RoleStudent, &ParticipantWaiting{Name: "Cat"}},
		{"dan", RoleStudent, &ParticipantWaiting{Name: "Dan"}},
		{teacher, RoleTeacher, &ParticipantAdmitted{Participant: "dan"}},
		{teacher, RoleTeacher, &GroupsFormed{Groups: []GroupPlan{{ID: id("g1"), Name: "Blue", Members: []string{ann}}}, Seconds: 600}},
		{teacher, RoleTeacher, &GroupJoined{Group: id("g1")}},
	} {
		s.Apply(Event{ID: id(string(e.p.Kind()) + e.actor), Lesson: id("lesson"), Seq: s.Seq + 1, Version: EventVersion,
			Actor: e.actor, Role: e.role, Time: tm.Add(time.Duration(s.Seq) * time.Second), Payload: e.p})
	}
	if s.Floor != ann || !s.Participants[bob].AudioMuted || !s.IsWaiting(cat) || len(s.Admitted) != 1 ||
		len(s.Removed) != 1 || s.Breakout == nil || !s.Breakout.Open || len(s.Breakout.Groups[0].Visitors) != 1 {
		t.Fatalf("the lesson's roster is not what the test needs: %+v", rosterOf(s))
	}
	return s
}

// TestLeavesRoster: an event of a kind LeavesRoster lists, folded into a
// lesson with something in every part of its roster, leaves the roster as
// it was; the kinds it does not list change it, there or in general.
func TestLeavesRoster(t *testing.T) {
	base := rosterLesson(t)
	want := rosterOf(base)
	listed := map[Kind]bool{}
	for _, e := range sampleEvents() {
		if !LeavesRoster(e.Kind()) {
			continue
		}
		listed[e.Kind()] = true
		s := base.Clone()
		e.Seq = s.Seq + 1
		s.Apply(e)
		if got := rosterOf(s); !reflect.DeepEqual(got, want) {
			t.Errorf("%s changed the roster:\n got %+v\nwant %+v", e.Kind(), got, want)
		}
	}
	if len(listed) != 24 {
		t.Errorf("%d sampled kinds leave the roster, want 24", len(listed))
	}
	for _, k := range []Kind{KindFloorGranted, KindMediaMuted, KindParticipantJoined, KindLessonEnded, KindGroupsRecalled, ""} {
		if LeavesRoster(k) {
			t.Errorf("%q leaves the roster", k)
		}
	}
}

// TestRosterCopy: a state's Roster holds its roster whole, and stays as it
// was whatever is folded into the state afterwards (each kind of event,
// one at a time, into a lesson with something in every part of its roster).
func TestRosterCopy(t *testing.T) {
	base := rosterLesson(t)
	whole := func(s *State) (roster, map[string]Participant) {
		ps := map[string]Participant{}
		for id, p := range s.Participants {
			c := *p
			if p.Drawing != nil {
				d := *p.Drawing
				c.Drawing = &d // compared by value, not by address
			}
			ps[id] = c
		}
		return rosterOf(s), ps
	}
	allowed := true
	base.Participants[bob].Drawing = &allowed
	wantRoster, wantPs := whole(base)
	if r := base.Roster(); r.Lesson != base.Lesson || r.Seq != base.Seq {
		t.Errorf("roster of lesson %v at %d, want %v at %d", r.Lesson, r.Seq, base.Lesson, base.Seq)
	}
	for _, e := range sampleEvents() {
		s := base.Clone()
		r := s.Roster()
		if gotRoster, gotPs := whole(r); !reflect.DeepEqual(gotRoster, wantRoster) || !reflect.DeepEqual(gotPs, wantPs) {
			t.Fatalf("the copy is not the roster:\n got %+v %+v\nwant %+v %+v", gotRoster, gotPs, wantRoster, wantPs)
		}
		e.Seq = s.Seq + 1
		s.Apply(e)
		if gotRoster, gotPs := whole(r); !reflect.DeepEqual(gotRoster, wantRoster) || !reflect.DeepEqual(gotPs, wantPs) {
			t.Errorf("%s folded into the state changed its roster's copy:\n got %+v %+v\nwant %+v %+v",
				e.Kind(), gotRoster, gotPs, wantRoster, wantPs)
		}
	}
}
