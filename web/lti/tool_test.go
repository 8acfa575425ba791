package lti_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime/token"
	"classroom/web"
	"classroom/web/lti"
)

// rig is a tool served on loopback, with its store, and a platform
// registered with it.
type rig struct {
	p      *platform
	store  eventstore.Store
	tokens *token.Keeper
	srv    *httptest.Server
	b      *browserClient
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newRig starts a tool on loopback serving its Handler.
func newRig(t *testing.T) *rig { return startRig(t, "127.0.0.1", nil) }

// startRig starts a tool that browsers reach at host (the port is the
// test server's), whose routes are served by handler(rig, tool) (its
// Handler when nil).
func startRig(t *testing.T, host string, handler func(*rig, *lti.Tool) http.Handler) *rig {
	t.Helper()
	store, err := eventstore.OpenSQLite(context.Background(), t.TempDir(), quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	key := make([]byte, token.KeyBytes)
	rand.Read(key)
	tokens, err := token.NewKeeper(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{p: newPlatform(t), store: store, tokens: tokens, b: newBrowserClient(t)}
	var h http.Handler
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { h.ServeHTTP(w, req) }))
	t.Cleanup(r.srv.Close)
	r.p.tool = strings.Replace(r.srv.URL, "127.0.0.1", host, 1)
	keys, err := lti.LoadOrCreateKeys(filepath.Join(t.TempDir(), "lti-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	platforms, err := lti.NewPlatforms([]lti.Platform{r.p.registration()})
	if err != nil {
		t.Fatal(err)
	}
	words, err := web.Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	tool, err := lti.New(lti.Config{BaseURL: r.p.tool, Platforms: platforms, Keys: keys, Store: store, Tokens: tokens,
		Catalogues: words, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if handler == nil {
		h = tool.Handler()
	} else {
		h = handler(r, tool)
	}
	return r
}

// addUser registers a platform user.
func (r *rig) addUser(id, name string, roles ...string) {
	r.p.mu.Lock()
	defer r.p.mu.Unlock()
	r.p.users[id] = user{id: id, name: name, roles: roles}
}

// addMessage registers what an lti_message_hint launches.
func (r *rig) addMessage(hint string, m message) {
	r.p.mu.Lock()
	defer r.p.mu.Unlock()
	r.p.messages[hint] = m
}

// launch runs a launch to its end and returns the tool's answer.
func (r *rig) launch(userID, hint string) (*http.Response, string) {
	action, fields := r.b.authResponse(r.p, userID, hint)
	return r.b.post(action, fields)
}

// joined checks that a launch took its user to a lesson page with a join
// token, and returns the token's claims.
func (r *rig) joined(t *testing.T, resp *http.Response, body string) token.Claims {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("launch answered %s: %s", resp.Status, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.Path, "/lessons/") || !strings.HasPrefix(loc.Fragment, "token=") {
		t.Fatalf("launch goes to %q, not a lesson page with a token", resp.Header.Get("Location"))
	}
	lesson, err := uuid.Parse(strings.TrimPrefix(loc.Path, "/lessons/"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.tokens.Verify(strings.TrimPrefix(loc.Fragment, "token="), lesson)
	if err != nil {
		t.Fatalf("the launch's join token: %v", err)
	}
	return c
}

// joinAs launches hint as userID and returns the join token's claims.
func (r *rig) joinAs(t *testing.T, userID, hint string) token.Claims {
	t.Helper()
	resp, body := r.launch(userID, hint)
	return r.joined(t, resp, body)
}

// lessons counts the stored lessons.
func (r *rig) lessons(t *testing.T) int {
	t.Helper()
	ls, err := r.store.Lessons(context.Background(), eventstore.ListOptions{Limit: eventstore.MaxList})
	if err != nil {
		t.Fatal(err)
	}
	return len(ls)
}

func TestResourceLinkLaunch(t *testing.T) {
	r := newRig(t)
	r.addUser("t-1", "Grace Hopper", roleInstructor)
	r.addUser("s-1", "Ada Lovelace", roleLearner)
	r.addUser("admin", "Head Teacher", roleAdmin)
	r.addMessage("week-1", message{kind: "LtiResourceLinkRequest", resourceLink: "rl-1", title: "Photosynthesis"})
	r.addMessage("week-2", message{kind: "LtiResourceLinkRequest", resourceLink: "rl-2", title: "Respiration"})
	r.p.members = []user{
		{id: "t-1", name: "Grace Hopper", roles: []string{roleInstructor}},
		{id: "s-1", name: "Ada Lovelace", roles: []string{roleLearner}},
		{id: "s-2", name: "Alan Turing", roles: []string{roleLearner}},
		{id: "s-3", name: "Left The Course", roles: []string{roleLearner}, status: "Inactive"},
		{id: "s-4", name: "Katherine Johnson", roles: []string{roleLearner}, status: "Active"},
	}

	teacher := r.joinAs(t, "t-1", "week-1")
	if teacher.Role != domain.RoleTeacher || teacher.Name != "Grace Hopper" || teacher.Participant != lti.Participant(r.p.srv.URL, "t-1") {
		t.Fatalf("the instructor joins as %+v", teacher)
	}
	l, err := r.store.Lesson(context.Background(), teacher.Lesson)
	if err != nil || l.Title != "Photosynthesis" {
		t.Fatalf("the lesson made for the resource link: %+v, %v", l, err)
	}
	student := r.joinAs(t, "s-1", "week-1")
	if student.Role != domain.RoleStudent || student.Name != "Ada Lovelace" || student.Lesson != teacher.Lesson ||
		student.Participant != lti.Participant(r.p.srv.URL, "s-1") {
		t.Fatalf("the learner joins as %+v; the teacher's lesson is %s", student, teacher.Lesson)
	}
	if admin := r.joinAs(t, "admin", "week-1"); admin.Role != domain.RoleTeacher || admin.Lesson != teacher.Lesson {
		t.Fatalf("the administrator joins as %+v", admin)
	}
	if other := r.joinAs(t, "s-1", "week-2"); other.Lesson == teacher.Lesson {
		t.Fatal("another resource link opened the same lesson")
	}

	// The teachers' launches fetched the roster, following its pages;
	// inactive members are left out.
	roster, err := r.store.(eventstore.LTI).Roster(context.Background(), teacher.Lesson)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]domain.Role{"t-1": domain.RoleTeacher, "s-1": domain.RoleStudent, "s-2": domain.RoleStudent, "s-4": domain.RoleStudent}
	if len(roster) != len(want) {
		t.Fatalf("roster %+v, want %d members", roster, len(want))
	}
	for _, m := range roster {
		found := false
		for id, role := range want {
			if m.Participant == lti.Participant(r.p.srv.URL, id) && m.Role == role {
				found = true
			}
		}
		if !found || m.Name == "" {
			t.Errorf("roster member %+v is not one of the course's active members", m)
		}
	}
	if r.p.grants < 2 {
		t.Errorf("the roster was fetched with %d access tokens, want one per teacher's launch", r.p.grants)
	}
}

// TestPlatformKeys: the platform's JWKS is fetched once for many launches,
// and again when a launch is signed with a key it did not hold (the
// platform rotated its key).
func TestPlatformKeys(t *testing.T) {
	r := newRig(t)
	r.addUser("s-1", "Ada Lovelace", roleLearner)
	r.addMessage("rl", message{kind: "LtiResourceLinkRequest", resourceLink: "rl-1", title: "Photosynthesis"})
	first := r.joinAs(t, "s-1", "rl")
	r.joinAs(t, "s-1", "rl")
	if r.p.jwksFetches() != 1 {
		t.Fatalf("two launches fetched the JWKS %d times", r.p.jwksFetches())
	}
	r.p.rotate("platform-2")
	if again := r.joinAs(t, "s-1", "rl"); again.Lesson != first.Lesson {
		t.Fatal("the launch after the platform's key rotation opened another lesson")
	}
	if r.p.jwksFetches() != 2 {
		t.Fatalf("the JWKS was fetched %d times after the platform's rotation, want once more", r.p.jwksFetches())
	}
}

func TestSeriesMovesOnWhenTheLessonEnded(t *testing.T) {
	r := newRig(t)
	r.addUser("t-1", "Grace Hopper", roleInstructor)
	r.addMessage("weekly", message{kind: "LtiResourceLinkRequest", resourceLink: "rl-s", title: "Form time",
		custom: map[string]string{"series": "weekly", "title": "Form time 7B"}})
	r.addMessage("once", message{kind: "LtiResourceLinkRequest", resourceLink: "rl-o", title: "Trip"})
	first := r.joinAs(t, "t-1", "weekly")
	if again := r.joinAs(t, "t-1", "weekly"); again.Lesson != first.Lesson {
		t.Fatal("a series opened a new lesson while the current one goes on")
	}
	once := r.joinAs(t, "t-1", "once")
	for _, id := range []uuid.UUID{first.Lesson, once.Lesson} {
		ev := domain.Event{ID: uuid.New(), Lesson: id, Version: domain.EventVersion, Role: domain.RoleSystem,
			Time: time.Now().UTC().Truncate(time.Microsecond), Payload: &domain.LessonEnded{}}
		if _, errs, err := r.store.Append(context.Background(), ev); err != nil || errs[0] != nil {
			t.Fatal(err, errs)
		}
	}
	next := r.joinAs(t, "t-1", "weekly")
	if next.Lesson == first.Lesson {
		t.Fatal("a series reopened its ended lesson")
	}
	if l, _ := r.store.Lesson(context.Background(), next.Lesson); l.Title != "Form time 7B" {
		t.Fatalf("the series' next lesson is titled %q", l.Title)
	}
	if r.joinAs(t, "t-1", "once").Lesson != once.Lesson {
		t.Fatal("a resource link that is no series moved on to a new lesson")
	}
}

func TestDeepLinking(t *testing.T) {
	r := newRig(t)
	r.addUser("t-1", "Grace Hopper", roleInstructor)
	r.addMessage("pick", message{kind: "LtiDeepLinkingRequest"})
	resp, body := r.launch("t-1", "pick")
	if resp.StatusCode != http.StatusOK || !strings.Contains(html.UnescapeString(body), "Add a lesson to the course") {
		t.Fatalf("deep linking request answered %s: %s", resp.Status, body)
	}
	action, fields := form(body)
	if action != r.srv.URL+lti.DeepLinkPath {
		t.Fatalf("the picker posts to %q", action)
	}
	fields.Set("title", "Fractions with 7B")
	fields.Set("lobby", "on")
	fields.Set("series", "on")
	resp, body = r.b.post(action, fields)
	action, fields = form(body)
	if resp.StatusCode != http.StatusOK || action != r.p.srv.URL+"/deep-link-return" || fields.Get("JWT") == "" {
		t.Fatalf("the picker's answer is not a form post to the platform's return URL: %s %s", resp.Status, body)
	}
	if resp, body = r.b.post(action, fields); resp.StatusCode != http.StatusOK {
		t.Fatalf("the platform refused the deep linking response: %s", body)
	}
	if len(r.p.linked) != 1 {
		t.Fatalf("the platform got %d content items", len(r.p.linked))
	}
	item := r.p.linked[0]
	if item["title"] != "Fractions with 7B" || item["url"] != r.srv.URL+lti.LaunchPath {
		t.Fatalf("content item %v", item)
	}
	custom := map[string]string{}
	for k, v := range item["custom"].(map[string]any) {
		custom[k] = v.(string)
	}
	if n := r.lessons(t); n != 0 {
		t.Fatalf("deep linking created %d lessons; the first launch makes it", n)
	}
	// The platform makes a resource link of the item; its launch carries
	// the custom parameters chosen.
	r.addMessage("linked", message{kind: "LtiResourceLinkRequest", resourceLink: "rl-dl", custom: custom})
	c := r.joinAs(t, "t-1", "linked")
	if l, _ := r.store.Lesson(context.Background(), c.Lesson); l.Title != "Fractions with 7B" {
		t.Fatalf("the deep-linked lesson is titled %q", l.Title)
	}
	link, err := r.store.(eventstore.LTI).LTILink(context.Background(), r.p.srv.URL, r.p.client, "rl-dl")
	if err != nil || !link.Lobby || !link.Series || link.Lesson != c.Lesson {
		t.Fatalf("the deep-linked resource link: %+v, %v", link, err)
	}
	// The lesson it opened makes students wait to be admitted, as chosen.
	var created *domain.LessonCreated
	for e, err := range r.store.Events(context.Background(), c.Lesson, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := e.Payload.(*domain.LessonCreated); ok {
			created = p
		}
	}
	if created == nil || !created.Lobby {
		t.Fatalf("the deep-linked lesson was created %+v, want its lobby on", created)
	}
}

// resign signs claims with the platform's key, as a platform issuing a new
// id_token would.
func (p *platform) resign(claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: p.key, KeyID: p.kid}}, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

func TestRefusedLaunches(t *testing.T) {
	r := newRig(t)
	r.addUser("t-1", "Grace Hopper", roleInstructor)
	r.addUser("s-1", "Ada Lovelace", roleLearner)
	r.addMessage("rl", message{kind: "LtiResourceLinkRequest", resourceLink: "rl-1", title: "Photosynthesis"})
	r.addMessage("pick", message{kind: "LtiDeepLinkingRequest"})
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	set := func(name string, v any) func(map[string]any) *rsa.PrivateKey {
		return func(c map[string]any) *rsa.PrivateKey { c[name] = v; return nil }
	}
	cases := []struct {
		name     string
		user     string
		hint     string
		tamper   func(map[string]any) *rsa.PrivateKey
		status   int
		contains string
	}{
		{"expired", "t-1", "rl", func(c map[string]any) *rsa.PrivateKey {
			c["iat"], c["exp"] = time.Now().Add(-8*time.Minute).Unix(), time.Now().Add(-2*time.Minute).Unix()
			return nil
		}, http.StatusBadRequest, "the launch has expired"},
		{"issued too long ago", "t-1", "rl", set("iat", time.Now().Add(-lti.MaxLaunchAge-time.Minute).Unix()), http.StatusBadRequest, "too far from this classroom's clock"},
		{"issued in the future", "t-1", "rl", set("iat", time.Now().Add(5*time.Minute).Unix()), http.StatusBadRequest, "too far from this classroom's clock"},
		{"wrongly signed", "t-1", "rl", func(map[string]any) *rsa.PrivateKey { return other }, http.StatusBadRequest, "not valid for this classroom"},
		{"wrong audience", "t-1", "rl", set("aud", "another-tool"), http.StatusBadRequest, "expected audience"},
		{"several audiences, no azp", "t-1", "rl", set("aud", []string{r.p.client, "another-tool"}), http.StatusBadRequest, "azp"},
		{"unknown issuer", "t-1", "rl", set("iss", "https://unknown.example"), http.StatusBadRequest, "different provider"},
		{"unknown deployment", "t-1", "rl", set("https://purl.imsglobal.org/spec/lti/claim/deployment_id", "deployment-9"), http.StatusForbidden, "deployment \"deployment-9\""},
		{"another login's nonce", "t-1", "rl", set("nonce", "not-the-logins"), http.StatusBadRequest, "nonce is not its login's"},
		{"another target", "t-1", "rl", set("https://purl.imsglobal.org/spec/lti/claim/target_link_uri", "https://elsewhere.example/"), http.StatusBadRequest, "target_link_uri is not its login's"},
		{"wrong version", "t-1", "rl", set("https://purl.imsglobal.org/spec/lti/claim/version", "1.1"), http.StatusBadRequest, "LTI version"},
		{"no roles", "t-1", "rl", func(c map[string]any) *rsa.PrivateKey {
			delete(c, "https://purl.imsglobal.org/spec/lti/claim/roles")
			return nil
		}, http.StatusBadRequest, "no roles claim"},
		{"no resource link", "t-1", "rl", func(c map[string]any) *rsa.PrivateKey {
			delete(c, "https://purl.imsglobal.org/spec/lti/claim/resource_link")
			return nil
		}, http.StatusBadRequest, "no resource_link id"},
		{"a learner deep-linking", "s-1", "pick", nil, http.StatusForbidden, "only a course's instructor or an administrator may add a lesson"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r.p.mu.Lock()
			r.p.tamper = tc.tamper
			r.p.mu.Unlock()
			resp, body := r.launch(tc.user, tc.hint)
			if resp.StatusCode != tc.status || !strings.Contains(html.UnescapeString(body), tc.contains) {
				t.Fatalf("answered %s, want %d with %q: %s", resp.Status, tc.status, tc.contains, body)
			}
			if n := r.lessons(t); n != 0 {
				t.Fatalf("a refused launch left %d lessons", n)
			}
		})
	}
	r.p.tamper = nil

	t.Run("unknown platform at login", func(t *testing.T) {
		q := url.Values{"iss": {"https://unknown.example"}, "login_hint": {"t-1"}, "target_link_uri": {r.srv.URL + lti.LaunchPath}}
		resp, body := r.b.get(r.srv.URL + lti.LoginPath + "?" + q.Encode())
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(html.UnescapeString(body), "not registered with this classroom") {
			t.Fatalf("answered %s: %s", resp.Status, body)
		}
	})
	t.Run("unknown deployment at login", func(t *testing.T) {
		u := strings.Replace(r.p.loginURL("t-1", "rl"), "deployment-1", "deployment-9", 1)
		resp, body := r.b.get(u)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(html.UnescapeString(body), "not registered") {
			t.Fatalf("answered %s: %s", resp.Status, body)
		}
	})
	t.Run("forged state", func(t *testing.T) {
		action, fields := r.b.authResponse(r.p, "t-1", "rl")
		fields.Set("state", fields.Get("state")+"x")
		resp, body := r.b.post(action, fields)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), "state is not one this classroom gave") {
			t.Fatalf("answered %s: %s", resp.Status, body)
		}
	})
	t.Run("replayed and nonce used twice", func(t *testing.T) {
		action, fields := r.b.authResponse(r.p, "t-1", "rl")
		resp, body := r.b.post(action, fields)
		first := r.joined(t, resp, body)
		resp, body = r.b.post(action, fields)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), "used already") {
			t.Fatalf("a replayed launch answered %s: %s", resp.Status, body)
		}
		// A new id_token (a later iat, an id of its own) with the same nonce.
		tok, err := jwt.ParseSigned(fields.Get("id_token"), []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil {
			t.Fatal(err)
		}
		claims["iat"], claims["jti"] = time.Now().Unix()+1, "second"
		fields.Set("id_token", r.p.resign(claims))
		resp, body = r.b.post(action, fields)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), "used already") {
			t.Fatalf("a nonce used twice answered %s: %s", resp.Status, body)
		}
		if n := r.lessons(t); n != 1 {
			t.Fatalf("%d lessons after one launch and its replays (%s)", n, first.Lesson)
		}
	})
}

func TestKeysRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	k1, err := lti.LoadOrCreateKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := lti.LoadOrCreateKeys(path)
	if err != nil || again.Public().Keys[0].KeyID != k1.Public().Keys[0].KeyID {
		t.Fatalf("keys read again: %v", err)
	}
	k2, err := lti.RotateKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	pub := k2.Public().Keys
	if len(pub) != 2 || pub[1].KeyID != k1.Public().Keys[0].KeyID || pub[0].KeyID == pub[1].KeyID {
		t.Fatalf("after one rotation the JWKS holds %d keys (%v)", len(pub), pub)
	}
	for _, k := range pub {
		if !k.IsPublic() {
			t.Fatal("the JWKS publishes a private key")
		}
	}
	k3, err := lti.RotateKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	if pub3 := k3.Public().Keys; len(pub3) != 2 || pub3[1].KeyID != pub[0].KeyID {
		t.Fatalf("after two rotations the JWKS holds %v", pub3)
	}
}
