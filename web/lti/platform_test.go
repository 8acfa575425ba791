package lti_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"classroom/web/lti"
)

// platform is a learning platform written for the tests from the 1EdTech
// LTI 1.3 Core, Deep Linking 2.0 and Names and Role Provisioning 2.0
// specifications: it starts logins (third-party-initiated login), answers
// the tool's authentication request with an id_token posted by a form,
// publishes its keys, takes the tool's deep linking response, and serves
// its course's roster in pages after a client credentials grant. It checks
// every message the tool sends against the specification's required
// claims and parameters, and fails the test on any it lacks.
type platform struct {
	t      *testing.T
	srv    *httptest.Server
	key    *rsa.PrivateKey
	kid    string
	client string
	deploy string
	tool   string // the tool's base URL

	mu       sync.Mutex
	users    map[string]user // by login hint (the user's id)
	messages map[string]message
	// tamper, when set, changes an id_token's claims before it is signed
	// (or the key it is signed with) to play a faulty or hostile platform.
	tamper  func(claims map[string]any) *rsa.PrivateKey
	members []user // the course's roster, served two to a page
	linked  []map[string]any
	grants  int
	fetches int // of the JWKS
	// lineItems are the gradebook columns the tool made; scores the
	// scores it posted, by line item and user id.
	lineItems []map[string]any
	scores    map[string]map[string]float64
}

type user struct {
	id, name string
	roles    []string
	status   string
}

// message is what an lti_message_hint stands for: a resource link launch
// or a deep linking request.
type message struct {
	kind, resourceLink, title string
	custom                    map[string]string
	locale                    string // the user's language on the platform
}

// Scopes of the platform's services.
const (
	scopeNRPS     = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
	scopeLineItem = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
	scopeScore    = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
)

const (
	roleInstructor = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
	roleLearner    = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
	roleAdmin      = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
)

func newPlatform(t *testing.T) *platform {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &platform{t: t, key: key, kid: "platform-1", client: "classroom-client", deploy: "deployment-1",
		users: map[string]user{}, messages: map[string]message{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /auth", p.auth)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /memberships", p.memberships)
	mux.HandleFunc("POST /deep-link-return", p.deepLinkReturn)
	mux.HandleFunc("GET /course", p.course)
	mux.HandleFunc("POST /lineitems", p.lineItem)
	mux.HandleFunc("POST /lineitems/{n}/scores", p.score)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// registration is what the platform's administrator gives the tool.
func (p *platform) registration() lti.Platform {
	return lti.Platform{Name: "Test platform", Issuer: p.srv.URL, ClientID: p.client, Deployments: []string{p.deploy},
		AuthURL: p.srv.URL + "/auth", TokenURL: p.srv.URL + "/token", JWKSURL: p.srv.URL + "/jwks"}
}

func (p *platform) jwks(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fetches++
	json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: p.kid, Algorithm: "RS256", Use: "sig"}}})
}

// rotate replaces the platform's signing key with a new one, under a new
// key id, and publishes only the new one.
func (p *platform) rotate(kid string) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.key, p.kid = key, kid
}

// loginURL is the third-party-initiated login the platform sends the
// browser to (LTI 1.3 Core 5.1.1): iss, login_hint and target_link_uri
// are required, the rest optional.
func (p *platform) loginURL(userID, hint string) string {
	q := url.Values{"iss": {p.srv.URL}, "login_hint": {userID}, "target_link_uri": {p.tool + lti.LaunchPath},
		"lti_message_hint": {hint}, "client_id": {p.client}, "lti_deployment_id": {p.deploy}}
	return p.tool + lti.LoginPath + "?" + q.Encode()
}

