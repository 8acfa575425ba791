package signin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"classroom/web/i18n"
)

// Cookie names. The session cookie is first-party and sent on top-level
// navigations only (SameSite=Lax); the lesson page never needs it.
const (
	SessionCookie = "classroom_session"
	flowCookie    = "classroom_signin"
	flowTTL       = 10 * time.Minute
	// Paths the service serves; the provider is given CallbackPath as the
	// redirect URI.
	Path         = "/signin"
	CallbackPath = "/signin/callback"
)

// Account is who a request's session says is signed in.
type Account struct {
	// Owner identifies the account across devices: the provider's issuer
	// and the account's subject.
	Owner string `json:"owner"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	// Teacher: the provider's rules let the account create lessons.
	Teacher bool `json:"teacher"`
	// Operator: the account is one of the server's operators.
	Operator bool `json:"operator"`
}

// Config is what a Service serves with.
type Config struct {
	// BaseURL is the server's public URL; the redirect URI is made from it.
	BaseURL  string
	Settings Settings
	// Key signs the cookies; at least 32 bytes.
	Key []byte
	// SessionTTL is how long a sign-in lasts; 0 means 12 hours.
	SessionTTL time.Duration
	// Client makes the requests to providers; nil means one with a 10 s
	// timeout.
	Client *http.Client
	// Catalogues are the pages' words in every language (web.Catalogues);
	// nil shows them in English.
	Catalogues *i18n.Catalogues
	Now        func() time.Time
	Logger     *slog.Logger
}

// Service signs teachers and operators in.
type Service struct {
	cfg    Config
	signer jose.Signer
	secure bool

	mu        sync.Mutex
	providers map[string]*oidc.Provider // discovered, by name
}

// New returns the service. Providers are discovered on first use, so that
// one that is down does not keep the server from starting.
func New(cfg Config) (*Service, error) {
	if err := cfg.Settings.Check(); err != nil {
		return nil, err
	}
	if len(cfg.Key) < 32 {
		return nil, errors.New("signin: the cookie key must be at least 32 bytes")
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: cfg.Key}, nil)
	if err != nil {
		return nil, fmt.Errorf("signin: %w", err)
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	return &Service{cfg: cfg, signer: signer, secure: strings.HasPrefix(cfg.BaseURL, "https://"),
		providers: map[string]*oidc.Provider{}}, nil
}

// Restricted reports whether only a signed-in account the rules admit may
// create lessons.
func (s *Service) Restricted() bool { return s.cfg.Settings.RestrictCreation }

// Handler serves the sign-in routes under /signin.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Path, s.page)
	mux.HandleFunc("GET "+CallbackPath, s.callback)
	mux.HandleFunc("GET "+Path+"/{provider}", s.start)
	mux.HandleFunc("POST "+Path+"/out", s.signOut)
	return mux
}

// Account returns the account the request's session cookie names.
func (s *Service) Account(r *http.Request) (Account, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return Account{}, false
	}
	var a Account
	if err := s.own(c.Value, "session", &a); err != nil || a.Owner == "" {
		return Account{}, false
	}
	return a, true
}

// MayCreate refuses a request to create a lesson that the rules do not
// admit; nil when creation is not restricted.
func (s *Service) MayCreate(r *http.Request) error {
	if !s.Restricted() {
		return nil
	}
	a, ok := s.Account(r)
	switch {
	case !ok:
		return ErrSignInFirst
	case !a.Teacher && !a.Operator:
		return ErrNotATeacher
	}
	return nil
}

// Refusals of MayCreate.
var (
	ErrSignInFirst = errors.New("sign in with your school's account to create lessons")
	ErrNotATeacher = errors.New("your account may not create lessons on this server; ask its operator")
)

func (s *Service) provider(ctx context.Context, name string) (Provider, *oidc.Provider, error) {
	i := slices.IndexFunc(s.cfg.Settings.Providers, func(p Provider) bool { return p.Name == name })
	if i < 0 {
		return Provider{}, nil, i18n.NewText("no sign-in provider {name} on this server", "name", strconv.Quote(name))
	}
	p := s.cfg.Settings.Providers[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	if op, ok := s.providers[name]; ok {
		return p, op, nil
	}
	// Discovery's keys are fetched with a context that outlives the
	// request: go-oidc keeps it for refreshing the provider's JWKS.
	op, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), s.cfg.Client), p.Issuer)
	if err != nil {
		s.cfg.Logger.Warn("OpenID provider unreachable", "provider", name, "err", err)
		return p, nil, i18n.NewText("the sign-in provider {name} cannot be reached now; try again later", "name", strconv.Quote(name))
	}
	s.providers[name] = op
	return p, op, nil
}

func (s *Service) oauth(p Provider, op *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, Endpoint: op.Endpoint(),
		RedirectURL: s.cfg.BaseURL + CallbackPath, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

// flow is what the browser carries between the redirect to the provider
// and the callback, in a signed cookie.
type flow struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
}

// start sends the browser to the provider: the authorization code flow
// with PKCE, a state and a nonce.
func (s *Service) start(w http.ResponseWriter, r *http.Request) {
	p, op, err := s.provider(r.Context(), r.PathValue("provider"))
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	f := flow{Provider: p.Name, State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier()}
	v, err := s.sign("flow", flowTTL, f)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, i18n.NewText("could not start the sign-in"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: v, Path: Path, MaxAge: int(flowTTL / time.Second),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, s.oauth(p, op).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
}

// callback takes the provider's answer: it exchanges the code, verifies
// the id_token (go-oidc: signature against the provider's JWKS, issuer,
// audience, expiry) and its nonce, reads the userinfo, and signs the
// account in.
func (s *Service) callback(w http.ResponseWriter, r *http.Request) {
	var f flow
	c, err := r.Cookie(flowCookie)
	if err != nil || s.own(c.Value, "flow", &f) != nil {
		s.fail(w, r, http.StatusBadRequest, i18n.NewText("this sign-in was not started here, or took too long: start again"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Path: Path, MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		s.fail(w, r, http.StatusForbidden, i18n.NewText("the provider refused the sign-in: {error}", "error", e+" "+q.Get("error_description")))
		return
	}
	if q.Get("state") != f.State {
		s.fail(w, r, http.StatusBadRequest, i18n.NewText("the sign-in's state does not match: start again"))
		return
	}
	p, op, err := s.provider(r.Context(), f.Provider)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	ctx := oidc.ClientContext(r.Context(), s.cfg.Client)
	conf := s.oauth(p, op)
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, i18n.NewText("the provider did not accept the sign-in's code: start again"))
		s.cfg.Logger.Warn("OpenID code exchange failed", "provider", p.Name, "err", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		s.fail(w, r, http.StatusBadGateway, i18n.NewText("the provider gave no id_token"))
		return
	}
	idt, err := op.VerifierContext(ctx, &oidc.Config{ClientID: p.ClientID, Now: s.cfg.Now}).Verify(ctx, raw)
	if err != nil {
		s.fail(w, r, http.StatusForbidden, i18n.NewText("the provider's id_token is not valid ({error})", "error", err.Error()))
		return
	}
	if idt.Nonce != f.Nonce {
		s.fail(w, r, http.StatusForbidden, i18n.NewText("the id_token's nonce is not this sign-in's"))
		return
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		s.fail(w, r, http.StatusBadGateway, i18n.NewText("the id_token's claims are malformed"))
		return
	}
	if op.UserInfoEndpoint() != "" {
		info, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			s.cfg.Logger.Warn("OpenID userinfo failed", "provider", p.Name, "err", err)
		} else if info.Subject == idt.Subject {
			extra := map[string]any{}
			if info.Claims(&extra) == nil {
				for k, v := range extra {
					if _, ok := claims[k]; !ok {
						claims[k] = v
					}
				}
			}
		}
	}
	a := account(p, idt.Issuer, idt.Subject, claims)
	v, err := s.sign("session", s.cfg.SessionTTL, a)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, i18n.NewText("could not sign in"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: v, Path: "/", MaxAge: int(s.cfg.SessionTTL / time.Second),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	s.cfg.Logger.Info("signed in", "provider", p.Name, "owner", a.Owner, "teacher", a.Teacher, "operator", a.Operator)
	http.Redirect(w, r, Path, http.StatusSeeOther)
}

// account applies the provider's rules to an account's claims.
func account(p Provider, issuer, subject string, claims map[string]any) Account {
	str := func(name string) string { v, _ := claims[name].(string); return v }
	email := strings.ToLower(str("email"))
	verified, _ := claims["email_verified"].(bool)
	if !verified {
		email = ""
	}
	name := str("name")
	if name == "" {
		name = strings.TrimSpace(str("given_name") + " " + str("family_name"))
	}
	if name == "" {
		name = email
	}
	teacher := true
	if len(p.AllowedDomains) > 0 {
		_, domain, _ := strings.Cut(email, "@")
		teacher = email != "" && slices.ContainsFunc(p.AllowedDomains, func(d string) bool { return strings.EqualFold(d, domain) })
	}
	if p.AllowedClaim != nil && teacher {
		teacher = hasClaim(claims[p.AllowedClaim.Name], p.AllowedClaim.Value)
	}
	operator := email != "" && slices.ContainsFunc(p.Operators, func(o string) bool { return strings.EqualFold(o, email) })
	return Account{Owner: issuer + " " + subject, Name: name, Email: email, Teacher: teacher, Operator: operator}
}

// hasClaim reports whether a claim's value is want, or holds it.
func hasClaim(v any, want string) bool {
	switch v := v.(type) {
	case string:
		return v == want
	case []any:
		return slices.ContainsFunc(v, func(e any) bool { return hasClaim(e, want) })
	case bool, float64:
		return fmt.Sprint(v) == want
	}
	return false
}

func (s *Service) signOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, Path, http.StatusSeeOther)
}

// sign signs v as a JWT for audience aud (its use), valid for ttl.
func (s *Service) sign(aud string, ttl time.Duration, v any) (string, error) {
	now := s.cfg.Now()
	return jwt.Signed(s.signer).Claims(jwt.Claims{Audience: jwt.Audience{aud}, IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(ttl))}).Claims(v).Serialize()
}

// own verifies a JWT the service signed for aud and decodes it into out.
func (s *Service) own(raw, aud string, out any) error {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		return err
	}
	var std jwt.Claims
	if err := tok.Claims(s.cfg.Key, &std, out); err != nil {
		return err
	}
	return std.ValidateWithLeeway(jwt.Expected{AnyAudience: jwt.Audience{aud}, Time: s.cfg.Now()}, 0)
}

// page shows the providers to sign in with, or who is signed in.
func (s *Service) page(w http.ResponseWriter, r *http.Request) {
	a, ok := s.Account(r)
	words := s.cfg.Catalogues.For(r)
	d := pageData{W: words, Title: words.T("Sign in"), Providers: s.cfg.Settings.Providers}
	if ok {
		d.Title, d.Account = words.T("Signed in"), &a
		d.Who = a.Name
		if a.Email != "" {
			d.Who += " (" + a.Email + ")"
		}
	}
	writePage(w, http.StatusOK, d)
}

// fail answers a sign-in that cannot go on, saying why in the reader's
// language; err is an *i18n.Text.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	words := s.cfg.Catalogues.For(r)
	msg := err.Error()
	if x := (*i18n.Text)(nil); errors.As(err, &x) {
		msg = words.Say(x)
	}
	writePage(w, status, pageData{W: words, Title: words.T("Cannot sign in"), Message: msg})
}

type pageData struct {
	W              i18n.Words
	Title, Message string
	Providers      []Provider
	Account        *Account
	Who            string // the account's name and email
}

// pages are the sign-in pages; every word is the catalogues' (W.T).
var pages = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.W.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}li{margin:.5rem 0}</style>
</head><body><main>
<h1>{{.Title}}</h1>
{{if .Message}}<p role="alert">{{.Message}}</p><p><a href="/signin">{{$.W.T "Back to sign-in"}}</a></p>{{end}}
{{with .Account}}<p>{{$.W.T "You are signed in as {name}." "name" $.Who}}
{{if .Operator}}{{$.W.T "You operate this server."}}{{else if .Teacher}}{{$.W.T "You may create lessons; they are yours on any device."}}{{else}}{{$.W.T "Your account may not create lessons here."}}{{end}}</p>
<p><a href="/">{{$.W.T "Go to the classroom"}}</a> · <a href="/api/me">{{$.W.T "Your lessons, with their links (JSON)"}}</a></p>
<form method="post" action="/signin/out"><button type="submit">{{$.W.T "Sign out"}}</button></form>
{{else}}{{if not .Message}}<ul>{{range .Providers}}<li><a href="/signin/{{.Name}}">{{$.W.T "Sign in with {provider}" "provider" (or .Label .Name)}}</a></li>{{end}}</ul>{{end}}{{end}}
</main></body></html>
`))

func writePage(w http.ResponseWriter, status int, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", d.W.Lang)
	h.Set("Vary", "Accept-Language, Cookie")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	pages.Execute(w, d)
}
