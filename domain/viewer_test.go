package domain

import "testing"

// TestViewer: a WHEP player joins and leaves as a viewer, and is listed as
// one; it may do nothing else, and the floor is never given to it.
func TestViewer(t *testing.T) {
	p := newPlay(t)
	p.must(teacher, RoleTeacher, &ParticipantJoined{Name: "Tina"})
	p.teacher(&LessonStarted{})
	const hall = "viewer-1a2b3c4d-1"
	p.must(hall, RoleViewer, &ParticipantJoined{Name: "Hallway screen"})
	if pt := p.st.Participants[hall]; pt == nil || pt.Role != RoleViewer || !pt.Present || pt.Name != "Hallway screen" {
		t.Fatalf("the viewer is %+v", pt)
	}
	for _, c := range []Payload{&ChatPosted{Text: "hi"}, &HandRaised{}, &LessonEnded{}, &RecordingStarted{},
		&SlideChanged{Slide: Slide{Page: 1}}} {
		p.refuse(CodeForbidden, hall, RoleViewer, c)
	}
	p.refuseTeacher(CodeInvalid, &FloorGranted{Participant: hall})
	p.refuse(CodeConflict, hall, RoleStudent, &ParticipantJoined{Name: "Sneaky"})
	p.must(hall, RoleViewer, &ParticipantLeft{})
	if p.st.Participants[hall].Present {
		t.Fatal("the viewer is present after leaving")
	}
}
