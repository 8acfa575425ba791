package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime/token"
	"classroom/web"
)

// operatorKey is the operator's key of the API under test.
const operatorKey = "the operator's own key"

type api struct {
	t      *testing.T
	store  eventstore.Store
	srv    *httptest.Server
	tokens *token.Keeper
	clock  time.Time
	// recordings is the server's recordings directory.
	recordings string
}

func newAPI(t *testing.T) *api { return newAPIWith(t, nil) }

// newAPIWith is newAPI on the store wrap returns (the SQLite store itself
// when wrap is nil).
func newAPIWith(t *testing.T, wrap func(*eventstore.SQLite) eventstore.Store) *api {
	t.Helper()
	db, err := eventstore.OpenSQLite(context.Background(), t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var store eventstore.Store = db
	if wrap != nil {
		store = wrap(db)
	}
	a := &api{t: t, store: store, clock: time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)}
	tokens, err := token.NewKeeper(bytes.Repeat([]byte("k"), 32), func() time.Time { return a.clock })
	if err != nil {
		t.Fatal(err)
	}
	a.tokens = tokens
	a.recordings = t.TempDir()
	a.srv = httptest.NewServer(web.NewHandler(web.Config{Store: store, Tokens: tokens, Recordings: a.recordings, OperatorKey: operatorKey,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    func() time.Time { a.clock = a.clock.Add(time.Minute); return a.clock }}))
	t.Cleanup(func() {
		a.srv.Close()
		store.Close()
	})
	return a
}

// do sends a request and decodes the JSON answer into out (when not nil).
func (a *api) do(method, path, contentType, body string, header http.Header, out any) *http.Response {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		a.t.Fatalf("%s %s: Content-Type %q, body %s", method, path, ct, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp
}

type lessonOut struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Created  time.Time `json:"created"`
	Ended    *time.Time
	LastSeq  int64 `json:"last_seq"`
	Teacher  *struct{ Token, URL string }
	Students *struct{ Token, URL string }
}

