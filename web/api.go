package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/lessonlog"
	"classroom/lessonvideo"
	"classroom/realtime"
	"classroom/realtime/token"
	"classroom/web/signin"
)

// MaxBodyBytes bounds a request body of the JSON API.
const MaxBodyBytes = 64 << 10

// Config is what the HTTP surface serves.
type Config struct {
	Store eventstore.Store
	// Tokens, when set, signs the join links a new lesson is given.
	Tokens *token.Keeper
	// Live, when set, serves the signaling WebSocket at
	// GET /api/lessons/{id}/ws.
	Live http.Handler
	// Recordings, when set, is the directory of recorded media (a
	// directory per lesson), listed and served to the teacher.
	Recordings string
	// Metrics, when set, serves GET /metrics.
	Metrics http.Handler
	// Logger receives request failures; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock lessons and links are stamped with; nil means time.Now.
	Now func() time.Time
	// LinkTTL is how long a lesson's join links admit; 0 means 7 days.
	LinkTTL time.Duration
	// Decks keeps uploaded slide decks; nil means the Store, when it keeps
	// them. Without it the deck routes are not served.
	Decks eventstore.Decks
	// DeckLimits bounds uploaded decks; zero fields mean the defaults.
	DeckLimits DeckLimits
	// OperatorKey is the secret of the server's operator, who alone lists
	// every lesson (GET /api/lessons with Authorization: Bearer <key>): a
	// school's lesson titles are not for every visitor. Empty: no one does;
	// a visitor's pages list the lessons of the links they hold.
	OperatorKey string
	// LTI, when set, serves the LTI 1.3 tool's routes under /lti/.
	LTI http.Handler
	// Gradebook, when set, sends a launched lesson's attendance to its
	// platform's gradebook when the teacher asks.
	Gradebook Gradebook
	// SignIn, when set, signs teachers and operators in with OpenID
	// Connect (under /signin), may restrict who creates lessons, and keeps
	// a signed-in teacher's lessons as theirs (GET /api/me).
	SignIn *signin.Service
	// FrameAncestors are the origins (CSP source expressions) that may
	// show the lesson page in a frame: the learning platforms' pages.
	// None may when it is empty.
	FrameAncestors []string
	// Streams, when set, serves WHIP ingest and WHEP egress (streams.go).
	Streams *realtime.Streams
	// Keys keeps the stream keys; nil means the Store, when it keeps them.
	Keys eventstore.StreamKeys
	// Videos, when set, renders and keeps lessons' videos, started,
	// followed and fetched at /api/lessons/{id}/video.
	Videos *lessonvideo.Renderer
}

// API serves the JSON API.
type API struct {
	cfg     Config
	store   eventstore.Store
	log     *slog.Logger
	now     func() time.Time
	decks   eventstore.Decks
	uploads chan struct{} // a slot per deck upload being read
	keys    eventstore.StreamKeys
	removed removedSets // the students removed from each lesson, for playback
}

