package lti_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"classroom/web"
	"classroom/web/lti"
)

// TestRosterAPI: the roster a teacher's launch fetched is the teacher's to
// read at GET /api/lessons/{id}/roster, under the participant ids the
// members join with; a student may not read it.
func TestRosterAPI(t *testing.T) {
	r := startRig(t, "127.0.0.1", func(r *rig, tool *lti.Tool) http.Handler {
		return web.NewHandler(web.Config{Store: r.store, Tokens: r.tokens, Logger: quiet(), LTI: tool.Handler()})
	})
	r.addUser("t-1", "Grace Hopper", roleInstructor)
	r.addUser("s-1", "Ada Lovelace", roleLearner)
	r.addMessage("rl", message{kind: "LtiResourceLinkRequest", resourceLink: "rl-1", title: "Photosynthesis"})
	r.p.members = []user{{id: "t-1", name: "Grace Hopper", roles: []string{roleInstructor}},
		{id: "s-1", name: "Ada Lovelace", roles: []string{roleLearner}},
		{id: "s-2", name: "Never Came", roles: []string{roleLearner}}}
	read := func(launch *http.Response, body string) (int, map[string]string) {
		t.Helper()
		loc := launch.Header.Get("Location")
		lesson, tok, _ := strings.Cut(strings.TrimPrefix(loc, "/lessons/"), "#token=")
		req, _ := http.NewRequest(http.MethodGet, r.srv.URL+"/api/lessons/"+lesson+"/roster", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Members []struct{ Participant, Name, Role string }
		}
		json.NewDecoder(resp.Body).Decode(&out)
		names := map[string]string{}
		for _, m := range out.Members {
			names[m.Participant] = m.Name + "/" + m.Role
		}
		return resp.StatusCode, names
	}
	status, names := read(r.launch("t-1", "rl"))
	if status != http.StatusOK || len(names) != 3 || names[lti.Participant(r.p.srv.URL, "s-2")] != "Never Came/student" ||
		names[lti.Participant(r.p.srv.URL, "t-1")] != "Grace Hopper/teacher" {
		t.Fatalf("the teacher's roster: %d %v", status, names)
	}
	if status, _ := read(r.launch("s-1", "rl")); status != http.StatusForbidden {
		t.Fatalf("a student reading the roster: %d", status)
	}
}
