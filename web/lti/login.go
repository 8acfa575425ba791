package lti

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-jose/go-jose/v4/jwt"
)

// stateAudience is the audience of a login's state, so that no other JWT
// of the tool's passes for one.
const stateAudience = "lti-state"

// loginState is what the tool remembers of a login until its launch: it
// travels signed in the state parameter instead of a cookie, which the
// browser would not send to a tool framed by another site.
type loginState struct {
	Platform string `json:"pi"`
	Client   string `json:"pc"`
	Nonce    string `json:"nonce"`
	Target   string `json:"target"`
}

// login answers the platform's third-party-initiated login (LTI 1.3 Core,
// section 5.1.1, and OpenID Connect Core 4) with the authentication request,
// a redirect to the platform's auth URL.
func (t *Tool) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		t.fail(w, r, refusal("the login request is malformed"))
		return
	}
	f := r.Form
	issuer, hint, target := f.Get("iss"), f.Get("login_hint"), f.Get("target_link_uri")
	if issuer == "" || hint == "" || target == "" {
		t.fail(w, r, refusal("the login request lacks iss, login_hint or target_link_uri"))
		return
	}
	p, ok := t.cfg.Platforms.find(issuer, f.Get("client_id"))
	if !ok {
		t.fail(w, r, forbidden("the platform {platform} (client id {client}) is not registered with this classroom; ask its operator to add it", "platform", strconv.Quote(issuer), "client", strconv.Quote(f.Get("client_id"))))
		return
	}
	if d := f.Get("lti_deployment_id"); d != "" && !slices.Contains(p.Deployments, d) {
		t.fail(w, r, forbidden("deployment {deployment} of {platform} is not registered with this classroom", "deployment", strconv.Quote(d), "platform", issuer))
		return
	}
	if !strings.HasPrefix(target, t.base+"/") {
		t.fail(w, r, refusal("the target_link_uri {uri} is not on this classroom", "uri", strconv.Quote(target)))
		return
	}
	now := t.cfg.Now()
	nonce := randomID()
	state, err := t.sign(jwt.Claims{Issuer: t.base, Audience: jwt.Audience{stateAudience}, IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(loginTTL))}, loginState{Platform: p.Issuer, Client: p.ClientID, Nonce: nonce, Target: target})
	if err != nil {
		t.fail(w, r, err)
		return
	}
	q := url.Values{
		"scope":         {"openid"},
		"response_type": {"id_token"},
		"response_mode": {"form_post"},
		"prompt":        {"none"},
		"client_id":     {p.ClientID},
		"redirect_uri":  {t.URL(LaunchPath)},
		"login_hint":    {hint},
		"state":         {state},
		"nonce":         {nonce},
	}
	if m := f.Get("lti_message_hint"); m != "" {
		q.Set("lti_message_hint", m)
	}
	auth, err := url.Parse(p.AuthURL)
	if err != nil {
		t.fail(w, r, err)
		return
	}
	for k, v := range auth.Query() { // an auth URL may carry parameters of its own
		if q.Get(k) == "" {
			q[k] = v
		}
	}
	auth.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, auth.String(), http.StatusFound)
}
