package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/domain/timeline"
	"classroom/eventstore"
)

// rosterJSON is a course's member as the lesson's roster shows it.
type rosterJSON struct {
	Participant string      `json:"participant"`
	Name        string      `json:"name"`
	Role        domain.Role `json:"role"`
}

// roster gives the teacher the roster of the course the lesson was
// launched from (LTI Names and Role Provisioning): every enrolled member,
// under the participant id they join with, so that those who never came
// can be told from those who did. Empty for a lesson no platform opened.
func (a *API) roster(w http.ResponseWriter, r *http.Request) {
	id, err := a.teacherPath(r, "reads the roster")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	members, err := a.courseRoster(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Members []rosterJSON `json:"members"`
	}{Members: make([]rosterJSON, 0, len(members))}
	for _, m := range members {
		out.Members = append(out.Members, rosterJSON{Participant: m.Participant, Name: m.Name, Role: m.Role})
	}
	a.reply(w, http.StatusOK, out)
}

// Gradebook sends a lesson's attendance to the gradebook of the learning
// platform it was launched from (web/lti's Tool).
type Gradebook interface {
	// SendAttendance scores each student of the course's roster: 1 for
	// the participants in present, 0 for the others; it returns how many
	// scores it sent.
	SendAttendance(ctx context.Context, lesson uuid.UUID, present []string) (int, error)
}

// gradebook sends, when the teacher asks, the attendance the teacher gives
// (the participant ids of those who came) to the platform's gradebook.
func (a *API) gradebook(w http.ResponseWriter, r *http.Request) {
	id, err := a.teacherPath(r, "sends attendance to the gradebook")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var body struct {
		Present []string `json:"present"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		a.fail(w, r, err)
		return
	}
	sent, err := a.cfg.Gradebook.SendAttendance(r.Context(), id, body.Present)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, map[string]int{"sent": sent})
}

// enrolledStudents lists the students of the course an LTI launch opened the
// lesson from (its roster), for the attendance report; none for a lesson no
// platform opened or a store that keeps no rosters.
func (a *API) enrolledStudents(ctx context.Context, lesson uuid.UUID) ([]timeline.Member, error) {
	members, err := a.courseRoster(ctx, lesson)
	if err != nil {
		return nil, fmt.Errorf("read the course's roster: %w", err)
	}
	var students []timeline.Member
	for _, m := range members {
		if m.Role == domain.RoleStudent {
			students = append(students, timeline.Member{ID: m.Participant, Name: m.Name, Role: m.Role})
		}
	}
	return students, nil
}

// courseRoster is the roster of the course an LTI launch opened the lesson
// from; none for a lesson no platform opened or a store that keeps no
// rosters.
func (a *API) courseRoster(ctx context.Context, lesson uuid.UUID) ([]eventstore.RosterMember, error) {
	lti, ok := a.store.(eventstore.LTI)
	if !ok {
		return nil, nil
	}
	return lti.Roster(ctx, lesson)
}