// auth answers the tool's authentication request (LTI 1.3 Core 5.1.1.2,
// OpenID Connect Core 3.2.2.1) with a page that posts the id_token and the
// state to the redirect URI.
func (p *platform) auth(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for name, want := range map[string]string{"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
		"prompt": "none", "client_id": p.client, "redirect_uri": p.tool + lti.LaunchPath} {
		if got := q.Get(name); got != want {
			p.t.Errorf("authentication request: %s = %q, want %q", name, got, want)
			http.Error(w, "invalid_request", http.StatusBadRequest)
			return
		}
	}
	if q.Get("state") == "" || q.Get("nonce") == "" {
		p.t.Errorf("authentication request without state or nonce: %v", q)
		http.Error(w, "invalid_request", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	u, ok := p.users[q.Get("login_hint")]
	m, okm := p.messages[q.Get("lti_message_hint")]
	tamper := p.tamper
	p.mu.Unlock()
	if !ok || !okm {
		p.t.Errorf("authentication request with unknown login_hint %q or lti_message_hint %q", q.Get("login_hint"), q.Get("lti_message_hint"))
		http.Error(w, "login_required", http.StatusBadRequest)
		return
	}
	now := time.Now()
	claims := map[string]any{
		"iss": p.srv.URL, "aud": p.client, "sub": u.id, "exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(),
		"nonce": q.Get("nonce"), "name": u.name,
		"https://purl.imsglobal.org/spec/lti/claim/message_type":    m.kind,
		"https://purl.imsglobal.org/spec/lti/claim/version":         "1.3.0",
		"https://purl.imsglobal.org/spec/lti/claim/deployment_id":   p.deploy,
		"https://purl.imsglobal.org/spec/lti/claim/target_link_uri": p.tool + lti.LaunchPath,
		"https://purl.imsglobal.org/spec/lti/claim/roles":           u.roles,
		"https://purl.imsglobal.org/spec/lti/claim/context":         map[string]any{"id": "course-7", "title": "Year 7 Science"},
		"https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": map[string]any{
			"context_memberships_url": p.srv.URL + "/memberships", "service_versions": []string{"2.0"}},
		"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": map[string]any{
			"scope":     []string{scopeLineItem, "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly", scopeScore},
			"lineitems": p.srv.URL + "/lineitems"},
	}
	if m.locale != "" {
		claims["https://purl.imsglobal.org/spec/lti/claim/launch_presentation"] = map[string]any{"locale": m.locale}
	}
	switch m.kind {
	case "LtiResourceLinkRequest":
		claims["https://purl.imsglobal.org/spec/lti/claim/resource_link"] = map[string]any{"id": m.resourceLink, "title": m.title}
		if m.custom != nil {
			claims["https://purl.imsglobal.org/spec/lti/claim/custom"] = m.custom
		}
	case "LtiDeepLinkingRequest":
		claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = map[string]any{
			"deep_link_return_url": p.srv.URL + "/deep-link-return", "accept_types": []string{"ltiResourceLink"},
			"accept_presentation_document_targets": []string{"iframe", "window"}, "data": "opaque-" + u.id}
	}
	p.mu.Lock()
	key, kid := p.key, p.kid
	p.mu.Unlock()
	if tamper != nil {
		if k := tamper(claims); k != nil {
			key = k
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	idToken, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		p.t.Fatal(err)
	}
	autoPost(w, q.Get("redirect_uri"), map[string]string{"id_token": idToken, "state": q.Get("state")})
}

// autoPost answers a page that posts fields to action as soon as it loads.
func autoPost(w http.ResponseWriter, action string, fields map[string]string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s">`, html.EscapeString(action))
	for k, v := range fields {
		fmt.Fprintf(w, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(k), html.EscapeString(v))
	}
	fmt.Fprint(w, `</form><script>document.getElementById("f").submit()</script>`)
}

// toolKeys fetches the tool's published keys, as a platform does to check
// what the tool signs.
func (p *platform) toolKeys() jose.JSONWebKeySet {
	resp, err := http.Get(p.tool + lti.JWKSPath)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		p.t.Fatalf("the tool's JWKS: %v", err)
	}
	return set
}

// verifyTool checks a JWT the tool signed against its published keys and
// the registered claims a platform requires of it, and returns its claims.
func (p *platform) verifyTool(raw string, issuer, aud string) (map[string]any, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	set := p.toolKeys()
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		return nil, fmt.Errorf("the tool's JWT names key %q, which its JWKS does not publish", tok.Headers[0].KeyID)
	}
	var std jwt.Claims
	var all map[string]any
	if err := tok.Claims(keys[0].Key, &std, &all); err != nil {
		return nil, err
	}
	if err := std.Validate(jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{aud}, Time: time.Now()}); err != nil {
		return nil, err
	}
	if std.IssuedAt == nil || std.Expiry == nil {
		return nil, fmt.Errorf("the tool's JWT lacks iat or exp")
	}
	return all, nil
}