type errorOut struct {
	Error struct {
		Code    string `json:"code"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"error"`
}

func (a *api) lessons() int {
	list, err := a.store.Lessons(context.Background(), eventstore.ListOptions{})
	if err != nil {
		a.t.Fatal(err)
	}
	return len(list)
}

func TestCreateAndGetLesson(t *testing.T) {
	a := newAPI(t)
	var l lessonOut
	resp := a.do("POST", "/api/lessons", "application/json", `{"title":"Fractions, week 3"}`, nil, &l)
	if resp.StatusCode != http.StatusCreated || l.Title != "Fractions, week 3" || l.LastSeq != 1 || l.ID == "" {
		t.Fatalf("create: %d %+v", resp.StatusCode, l)
	}
	if loc := resp.Header.Get("Location"); loc != "/api/lessons/"+l.ID {
		t.Fatalf("Location %q", loc)
	}
	if l.Teacher == nil || l.Students == nil || !strings.Contains(l.Teacher.URL, "#token=") {
		t.Fatalf("links: %+v %+v", l.Teacher, l.Students)
	}
	// The links admit to this lesson, with the roles they say.
	for tok, role := range map[string]domain.Role{l.Teacher.Token: domain.RoleTeacher, l.Students.Token: domain.RoleStudent} {
		c, err := a.tokens.Verify(tok, mustUUID(t, l.ID))
		if err != nil || c.Role != role {
			t.Fatalf("link token: %+v, %v", c, err)
		}
	}
	var got lessonOut
	if resp := a.do("GET", "/api/lessons/"+l.ID, "", "", nil, &got); resp.StatusCode != 200 || got.ID != l.ID || got.Title != l.Title || got.Teacher != nil {
		t.Fatalf("get: %d %+v", resp.StatusCode, got)
	}
}

func TestListLessons(t *testing.T) {
	a := newAPI(t)
	var ids []string
	for _, title := range []string{"Monday", "Tuesday", "Wednesday"} {
		var l lessonOut
		a.do("POST", "/api/lessons", "application/json", `{"title":"`+title+`"}`, nil, &l)
		ids = append(ids, l.ID)
	}
	var page struct{ Lessons []lessonOut }
	operator := http.Header{"Authorization": {"Bearer " + operatorKey}}
	a.do("GET", "/api/lessons?limit=2", "", "", operator, &page)
	if len(page.Lessons) != 2 || page.Lessons[0].ID != ids[2] || page.Lessons[1].ID != ids[1] {
		t.Fatalf("first page: %+v", page.Lessons)
	}
	before := page.Lessons[1].Created.Format(time.RFC3339Nano)
	a.do("GET", "/api/lessons?limit=2&before="+before, "", "", operator, &page)
	if len(page.Lessons) != 1 || page.Lessons[0].ID != ids[0] {
		t.Fatalf("second page: %+v", page.Lessons)
	}
	// A visitor, even one holding a lesson's teacher's link, lists nothing.
	var l lessonOut
	a.do("POST", "/api/lessons", "application/json", `{"title":"Thursday"}`, nil, &l)
	for name, h := range map[string]http.Header{
		"no key":            nil,
		"a wrong key":       {"Authorization": {"Bearer not the operator's key"}},
		"a teacher's token": {"Authorization": {"Bearer " + l.Teacher.Token}},
	} {
		var e errorOut
		if resp := a.do("GET", "/api/lessons", "", "", h, &e); resp.StatusCode != http.StatusUnauthorized || e.Error.Code != "unauthorized" {
			t.Errorf("listing with %s: %d %+v, want 401 unauthorized", name, resp.StatusCode, e)
		}
	}
}

func TestRefusedRequests(t *testing.T) {
	a := newAPI(t)
	var l lessonOut
	a.do("POST", "/api/lessons", "application/json", `{"title":"Kept"}`, nil, &l)
	for _, tt := range []struct {
		name, method, path, ctype, body string
		status                          int
		code                            string
	}{
		{"malformed JSON", "POST", "/api/lessons", "application/json", `{"title":`, 400, "invalid"},
		{"unknown field", "POST", "/api/lessons", "application/json", `{"title":"x","teacher":"me"}`, 400, "invalid"},
		{"trailing data", "POST", "/api/lessons", "application/json", `{"title":"x"} {"title":"y"}`, 400, "invalid"},
		{"empty title", "POST", "/api/lessons", "application/json", `{"title":""}`, 400, "invalid"},
		{"long title", "POST", "/api/lessons", "application/json", `{"title":"` + strings.Repeat("é", 201) + `"}`, 400, "invalid"},
		{"not JSON", "POST", "/api/lessons", "text/plain", `{"title":"x"}`, 415, "invalid"},
		{"no content type", "POST", "/api/lessons", "", `{"title":"x"}`, 415, "invalid"},
		{"too large", "POST", "/api/lessons", "application/json", `{"title":"` + strings.Repeat("a", web.MaxBodyBytes) + `"}`, 413, "invalid"},
		{"bad id", "GET", "/api/lessons/nope", "", "", 400, "invalid"},
		{"unknown lesson", "GET", "/api/lessons/" + "0b9d0a5e-8a4c-4e59-a1f9-4f3c6e0e0e0e", "", "", 404, "not_found"},
		{"bad limit", "GET", "/api/lessons?limit=0", "", "", 400, "invalid"},
		{"bad before", "GET", "/api/lessons?before=yesterday", "", "", 400, "invalid"},
		{"unknown route", "GET", "/api/nothing", "", "", 404, "not_found"},
		{"wrong method", "DELETE", "/api/lessons", "", "", 405, "method_not_allowed"},
		{"list without the operator's key", "GET", "/api/lessons", "", "", 401, "unauthorized"},
		{"invitation without token", "POST", "/api/lessons/" + l.ID + "/invitations", "", "", 401, "unauthorized"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var e errorOut
			resp := a.do(tt.method, tt.path, tt.ctype, tt.body, nil, &e)
			if resp.StatusCode != tt.status || e.Error.Code != tt.code || e.Error.Message == "" {
				t.Fatalf("%d %+v, want %d %s", resp.StatusCode, e, tt.status, tt.code)
			}
		})
	}
	if n := a.lessons(); n != 1 {
		t.Fatalf("%d lessons after the refusals, want 1", n)
	}
}

