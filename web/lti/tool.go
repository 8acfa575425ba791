package lti

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime/token"
	"classroom/web/i18n"
)

// Bounds of a launch.
const (
	// ClockSkew is how far the platform's clock may be from the tool's:
	// an id_token issued further in the future, or expired longer ago, is
	// refused.
	ClockSkew = time.Minute
	// MaxLaunchAge is how old an id_token may be (its iat); the nonce is
	// kept that long, so a replay is refused whenever it comes.
	MaxLaunchAge = 10 * time.Minute
	// loginTTL is how long a login's state admits the launch that follows.
	loginTTL = 10 * time.Minute
	// pickTTL is how long a teacher has to choose what to deep-link.
	pickTTL = 30 * time.Minute
)

// Paths the tool serves; the README gives them to platforms.
const (
	LoginPath    = "/lti/login"
	LaunchPath   = "/lti/launch"
	JWKSPath     = "/lti/jwks"
	DeepLinkPath = "/lti/deeplink"
)

// Config is what a Tool serves with.
type Config struct {
	// BaseURL is the server's public URL (https://classroom.school.example),
	// from which the tool's login, launch and JWKS URLs are made.
	BaseURL   string
	Platforms *Platforms
	Keys      *Keys
	// Store holds the lessons; it must implement eventstore.LTI.
	Store  eventstore.Store
	Tokens *token.Keeper
	// LinkTTL is how long the join token a launch hands out admits; 0 means
	// 12 hours.
	LinkTTL time.Duration
	// Client makes the requests to platforms (JWKS, token, roster); nil
	// means one with a 10 s timeout.
	Client *http.Client
	// Catalogues are the pages' words in every language (web.Catalogues);
	// nil shows them in English.
	Catalogues *i18n.Catalogues
	Now        func() time.Time
	Logger     *slog.Logger
}

// Tool is the LTI 1.3 tool.
type Tool struct {
	cfg   Config
	store eventstore.LTI
	base  string

	mu        sync.Mutex
	verifiers map[string]*oidc.IDTokenVerifier // by platform; each caches its JWKS
}

// New returns the tool; the store must implement eventstore.LTI.
func New(cfg Config) (*Tool, error) {
	store, ok := cfg.Store.(eventstore.LTI)
	if !ok {
		return nil, errors.New("lti: the store keeps no LTI links")
	}
	if cfg.Platforms == nil || cfg.Keys == nil || cfg.Tokens == nil {
		return nil, errors.New("lti: platforms, keys and tokens are required")
	}
	if cfg.LinkTTL == 0 {
		cfg.LinkTTL = 12 * time.Hour
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
	return &Tool{cfg: cfg, store: store, base: strings.TrimSuffix(cfg.BaseURL, "/"),
		verifiers: make(map[string]*oidc.IDTokenVerifier)}, nil
}

// Handler serves the tool's routes under /lti/.
func (t *Tool) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+LoginPath, t.login)
	mux.HandleFunc("POST "+LoginPath, t.login)
	mux.HandleFunc("POST "+LaunchPath, t.launch)
	mux.HandleFunc("GET "+JWKSPath, t.jwks)
	mux.HandleFunc("POST "+DeepLinkPath, t.deepLink)
	return mux
}

// URL is the absolute URL of one of the tool's paths.
func (t *Tool) URL(path string) string { return t.base + path }

func (t *Tool) jwks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=300")
	json.NewEncoder(w).Encode(t.cfg.Keys.Public())
}

// verifier returns the id_token verifier of a platform, made once so that
// its cache of the platform's JWKS is kept: go-oidc fetches the keys again
// when a token names a key id it does not hold (the platform rotated).
func (t *Tool) verifier(p Platform) *oidc.IDTokenVerifier {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := p.Issuer + "\x00" + p.ClientID + "\x00" + p.JWKSURL
	v, ok := t.verifiers[key]
	if !ok {
		ctx := oidc.ClientContext(context.Background(), t.cfg.Client)
		v = oidc.NewVerifier(p.Issuer, oidc.NewRemoteKeySet(ctx, p.JWKSURL), &oidc.Config{
			ClientID:             p.ClientID,
			SupportedSigningAlgs: []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512},
			// exp is checked against a clock ClockSkew behind ours.
			Now: func() time.Time { return t.cfg.Now().Add(-ClockSkew) },
		})
		t.verifiers[key] = v
	}
	return v
}

// sign signs claims as a JWT with the tool's newest key.
func (t *Tool) sign(claims ...any) (string, error) {
	s, err := t.cfg.Keys.signer()
	if err != nil {
		return "", fmt.Errorf("lti: signer: %w", err)
	}
	b := jwt.Signed(s)
	for _, c := range claims {
		b = b.Claims(c)
	}
	out, err := b.Serialize()
	if err != nil {
		return "", fmt.Errorf("lti: sign: %w", err)
	}
	return out, nil
}

// own verifies a JWT the tool signed itself (a login's state, a deep
// linking choice) for audience, and decodes its claims into out.
func (t *Tool) own(raw, aud string, out any) error {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return err
	}
	var std jwt.Claims
	for _, key := range t.cfg.Keys.verifiers() {
		if len(tok.Headers) == 1 && tok.Headers[0].KeyID != key.KeyID {
			continue
		}
		if err = tok.Claims(key.Key, &std, out); err != nil {
			return err
		}
		return std.ValidateWithLeeway(jwt.Expected{Issuer: t.base, AnyAudience: jwt.Audience{aud}, Time: t.cfg.Now()}, 0)
	}
	return errors.New("signed with a key the tool does not hold")
}

// Participant is the participant id an LTI user joins lessons with: the
// same on every launch from the same platform, and the key a course's
// roster is kept under, so that attendance and roster join on it.
func Participant(issuer, user string) string {
	sum := sha256.Sum256([]byte(issuer + "\x00" + user))
	return "lti-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15]))
}

// refused is a launch the tool turns away: a message for the person in
// front of the platform, and the HTTP status.
type refused struct {
	status int
	msg    *i18n.Text
}

func (r *refused) Error() string { return r.msg.Error() }

// refusal is a request refused as bad: english is a text of the catalogues,
// params its placeholders' values as name, value pairs.
func refusal(english string, params ...string) error {
	return &refused{status: http.StatusBadRequest, msg: &i18n.Text{English: english, Params: params}}
}

// forbidden is a request refused as not allowed, as refusal words it.
func forbidden(english string, params ...string) error {
	return &refused{status: http.StatusForbidden, msg: &i18n.Text{English: english, Params: params}}
}

// fail answers an error as a small page, since the person reading it sees
// it in the platform's frame. Internal errors are logged and shown plainly.
func (t *Tool) fail(w http.ResponseWriter, r *http.Request, err error) {
	words := t.cfg.Catalogues.For(r)
	status, msg := http.StatusInternalServerError, words.T("The classroom could not open this activity. Try again in a moment.")
	var ref *refused
	switch {
	case errors.As(err, &ref):
		status, msg = ref.status, words.Say(ref.msg)
	case domain.ErrorCode(err) != domain.CodeInternal && domain.ErrorCode(err) != domain.CodeUnavailable:
		status, msg = http.StatusBadRequest, domain.ErrorMessage(err)
	default:
		t.cfg.Logger.Error("LTI request failed", "path", r.URL.Path, "err", err)
	}
	t.cfg.Logger.Info("LTI request refused", "path", r.URL.Path, "status", status, "reason", msg)
	writePage(w, status, pageData{W: words, Title: words.T("Cannot open the classroom"), Message: msg})
}

// randomID is a random identifier for a JWT's jti or a nonce.
func randomID() string { return rand.Text() }