// token is the platform's OAuth 2 token endpoint: the client credentials
// grant with a JWT assertion signed by the tool (1EdTech Security Framework
// 1.0, 4.1).
func (p *platform) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f := r.PostForm
	if f.Get("grant_type") != "client_credentials" ||
		f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		p.t.Errorf("token request: %v", f)
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	claims, err := p.verifyTool(f.Get("client_assertion"), p.client, p.srv.URL+"/token")
	if err != nil || claims["sub"] != p.client || claims["jti"] == nil {
		p.t.Errorf("client assertion: %v (claims %v)", err, claims)
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	for _, scope := range strings.Fields(f.Get("scope")) {
		if scope != scopeNRPS && scope != scopeLineItem && scope != scopeScore {
			p.t.Errorf("token request for scope %q", f.Get("scope"))
			http.Error(w, `{"error":"invalid_scope"}`, http.StatusBadRequest)
			return
		}
	}
	p.mu.Lock()
	p.grants++
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"access_token":"roster-access","token_type":"Bearer","expires_in":3600,"scope":"`+f.Get("scope")+`"}`)
}

// memberships serves the course's roster two members to a page, linking
// each page to the next (NRPS 2.0, 3.6 and 4.5).
func (p *platform) memberships(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer roster-access" {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "application/vnd.ims.lti-nrps.v2.membershipcontainer+json") {
		p.t.Errorf("roster request accepts %q", r.Header.Get("Accept"))
	}
	p.mu.Lock()
	members := slices.Clone(p.members)
	p.mu.Unlock()
	var from int
	fmt.Sscan(r.URL.Query().Get("from"), &from)
	to := min(from+2, len(members))
	if to < len(members) {
		w.Header().Set("Link", fmt.Sprintf(`<%s/memberships?from=%d>; rel="next"`, p.srv.URL, to))
	}
	page := map[string]any{"id": p.srv.URL + "/memberships", "context": map[string]any{"id": "course-7"}}
	var list []map[string]any
	for _, m := range members[from:to] {
		e := map[string]any{"user_id": m.id, "name": m.name, "roles": m.roles}
		if m.status != "" {
			e["status"] = m.status
		}
		list = append(list, e)
	}
	page["members"] = list
	w.Header().Set("Content-Type", "application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
	json.NewEncoder(w).Encode(page)
}

// deepLinkReturn takes the tool's LtiDeepLinkingResponse (Deep Linking 2.0,
// 4.2) and checks its claims.
func (p *platform) deepLinkReturn(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	claims, err := p.verifyTool(r.PostForm.Get("JWT"), p.client, p.srv.URL)
	if err != nil {
		p.t.Errorf("deep linking response: %v", err)
		http.Error(w, "bad response", http.StatusBadRequest)
		return
	}
	for name, want := range map[string]any{
		"https://purl.imsglobal.org/spec/lti/claim/message_type":  "LtiDeepLinkingResponse",
		"https://purl.imsglobal.org/spec/lti/claim/version":       "1.3.0",
		"https://purl.imsglobal.org/spec/lti/claim/deployment_id": p.deploy,
	} {
		if claims[name] != want {
			p.t.Errorf("deep linking response: %s = %v, want %v", name, claims[name], want)
		}
	}
	if n, _ := claims["nonce"].(string); n == "" {
		p.t.Errorf("deep linking response has no nonce")
	}
	if d, _ := claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"].(string); !strings.HasPrefix(d, "opaque-") {
		p.t.Errorf("deep linking response does not return the request's data: %q", d)
	}
	items, _ := claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"].([]any)
	for _, it := range items {
		item, _ := it.(map[string]any)
		if item["type"] != "ltiResourceLink" {
			p.t.Errorf("content item of type %v", item["type"])
		}
		p.mu.Lock()
		p.linked = append(p.linked, item)
		p.mu.Unlock()
	}
	fmt.Fprint(w, "<!doctype html><p>Added.</p>")
}

// course is the course page a student or teacher sees on the platform: the
// activity is shown in an iframe, which may use camera and microphone.
func (p *platform) course(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	src := p.loginURL(r.URL.Query().Get("user"), r.URL.Query().Get("hint"))
	fmt.Fprintf(w, `<!doctype html><h1>Year 7 Science</h1><iframe id="activity" src="%s" allow="camera; microphone; display-capture; fullscreen" width="1000" height="700"></iframe>`,
		html.EscapeString(src))
}

// browserClient follows the redirects and posts the forms a browser would,
// stopping at the first answer that is neither.
type browserClient struct {
	t      *testing.T
	client *http.Client
}

func newBrowserClient(t *testing.T) *browserClient {
	return &browserClient{t: t, client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	formInput  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"`)
)

