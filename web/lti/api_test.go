package lti_test

import (
	"crypto/rsa"
	"encoding/json"
	"io"
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
	teacherLaunch, launchBody := r.launch("t-1", "rl")
	status, names := read(teacherLaunch, launchBody)
	if status != http.StatusOK || len(names) != 3 || names[lti.Participant(r.p.srv.URL, "s-2")] != "Never Came/student" ||
		names[lti.Participant(r.p.srv.URL, "t-1")] != "Grace Hopper/teacher" {
		t.Fatalf("the teacher's roster: %d %v", status, names)
	}
	// The attendance report lists the course's students who never came,
	// as absent (nobody joined this lesson), and not its teachers.
	lesson, tok, _ := strings.Cut(strings.TrimPrefix(teacherLaunch.Header.Get("Location"), "/lessons/"), "#token=")
	resp, err := http.Get(r.srv.URL + "/api/lessons/" + lesson + "/export?format=attendance.json&access_token=" + tok)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var report struct {
		Participants []struct {
			ID, Name string
			Absent   bool
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&report); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the attendance report: %d %v", resp.StatusCode, err)
	}
	absent := map[string]bool{}
	for _, p := range report.Participants {
		absent[p.Name] = p.Absent
	}
	if len(report.Participants) != 2 || !absent["Ada Lovelace"] || !absent["Never Came"] {
		t.Fatalf("the attendance report lists %+v, want the two students, absent", report.Participants)
	}
	if status, _ := read(r.launch("s-1", "rl")); status != http.StatusForbidden {
		t.Fatalf("a student reading the roster: %d", status)
	}
}

// TestAttendanceToGradebook: when the teacher asks, the attendance goes to
// the platform's gradebook (Assignment and Grade Services): one column for
// the lesson, made once, and a score for each student of the roster.
func TestAttendanceToGradebook(t *testing.T) {
	r := startRig(t, "127.0.0.1", func(r *rig, tool *lti.Tool) http.Handler {
		return web.NewHandler(web.Config{Store: r.store, Tokens: r.tokens, Logger: quiet(), LTI: tool.Handler(), Gradebook: tool})
	})
	r.addUser("t-1", "Grace Hopper", roleInstructor)
	r.addUser("s-1", "Ada Lovelace", roleLearner)
	r.addMessage("rl", message{kind: "LtiResourceLinkRequest", resourceLink: "rl-1", title: "Photosynthesis"})
	r.addMessage("plain", message{kind: "LtiResourceLinkRequest", resourceLink: "rl-2", title: "No gradebook"})
	r.p.members = []user{{id: "t-1", name: "Grace Hopper", roles: []string{roleInstructor}},
		{id: "s-1", name: "Ada Lovelace", roles: []string{roleLearner}},
		{id: "s-2", name: "Never Came", roles: []string{roleLearner}}}
	send := func(launch *http.Response, present ...string) (int, string) {
		t.Helper()
		lesson, tok, _ := strings.Cut(strings.TrimPrefix(launch.Header.Get("Location"), "/lessons/"), "#token=")
		body, _ := json.Marshal(map[string]any{"present": present})
		req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/api/lessons/"+lesson+"/gradebook", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	teacher, _ := r.launch("t-1", "rl")
	came := lti.Participant(r.p.srv.URL, "s-1")
	for range 2 {
		if status, body := send(teacher, came); status != http.StatusOK || !strings.Contains(body, `"sent":2`) {
			t.Fatalf("attendance to the gradebook: %d %s", status, body)
		}
	}
	if len(r.p.lineItems) != 1 || r.p.lineItems[0]["label"] != "Attendance: Photosynthesis" || r.p.lineItems[0]["resourceLinkId"] != "rl-1" {
		t.Fatalf("gradebook columns %v, want one for the lesson", r.p.lineItems)
	}
	if got := r.p.scores["1"]; len(got) != 2 || got["s-1"] != 1 || got["s-2"] != 0 {
		t.Fatalf("scores %v, want s-1 present and s-2 absent", got)
	}
	student, _ := r.launch("s-1", "rl")
	if status, _ := send(student); status != http.StatusForbidden {
		t.Fatalf("a student sending attendance: %d", status)
	}
	r.p.tamper = func(c map[string]any) *rsa.PrivateKey {
		delete(c, "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint")
		return nil
	}
	plain, _ := r.launch("t-1", "plain")
	if status, body := send(plain, came); status != http.StatusConflict || !strings.Contains(body, "no gradebook") {
		t.Fatalf("attendance for a lesson without a gradebook: %d %s", status, body)
	}
	if len(r.p.lineItems) != 1 {
		t.Fatalf("a refused request made a gradebook column")
	}
}