// NewHandler returns the server's HTTP handler.
func NewHandler(cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.LinkTTL == 0 {
		cfg.LinkTTL = 7 * 24 * time.Hour
	}
	if cfg.Decks == nil {
		cfg.Decks, _ = cfg.Store.(eventstore.Decks)
	}
	cfg.DeckLimits = cfg.DeckLimits.withDefaults()
	if cfg.Keys == nil {
		cfg.Keys, _ = cfg.Store.(eventstore.StreamKeys)
	}
	a := &API{cfg: cfg, store: cfg.Store, log: cfg.Logger, now: cfg.Now, decks: cfg.Decks, uploads: make(chan struct{}, maxUploads),
		keys: cfg.Keys}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.health)
	mux.HandleFunc("POST /api/lessons", a.createLesson)
	mux.HandleFunc("GET /api/lessons", a.listLessons)
	mux.HandleFunc("GET /api/lessons/{id}", a.getLesson)
	mux.HandleFunc("DELETE /api/lessons/{id}", a.deleteLesson)
	mux.HandleFunc("POST /api/lessons/{id}/invitations", a.invite)
	mux.HandleFunc("GET /api/lessons/{id}/export", a.exportLesson)
	mux.HandleFunc("GET /api/lessons/{id}/state", a.lessonState)
	mux.Handle("GET /static/", staticHandler())
	if cfg.Decks != nil {
		mux.HandleFunc("POST /api/lessons/{id}/decks", a.uploadDeck)
		mux.HandleFunc("GET /api/lessons/{id}/decks/{deck}/pages/{n}", a.deckPage)
	}
	a.routeStreams(mux)
	mux.HandleFunc("GET /{$}", page("index.html"))
	mux.HandleFunc("GET /lessons/{id}", lessonPage(cfg.FrameAncestors))
	if cfg.LTI != nil {
		mux.Handle("/lti/", cfg.LTI)
	}
	if _, ok := cfg.Store.(eventstore.LTI); ok {
		mux.HandleFunc("GET /api/lessons/{id}/roster", a.roster)
	}
	if cfg.Gradebook != nil {
		mux.HandleFunc("POST /api/lessons/{id}/gradebook", a.gradebook)
	}
	if cfg.SignIn != nil {
		mux.Handle("/signin", cfg.SignIn.Handler())
		mux.Handle("/signin/", cfg.SignIn.Handler())
		mux.HandleFunc("GET /api/me", a.me)
	}
	mux.HandleFunc("GET /lessons/{id}/replay", replayPage())
	mux.HandleFunc("GET /lessons/{id}/attendance", idPage("attendance.html", nil))
	mux.HandleFunc("GET /api/lessons/{id}/events", a.events)
	if cfg.Live != nil {
		mux.Handle("GET /api/lessons/{id}/ws", cfg.Live)
	}
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	if cfg.Recordings != "" {
		mux.HandleFunc("GET /api/lessons/{id}/recordings", a.listRecordings)
		mux.HandleFunc("GET /api/lessons/{id}/recordings/{file}", a.recording)
	}
	if cfg.Videos != nil {
		mux.HandleFunc("POST /api/lessons/{id}/video", a.startVideo)
		mux.HandleFunc("GET /api/lessons/{id}/video/status", a.videoStatus)
		mux.HandleFunc("GET /api/lessons/{id}/video", a.video)
	}
	return compressed(headers(mux))
}

// headers sets the headers every answer carries and turns the mux's own
// plain-text 404 and 405 answers into JSON errors.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(&jsonErrors{ResponseWriter: w}, r)
	})
}

// jsonErrors rewrites plain-text 404 and 405 answers (the mux's own, for
// unknown routes and wrong methods) into the API's JSON error form.
type jsonErrors struct {
	http.ResponseWriter
	swallow bool
}

func (w *jsonErrors) WriteHeader(status int) {
	if (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) &&
		w.Header().Get("Content-Type") == "text/plain; charset=utf-8" {
		code, msg := domain.CodeNotFound, "not found"
		if status == http.StatusMethodNotAllowed {
			code, msg = "method_not_allowed", "method not allowed"
		}
		w.swallow = true
		h := w.Header()
		h.Del("X-Content-Type-Options")
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		w.ResponseWriter.WriteHeader(status)
		_ = json.NewEncoder(w.ResponseWriter).Encode(errorBody{Error: errorDetail{Code: code, Message: msg}})
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *jsonErrors) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *jsonErrors) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack lets the WebSocket upgrade through the wrapper.
func (w *jsonErrors) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (a *API) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.store.Ping(ctx); err != nil {
		a.fail(w, r, domain.Errorf(domain.CodeUnavailable, "the event store is unavailable"))
		return
	}
	a.reply(w, http.StatusOK, map[string]string{"status": "ok"})
}

