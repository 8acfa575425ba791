package signin_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"classroom/eventstore"
	"classroom/realtime/token"
	"classroom/web"
	"classroom/web/signin"
)

// users are the OpenID Provider's accounts.
type users map[string]*storage.User

func (u users) GetUserByID(id string) *storage.User { return u[id] }
func (u users) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (u users) ExampleClientID() string { return storage.ServiceUserID }

var accounts = users{
	"u-teacher":  {ID: "u-teacher", Username: "grace", Password: "pw", FirstName: "Grace", LastName: "Hopper", Email: "grace@school.example", EmailVerified: true, PreferredLanguage: language.English},
	"u-german":   {ID: "u-german", Username: "emmy", Password: "pw", FirstName: "Emmy", LastName: "Noether", Email: "emmy@school.example", EmailVerified: true, PreferredLanguage: language.German},
	"u-pupil":    {ID: "u-pupil", Username: "ada", Password: "pw", FirstName: "Ada", LastName: "Lovelace", Email: "ada@pupils.school.example", EmailVerified: true, PreferredLanguage: language.English},
	"u-unverif":  {ID: "u-unverif", Username: "mallory", Password: "pw", FirstName: "Mal", LastName: "Lory", Email: "mallory@school.example", EmailVerified: false, PreferredLanguage: language.English},
	"u-operator": {ID: "u-operator", Username: "it", Password: "pw", FirstName: "School", LastName: "IT", Email: "it@school.example", EmailVerified: true, PreferredLanguage: language.English},
}

// startProvider runs an OpenID Provider built from zitadel/oidc's op
// package, with the library's in-memory example storage, a web client for
// the classroom (code flow, PKCE, client secret) and a username and
// password login page.
func startProvider(t *testing.T, redirectURI string) string {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	storage.RegisterClients(storage.WebClient("classroom", "classroom-secret", redirectURI))
	st := storage.NewStorage(accounts)
	provider, err := op.NewProvider(&op.Config{CryptoKey: sha256.Sum256([]byte("test")), CodeMethodS256: true,
		SupportedUILocales: []language.Tag{language.English}}, st, op.StaticIssuer(srv.URL), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/username", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<form method="post" action="/login/username"><input type="hidden" name="id" value="%s"><input name="username"><input name="password"></form>`,
			html.EscapeString(r.URL.Query().Get("authRequestID")))
	})
	mux.Handle("POST /login/username", interceptor.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if err := st.CheckUsernamePassword(r.FormValue("username"), r.FormValue("password"), r.FormValue("id")); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, op.AuthCallbackURL(provider)(r.Context(), r.FormValue("id")), http.StatusFound)
	}))
	mux.Handle("/", provider)
	h = mux
	return srv.URL
}

