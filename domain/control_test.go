package domain

import (
	"slices"
	"testing"
)

func TestLobby(t *testing.T) {
	p := newLive(t, ann)
	p.refuseStudent(CodeConflict, cat, &ParticipantWaiting{Name: "Cat"}) // no lobby: cat joins at once
	p.teacher(&LobbyChanged{On: true})
	p.refuseTeacher(CodeConflict, &LobbyChanged{On: true})

	// A newcomer waits; one who joined before comes back without waiting.
	_, err := p.do(cat, RoleStudent, &ParticipantJoined{Name: "Cat"})
	if ErrorCode(err) != CodeForbidden || ErrorReason(err) != ReasonWaiting {
		t.Fatalf("a newcomer's join: %v, want forbidden, waiting", err)
	}
	p.student(ann, &ParticipantLeft{})
	p.student(ann, &ParticipantJoined{Name: "Ann"})
	p.must("co", RoleTeacher, &ParticipantJoined{Name: "Co-teacher"}) // teachers never wait

	for _, w := range []string{cat, "dan", "eve"} {
		p.student(w, &ParticipantWaiting{Name: "Student " + w})
	}
	p.refuseStudent(CodeConflict, cat, &ParticipantWaiting{Name: "Cat"})
	p.refuse(CodeInvalid, "zed", RoleTeacher, &ParticipantWaiting{Name: "Zed"})
	if got := waiterIDs(p.st); !slices.Equal(got, []string{cat, "dan", "eve"}) {
		t.Fatalf("waiting %q, want arrival order", got)
	}
	// A waiting student is in no list of the lesson and may do nothing.
	if _, ok := p.st.Participants[cat]; ok {
		t.Fatal("a waiting student is a participant")
	}
	p.refuseStudent(CodeForbidden, cat, &ChatPosted{Text: "hello?"})

	p.teacher(&ParticipantDenied{Participant: "dan"})
	p.refuseTeacher(CodeNotFound, &ParticipantDenied{Participant: "dan"})
	p.teacher(&ParticipantAdmitted{Participant: "eve"})
	p.refuseTeacher(CodeNotFound, &ParticipantAdmitted{Participant: "eve"})
	if got := waiterIDs(p.st); !slices.Equal(got, []string{cat}) || !slices.Equal(p.st.Admitted, []string{"eve"}) {
		t.Fatalf("waiting %q, admitted %q", got, p.st.Admitted)
	}
	p.teacher(&ParticipantAdmitted{})
	p.refuseTeacher(CodeConflict, &ParticipantAdmitted{})
	p.refuseStudent(CodeConflict, cat, &ParticipantWaiting{Name: "Cat"}) // admitted: may join
	p.student(cat, &ParticipantJoined{Name: "Cat"})
	if !slices.Equal(p.st.Admitted, []string{"eve"}) {
		t.Fatalf("admitted %q after cat joined, want eve", p.st.Admitted)
	}
	// Denied, dan may knock again.
	p.student("dan", &ParticipantWaiting{Name: "Dan"})

	// Switched off, newcomers join at once; those waiting may join too.
	p.teacher(&LobbyChanged{On: false})
	p.student("dan", &ParticipantJoined{Name: "Dan"})
	p.student("fay", &ParticipantJoined{Name: "Fay"})
	if len(p.st.Waiting) != 0 {
		t.Fatalf("waiting %v after all joined", p.st.Waiting)
	}
	// A lesson created with its lobby on starts with it on.
	ev, err := NewLesson(id("l2"), id("e2"), "Lobby", t0)
	if err != nil {
		t.Fatal(err)
	}
	ev.Payload.(*LessonCreated).Lobby = true
	if !Apply(NewState(), ev).Lobby {
		t.Fatal("a lesson created with a lobby has none")
	}
}

func TestLock(t *testing.T) {
	p := newLive(t, ann)
	p.student(ann, &ParticipantLeft{})
	p.teacher(&LessonLocked{Locked: true})
	p.refuseTeacher(CodeConflict, &LessonLocked{Locked: true})
	_, err := p.do(cat, RoleStudent, &ParticipantJoined{Name: "Cat"})
	if ErrorReason(err) != ReasonLocked {
		t.Fatalf("a join into a locked lesson: %v, want reason locked", err)
	}
	p.teacher(&LobbyChanged{On: true})
	_, err = p.do(cat, RoleStudent, &ParticipantWaiting{Name: "Cat"})
	if ErrorReason(err) != ReasonLocked {
		t.Fatalf("waiting in a locked lesson: %v, want reason locked", err)
	}
	p.student(ann, &ParticipantJoined{Name: "Ann"}) // those who joined come back
	p.teacher(&LessonLocked{Locked: false})
	p.student(cat, &ParticipantWaiting{Name: "Cat"})
}