// lessonJSON is a lesson as the API shows it.
type lessonJSON struct {
	ID      uuid.UUID  `json:"id"`
	Title   string     `json:"title"`
	Created time.Time  `json:"created"`
	Ended   *time.Time `json:"ended,omitempty"`
	LastSeq int64      `json:"last_seq"`
	// Recording says, in a single lesson's answer, that it is being recorded.
	Recording bool `json:"recording,omitempty"`
	// Given only to whoever created the lesson.
	Teacher  *linkJSON `json:"teacher,omitempty"`
	Students *linkJSON `json:"students,omitempty"`
}

// linkJSON admits to a lesson: the token for the signaling join, and the
// page to open with it. The token rides in the URL's fragment, which
// browsers never send to a server, so it stays out of access logs.
type linkJSON struct {
	Token   string    `json:"token"`
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// link signs a token for the lesson; participant is empty for an
// invitation, which carries the id invitation.
func (a *API) link(lesson uuid.UUID, role domain.Role, participant string, invitation uuid.UUID) (*linkJSON, error) {
	expires := a.now().Add(a.cfg.LinkTTL).UTC().Truncate(time.Second)
	tok, err := a.cfg.Tokens.Issue(token.Claims{Lesson: lesson, Role: role, Participant: participant, Expires: expires,
		Invitation: invitation})
	if err != nil {
		return nil, fmt.Errorf("sign a join link: %w", err)
	}
	return &linkJSON{Token: tok, URL: "/lessons/" + lesson.String() + "#token=" + tok, Expires: expires}, nil
}

func toJSON(l eventstore.Lesson) lessonJSON {
	j := lessonJSON{ID: l.ID, Title: l.Title, Created: l.Created, LastSeq: l.LastSeq}
	if !l.Ended.IsZero() {
		ended := l.Ended
		j.Ended = &ended
	}
	return j
}

func (a *API) createLesson(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Title string `json:"title"`
		Lobby bool   `json:"lobby"` // students wait to be admitted
	}
	if err := decodeBody(w, r, &body); err != nil {
		a.fail(w, r, err)
		return
	}
	owner, owned, err := a.mayCreate(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	id := uuid.New()
	ev, err := domain.NewLesson(id, uuid.New(), body.Title, a.now())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ev.Payload.(*domain.LessonCreated).Lobby = body.Lobby
	seqs, errs, err := a.store.Append(r.Context(), ev)
	if err == nil {
		err = errs[0]
	}
	if err == nil && owned {
		err = a.recordOwner(r, id, owner)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := lessonJSON{ID: id, Title: body.Title, Created: ev.Time, LastSeq: seqs[0]}
	if a.cfg.Tokens != nil {
		// The teacher's link names the teacher, so that every device they
		// open it on is the same participant; the students' link names no
		// one, and each student who joins with it becomes someone new.
		// The first students' link is not recorded: until the teacher
		// asks for another, every students' link of the lesson admits.
		if out.Teacher, err = a.link(id, domain.RoleTeacher, "teacher", uuid.Nil); err == nil {
			out.Students, err = a.link(id, domain.RoleStudent, "", uuid.New())
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
	}
	w.Header().Set("Location", "/api/lessons/"+id.String())
	a.reply(w, http.StatusCreated, out)
}

// invite gives the teacher a students' link. The request carries the
// teacher's token (Authorization: Bearer …) and, optionally, a JSON body.
// Without one, or with {"replace": false}, the link is the lesson's current
// one with a fresh expiry: every students' link that admitted still does.
// With {"replace": true}, the new link replaces every earlier one, which
// stops admitting (for a link that leaked); students who joined with one
// keep their own tokens.
func (a *API) invite(w http.ResponseWriter, r *http.Request) {
	l, err := a.teacherOf(r, "invites students")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var body struct {
		Replace bool `json:"replace"`
	}
	if r.ContentLength != 0 || r.Header.Get("Content-Type") != "" { // -1: a body of unknown length
		if err := decodeBody(w, r, &body); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	invitation := l.Invitation
	switch {
	case body.Replace:
		invitation = uuid.New()
		if err := a.store.SetInvitation(r.Context(), l.ID, invitation); err != nil {
			a.fail(w, r, err)
			return
		}
	case invitation == uuid.Nil:
		// None recorded: every students' link admits, so any id will do
		// until one is.
		invitation = uuid.New()
	}
	link, err := a.link(l.ID, domain.RoleStudent, "", invitation)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusCreated, link)
}

func (a *API) listLessons(w http.ResponseWriter, r *http.Request) {
	var opts eventstore.ListOptions
	q := r.URL.Query()
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > eventstore.MaxList {
			a.fail(w, r, domain.Errorf(domain.CodeInvalid, "limit must be a number from 1 to %d", eventstore.MaxList))
			return
		}
		opts.Limit = n
	}
	if s := q.Get("before"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			a.fail(w, r, domain.Errorf(domain.CodeInvalid, "before must be an RFC 3339 time"))
			return
		}
		opts.Before = t
	}
	if err := a.operator(r); err != nil {
		a.fail(w, r, err)
		return
	}
	lessons, err := a.store.Lessons(r.Context(), opts)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Lessons []lessonJSON `json:"lessons"`
	}{Lessons: make([]lessonJSON, 0, len(lessons))}
	for _, l := range lessons {
		out.Lessons = append(out.Lessons, toJSON(l))
	}
	a.reply(w, http.StatusOK, out)
}