// site is the classroom's HTTP surface with sign-in.
type site struct {
	srv   *httptest.Server
	store eventstore.Store
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startSite(t *testing.T, settings func(issuer string) signin.Settings) *site {
	t.Helper()
	s := &site{}
	var h http.Handler
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(s.srv.Close)
	issuer := startProvider(t, s.srv.URL+signin.CallbackPath)
	store, err := eventstore.OpenSQLite(context.Background(), t.TempDir(), quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s.store = store
	key := []byte(strings.Repeat("k", 32))
	tokens, err := token.NewKeeper(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	words, err := web.Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := signin.New(signin.Config{BaseURL: s.srv.URL, Settings: settings(issuer), Key: []byte(strings.Repeat("s", 32)),
		Catalogues: words, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	h = web.NewHandler(web.Config{Store: store, Tokens: tokens, Logger: quiet(), SignIn: svc})
	return s
}

// device is a browser: its own cookies.
type device struct {
	t      *testing.T
	client *http.Client
	site   *site
}

func (s *site) device(t *testing.T) *device {
	jar, _ := cookiejar.New(nil)
	return &device{t: t, client: &http.Client{Jar: jar}, site: s}
}

var hiddenID = regexp.MustCompile(`name="id" value="([^"]*)"`)

// signIn signs in with provider as username and returns the last page.
func (d *device) signIn(provider, username string) (int, string) {
	d.t.Helper()
	resp, err := d.client.Get(d.site.srv.URL + "/signin/" + provider)
	if err != nil {
		d.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := hiddenID.FindSubmatch(body)
	if m == nil {
		d.t.Fatalf("no login form at %s: %s %s", resp.Request.URL, resp.Status, body)
	}
	resp, err = d.client.PostForm(resp.Request.URL.String(), url.Values{"id": {html.UnescapeString(string(m[1]))},
		"username": {username}, "password": {"pw"}})
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(resp.Body)
	return resp.StatusCode, html.UnescapeString(string(body))
}

type meJSON struct {
	Account signin.Account
	Lessons []struct {
		ID      string
		Title   string
		Teacher *struct{ Token, URL string }
	}
}

func (d *device) me() (int, meJSON) {
	d.t.Helper()
	resp, err := d.client.Get(d.site.srv.URL + "/api/me")
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m meJSON
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// create asks for a lesson and returns the status and the error message.
func (d *device) create(title string) (int, string) {
	d.t.Helper()
	resp, err := d.client.Post(d.site.srv.URL+"/api/lessons", "application/json", strings.NewReader(`{"title":"`+title+`"}`))
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error struct{ Message string } }
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Error.Message
}

func (s *site) lessons(t *testing.T) int {
	ls, err := s.store.Lessons(context.Background(), eventstore.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(ls)
}

func TestLessonsAreTheTeachersOnAnyDevice(t *testing.T) {
	s := startSite(t, func(issuer string) signin.Settings {
		return signin.Settings{Providers: []signin.Provider{{Name: "school", Issuer: issuer, ClientID: "classroom",
			ClientSecret: "classroom-secret", AllowedDomains: []string{"school.example"}}}}
	})
	laptop := s.device(t)
	if status, page := laptop.signIn("school", "grace"); status != http.StatusOK || !strings.Contains(page, "signed in as Grace Hopper (grace@") {
		t.Fatalf("sign-in ended with %d: %s", status, page)
	}
	if status, me := laptop.me(); status != http.StatusOK || !me.Account.Teacher || me.Account.Email != "grace@school.example" {
		t.Fatalf("/api/me: %d %+v", status, me)
	}
	if status, msg := laptop.create("Signed in"); status != http.StatusCreated {
		t.Fatalf("a signed-in teacher's lesson: %d %s", status, msg)
	}
	// Anyone may still create lessons, as without sign-in; theirs are
	// nobody's.
	if status, msg := s.device(t).create("Anonymous"); status != http.StatusCreated {
		t.Fatalf("an anonymous lesson on a server that does not restrict creation: %d %s", status, msg)
	}
	phone := s.device(t)
	if status, _ := phone.me(); status != http.StatusUnauthorized {
		t.Fatalf("/api/me before signing in: %d", status)
	}
	phone.signIn("school", "grace")
	status, me := phone.me()
	if status != http.StatusOK || len(me.Lessons) != 1 || me.Lessons[0].Title != "Signed in" || me.Lessons[0].Teacher == nil ||
		!strings.Contains(me.Lessons[0].Teacher.URL, "#token=") {
		t.Fatalf("the teacher's lessons on another device: %d %+v", status, me)
	}
	other := s.device(t)
	other.signIn("school", "emmy")
	if _, me := other.me(); len(me.Lessons) != 0 {
		t.Fatalf("another teacher sees %d lessons", len(me.Lessons))
	}
	it := s.device(t)
	it.signIn("school", "it")
	if _, me := it.me(); len(me.Lessons) != 0 || me.Account.Operator {
		t.Fatalf("an account named nowhere as operator: %+v", me)
	}

	resp, err := phone.client.Post(s.srv.URL+"/signin/out", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if status, _ := phone.me(); status != http.StatusUnauthorized {
		t.Fatalf("/api/me after signing out: %d", status)
	}
}

func TestWhoMayCreateLessons(t *testing.T) {
	s := startSite(t, func(issuer string) signin.Settings {
		return signin.Settings{RestrictCreation: true, Providers: []signin.Provider{{Name: "school", Issuer: issuer, ClientID: "classroom",
			ClientSecret: "classroom-secret", AllowedDomains: []string{"school.example"},
			AllowedClaim: &signin.Claim{Name: "locale", Value: "en"}, Operators: []string{"it@school.example"}}}}
	})
	cases := []struct {
		user     string // "" for no sign-in
		status   int
		contains string
	}{
		{"", http.StatusUnauthorized, "sign in with your school's account"},
		{"ada", http.StatusForbidden, "may not create lessons"},     // another domain
		{"emmy", http.StatusForbidden, "may not create lessons"},    // the claim does not hold
		{"mallory", http.StatusForbidden, "may not create lessons"}, // the email is not verified
	}
	for _, c := range cases {
		d := s.device(t)
		if c.user != "" {
			d.signIn("school", c.user)
		}
		if status, msg := d.create("Refused"); status != c.status || !strings.Contains(msg, c.contains) {
			t.Errorf("%q creating a lesson: %d %q, want %d with %q", c.user, status, msg, c.status, c.contains)
		}
	}
	if n := s.lessons(t); n != 0 {
		t.Fatalf("refused requests created %d lessons", n)
	}
	teacher := s.device(t)
	teacher.signIn("school", "grace")
	if status, msg := teacher.create("Allowed"); status != http.StatusCreated {
		t.Fatalf("an allowed teacher: %d %s", status, msg)
	}
	it := s.device(t)
	it.signIn("school", "it")
	if status, me := it.me(); status != http.StatusOK || !me.Account.Operator || len(me.Lessons) != 1 {
		t.Fatalf("the operator: %d %+v", status, me)
	}

	// A session cookie the server did not sign is no sign-in.
	forged := s.device(t)
	u, _ := url.Parse(s.srv.URL)
	forged.client.Jar.SetCookies(u, []*http.Cookie{{Name: signin.SessionCookie, Value: "eyJhbGciOiJIUzI1NiJ9.eyJvd25lciI6Ingi.x"}})
	if status, _ := forged.create("Forged"); status != http.StatusUnauthorized {
		t.Fatalf("a forged session: %d", status)
	}
	// A callback that this browser did not start is refused.
	resp, err := s.device(t).client.Get(s.srv.URL + signin.CallbackPath + "?code=x&state=y")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "was not started here") {
		t.Fatalf("a callback not started here: %s %s", resp.Status, body)
	}
	if n := s.lessons(t); n != 1 {
		t.Fatalf("%d lessons, want the allowed teacher's one", n)
	}
}