func TestRemove(t *testing.T) {
	p := newLive(t, ann, bob)
	p.student(ann, &HandRaised{})
	p.teacher(&FloorGranted{Participant: bob})
	p.refuseTeacher(CodeInvalid, &ParticipantRemoved{Participant: teacher})
	p.refuseTeacher(CodeNotFound, &ParticipantRemoved{Participant: cat})
	p.teacher(&ParticipantRemoved{Participant: bob})
	p.refuseTeacher(CodeConflict, &ParticipantRemoved{Participant: bob})
	if pt := p.st.Participants[bob]; pt.Present || p.st.Floor != "" || !p.st.Lobby || !p.st.IsRemoved(bob) {
		t.Fatalf("after removal: present %v, floor %q, lobby %v", pt.Present, p.st.Floor, p.st.Lobby)
	}
	for _, pl := range []Payload{&ParticipantJoined{Name: "Bob"}, &ParticipantWaiting{Name: "Bob"}} {
		_, err := p.do(bob, RoleStudent, pl)
		if ErrorReason(err) != ReasonRemoved {
			t.Fatalf("%s of a removed student: %v, want reason removed", pl.Kind(), err)
		}
	}
	p.refuseStudent(CodeForbidden, bob, &ChatPosted{Text: "still here?"})
	// A newcomer after a removal waits.
	if _, err := p.do(cat, RoleStudent, &ParticipantJoined{Name: "Cat"}); ErrorReason(err) != ReasonWaiting {
		t.Fatalf("a newcomer after a removal: %v, want reason waiting", err)
	}
	// Unless the teacher keeps the lesson open.
	p.teacher(&LobbyChanged{On: false})
	p.teacher(&ParticipantRemoved{Participant: ann, KeepOpen: true})
	if p.st.Lobby || slices.Contains(p.st.Hands, ann) {
		t.Fatalf("lobby %v, hands %q", p.st.Lobby, p.st.Hands)
	}
	p.student(cat, &ParticipantJoined{Name: "Cat"})
}

func TestMute(t *testing.T) {
	p := newLive(t, ann, bob, cat)
	p.student(cat, &ParticipantLeft{})
	p.refuseTeacher(CodeInvalid, &MediaMuted{Participant: ann})
	p.refuseTeacher(CodeInvalid, &MediaMuted{Participant: teacher, Audio: true})
	p.refuseTeacher(CodeNotFound, &MediaMuted{Participant: cat, Audio: true})
	p.teacher(&MediaMuted{Participant: ann, Audio: true})
	p.refuseTeacher(CodeConflict, &MediaMuted{Participant: ann, Audio: true})
	p.refuseStudent(CodeConflict, ann, &MediaUnmuted{Video: true})
	p.refuseStudent(CodeConflict, bob, &MediaUnmuted{Audio: true})
	p.teacher(&UnmuteAsked{Participant: ann})
	p.refuseTeacher(CodeConflict, &UnmuteAsked{Participant: ann})
	p.refuseTeacher(CodeConflict, &UnmuteAsked{Participant: bob})
	if !p.st.Participants[ann].UnmuteAsked {
		t.Fatal("the ask is not in the state")
	}
	p.student(ann, &MediaUnmuted{Audio: true})
	if pt := p.st.Participants[ann]; pt.AudioMuted || pt.UnmuteAsked {
		t.Fatalf("after unmuting: %+v", pt)
	}
	// Nobody turns another's microphone on, not even the teacher.
	p.teacher(&MediaMuted{Participant: bob, Video: true})
	p.refuseStudent(CodeConflict, ann, &MediaUnmuted{Video: true})
	p.refuseTeacher(CodeConflict, &MediaUnmuted{Video: true})

	// Everyone but the teacher, and only those present.
	p.teacher(&MediaMuted{Audio: true, Video: true})
	p.refuseTeacher(CodeConflict, &MediaMuted{Audio: true})
	for id, pt := range p.st.Participants {
		want := id == ann || id == bob
		if pt.AudioMuted != want || pt.VideoMuted != want {
			t.Errorf("%s: audio muted %v, video muted %v", id, pt.AudioMuted, pt.VideoMuted)
		}
	}
}

func TestChatSwitch(t *testing.T) {
	p := newLive(t, ann)
	p.refuseTeacher(CodeConflict, &ChatPermitted{Allowed: true})
	p.teacher(&ChatPermitted{Allowed: false})
	_, err := p.do(ann, RoleStudent, &ChatPosted{Text: "hi"})
	if ErrorCode(err) != CodeForbidden || ErrorMessage(err) != "the teacher has switched the chat off" {
		t.Fatalf("a student's chat while it is off: %v", err)
	}
	p.teacher(&ChatPosted{Text: "only me"})
	p.teacher(&ChatPermitted{Allowed: true})
	p.student(ann, &ChatPosted{Text: "hi"})
}

func waiterIDs(s *State) []string {
	var ids []string
	for _, w := range s.Waiting {
		ids = append(ids, w.ID)
	}
	return ids
}
