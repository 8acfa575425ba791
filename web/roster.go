package web

import (
	"net/http"

	"classroom/domain"
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
	members, err := a.store.(eventstore.LTI).Roster(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Members []rosterJSON `json:"members"`
	}{Members: make([]rosterJSON, 0, len(members))}
	for _, m := range members {
		out.Members = append(out.Members, rosterJSON(m))
	}
	a.reply(w, http.StatusOK, out)
}