func (a *API) getLesson(w http.ResponseWriter, r *http.Request) {
	id, err := pathLesson(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	l, err := a.store.Lesson(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := toJSON(l)
	// Whether it is being recorded, for a student to know before their
	// camera and microphone are used: every student joining asks, so it
	// is read without restoring and folding the lesson's state.
	if out.Recording, err = lessonlog.Recording(r.Context(), a.store, l); err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, out)
}

// decodeBody reads a JSON request body of at most MaxBodyBytes into v,
// refusing other content types, unknown fields and trailing data.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &statusError{http.StatusUnsupportedMediaType, domain.Errorf(domain.CodeInvalid, "the body must be application/json")}
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &statusError{http.StatusRequestEntityTooLarge, domain.Errorf(domain.CodeInvalid, "the body is larger than %d bytes", MaxBodyBytes)}
		}
		return domain.Errorf(domain.CodeInvalid, "could not read the body")
	}
	data := buf.Bytes()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return domain.Errorf(domain.CodeInvalid, "malformed JSON body: %v", err)
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) != 0 {
		return domain.Errorf(domain.CodeInvalid, "malformed JSON body: trailing data")
	}
	return nil
}

// statusError is an application error that wants a particular HTTP status.
type statusError struct {
	status int
	err    *domain.Error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    domain.Code   `json:"code"`
	Reason  domain.Reason `json:"reason,omitempty"`
	Message string        `json:"message"`
}

// Status returns the HTTP status for an application error code.
func Status(code domain.Code) int {
	switch code {
	case domain.CodeInvalid:
		return http.StatusBadRequest
	case domain.CodeUnauthorized:
		return http.StatusUnauthorized
	case domain.CodeForbidden:
		return http.StatusForbidden
	case domain.CodeNotFound:
		return http.StatusNotFound
	case domain.CodeConflict:
		return http.StatusConflict
	case domain.CodeUnavailable:
		return http.StatusServiceUnavailable
	case domain.CodeRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// fail answers an error as JSON. Internal failures are logged and shown only
// as "internal error".
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, reason := domain.ErrorCode(err), domain.ErrorReason(err)
	status := Status(code)
	var se *statusError
	if errors.As(err, &se) {
		status = se.status
	}
	if code == domain.CodeInternal || errors.Is(err, context.DeadlineExceeded) {
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		code, reason, status = domain.CodeInternal, "", http.StatusInternalServerError
	}
	if errors.Is(r.Context().Err(), context.Canceled) {
		return // the client has gone
	}
	a.reply(w, status, errorBody{Error: errorDetail{Code: code, Reason: reason, Message: domain.ErrorMessage(err)}})
}

func (a *API) reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		a.log.Debug("write response", "err", err)
	}
}