// form reads the hidden fields and the action of the page's form.
func form(page string) (string, url.Values) {
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		return "", nil
	}
	fields := url.Values{}
	for _, in := range formInput.FindAllStringSubmatch(page, -1) {
		fields.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), fields
}

// get fetches a URL and returns the answer and its body.
func (b *browserClient) do(req *http.Request) (*http.Response, string) {
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, sb.String()
}

func (b *browserClient) get(u string) (*http.Response, string) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browserClient) post(u string, fields url.Values) (*http.Response, string) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, u, strings.NewReader(fields.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// authResponse runs a login up to the platform's authentication response:
// the form the browser is about to post to the tool.
func (b *browserClient) authResponse(p *platform, userID, hint string) (string, url.Values) {
	resp, body := b.get(p.loginURL(userID, hint))
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("login initiation answered %s: %s", resp.Status, body)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, p.srv.URL+"/auth?") {
		b.t.Fatalf("login initiation redirects to %q, not the platform's auth URL", loc)
	}
	resp, body = b.get(loc)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("the platform's authentication answered %s: %s", resp.Status, body)
	}
	action, fields := form(body)
	if action != p.tool+lti.LaunchPath || fields.Get("id_token") == "" || fields.Get("state") == "" {
		b.t.Fatalf("the platform's authentication response is not a form post to the launch URL: %s", body)
	}
	return action, fields
}

// jwksFetches is how often the tool fetched the platform's JWKS.
func (p *platform) jwksFetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fetches
}

// lineItem makes a gradebook column (AGS 2.0, 3.2): a line item with a
// label and a positive scoreMaximum.
func (p *platform) lineItem(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer roster-access" || r.Header.Get("Content-Type") != "application/vnd.ims.lis.v2.lineitem+json" {
		p.t.Errorf("line item request: %q, %q", r.Header.Get("Authorization"), r.Header.Get("Content-Type"))
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var item map[string]any
	if err := json.NewDecoder(r.Body).Decode(&item); err != nil {
		p.t.Errorf("line item: %v", err)
	}
	if max, _ := item["scoreMaximum"].(float64); max <= 0 {
		p.t.Errorf("line item without a positive scoreMaximum: %v", item)
	}
	if label, _ := item["label"].(string); label == "" {
		p.t.Errorf("line item without a label: %v", item)
	}
	p.mu.Lock()
	p.lineItems = append(p.lineItems, item)
	item["id"] = fmt.Sprintf("%s/lineitems/%d", p.srv.URL, len(p.lineItems))
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/vnd.ims.lis.v2.lineitem+json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(item)
}

// score takes a score (AGS 2.0, 3.4): userId, scoreGiven, scoreMaximum,
// timestamp, activityProgress and gradingProgress are required.
func (p *platform) score(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer roster-access" || r.Header.Get("Content-Type") != "application/vnd.ims.lis.v1.score+json" {
		p.t.Errorf("score request: %q, %q", r.Header.Get("Authorization"), r.Header.Get("Content-Type"))
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var s map[string]any
	if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
		p.t.Errorf("score: %v", err)
	}
	for _, k := range []string{"userId", "scoreGiven", "scoreMaximum", "timestamp", "activityProgress", "gradingProgress"} {
		if _, ok := s[k]; !ok {
			p.t.Errorf("score without %s: %v", k, s)
		}
	}
	if ts, _ := s["timestamp"].(string); ts != "" {
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			p.t.Errorf("score timestamp %q: %v", ts, err)
		}
	}
	user, _ := s["userId"].(string)
	given, _ := s["scoreGiven"].(float64)
	p.mu.Lock()
	if p.scores == nil {
		p.scores = map[string]map[string]float64{}
	}
	item := r.PathValue("n")
	if p.scores[item] == nil {
		p.scores[item] = map[string]float64{}
	}
	p.scores[item][user] = given
	p.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