func TestInvitations(t *testing.T) {
	a := newAPI(t)
	var l lessonOut
	a.do("POST", "/api/lessons", "application/json", `{"title":"Kept"}`, nil, &l)
	var link struct{ Token, URL string }
	resp := a.do("POST", "/api/lessons/"+l.ID+"/invitations", "", "", http.Header{"Authorization": {"Bearer " + l.Teacher.Token}}, &link)
	if resp.StatusCode != http.StatusCreated || link.Token == "" {
		t.Fatalf("invitation: %d %+v", resp.StatusCode, link)
	}
	var e errorOut
	if resp := a.do("POST", "/api/lessons/"+l.ID+"/invitations", "", "", http.Header{"Authorization": {"Bearer " + l.Students.Token}}, &e); resp.StatusCode != 403 {
		t.Fatalf("a student's invitation: %d %+v", resp.StatusCode, e)
	}
	if resp := a.do("POST", "/api/lessons/"+l.ID+"/invitations", "", "", http.Header{"Authorization": {"Bearer x.y.z"}}, &e); resp.StatusCode != 401 {
		t.Fatalf("a forged token: %d %+v", resp.StatusCode, e)
	}

	// A link asked for without replacing leaves the earlier ones admitting
	// (refused here only because the lesson has not ended, which a
	// student's replay waits for); one that replaces them refuses them as
	// replaced, and itself admits, as does a copy of it.
	admits := func(name, tok string) {
		t.Helper()
		if resp, body := a.get("/api/lessons/"+l.ID+"/events", tok); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d %s, want 403 until the lesson ends", name, resp.StatusCode, body)
		}
	}
	admits("the first link", l.Students.Token)
	admits("a copy of it", link.Token)
	var newer, copied struct{ Token string }
	if resp := a.do("POST", "/api/lessons/"+l.ID+"/invitations", "application/json", `{"replace":true}`,
		http.Header{"Authorization": {"Bearer " + l.Teacher.Token}}, &newer); resp.StatusCode != http.StatusCreated {
		t.Fatalf("a replacing link: %d", resp.StatusCode)
	}
	if resp := a.do("POST", "/api/lessons/"+l.ID+"/invitations", "application/json", `{"replace":false}`,
		http.Header{"Authorization": {"Bearer " + l.Teacher.Token}}, &copied); resp.StatusCode != http.StatusCreated {
		t.Fatalf("a copy of the replacing link: %d", resp.StatusCode)
	}
	if resp := a.do("POST", "/api/lessons/"+l.ID+"/invitations", "application/json", `{"replace":"yes"}`,
		http.Header{"Authorization": {"Bearer " + l.Teacher.Token}}, &e); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a malformed body: %d %+v, want 400", resp.StatusCode, e)
	}
	admits("the replacing link", newer.Token)
	admits("a copy of the replacing link", copied.Token)
	for name, tok := range map[string]string{"the first link": l.Students.Token, "its copy": link.Token} {
		resp, body := a.get("/api/lessons/"+l.ID+"/events", tok)
		var refused errorOut
		if err := json.Unmarshal(body, &refused); err != nil || resp.StatusCode != http.StatusUnauthorized ||
			refused.Error.Code != "unauthorized" || refused.Error.Reason != "link_replaced" {
			t.Errorf("%s after a newer one: %d %s, want 401 unauthorized, link_replaced", name, resp.StatusCode, body)
		}
	}
	if resp, body := a.get("/api/lessons/"+l.ID+"/events", l.Teacher.Token); resp.StatusCode != http.StatusOK {
		t.Errorf("the teacher's link: %d %s", resp.StatusCode, body)
	}
}

func TestHealth(t *testing.T) {
	a := newAPI(t)
	var ok map[string]string
	if resp := a.do("GET", "/healthz", "", "", nil, &ok); resp.StatusCode != 200 || ok["status"] != "ok" {
		t.Fatalf("healthz: %d %v", resp.StatusCode, ok)
	}
	a.store.Close()
	var e errorOut
	if resp := a.do("GET", "/healthz", "", "", nil, &e); resp.StatusCode != 503 || e.Error.Code != "unavailable" {
		t.Fatalf("healthz with the store closed: %d %+v", resp.StatusCode, e)
	}
}

func mustUUID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	u, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
