package lti

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime/token"
)

// launch takes the platform's authentication response (LTI 1.3 Core 5.1.2,
// posted by the browser as a form): it checks the id_token and then opens
// the lesson (a resource link) or the deep linking picker.
func (t *Tool) launch(w http.ResponseWriter, r *http.Request) {
	p, l, err := t.verifyLaunch(r)
	if err != nil {
		t.fail(w, r, err)
		return
	}
	switch l.MessageType {
	case messageDeepLinking:
		t.pick(w, r, p, l)
	default:
		t.open(w, r, p, l)
	}
}

// verifyLaunch checks a launch step by step: the state is the tool's own
// and fresh, the id_token is signed by the platform's key (go-oidc, against
// its cached JWKS), is for this tool and not expired (ClockSkew allowed),
// was issued at most MaxLaunchAge ago, carries the login's nonce and
// target_link_uri, the claims its message type requires and a registered
// deployment; last, its nonce is spent, so that the same launch is refused
// when it comes again.
func (t *Tool) verifyLaunch(r *http.Request) (Platform, *launch, error) {
	if err := r.ParseForm(); err != nil {
		return Platform{}, nil, refusal("the launch is malformed")
	}
	if e := r.PostForm.Get("error"); e != "" {
		return Platform{}, nil, refusal("the platform refused the launch: {error}", "error", e+" "+r.PostForm.Get("error_description"))
	}
	raw, rawState := r.PostForm.Get("id_token"), r.PostForm.Get("state")
	if raw == "" || rawState == "" {
		return Platform{}, nil, refusal("the launch carries no id_token or no state")
	}
	var st loginState
	if err := t.own(rawState, stateAudience, &st); err != nil {
		return Platform{}, nil, refusal("the launch's state is not one this classroom gave, or it has expired: start again from the course")
	}
	p, ok := t.cfg.Platforms.find(st.Platform, st.Client)
	if !ok {
		return Platform{}, nil, forbidden("the platform {platform} is no longer registered with this classroom", "platform", strconv.Quote(st.Platform))
	}
	idt, err := t.verifier(p).Verify(r.Context(), raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return Platform{}, nil, refusal("the launch has expired: start again from the course")
		}
		return Platform{}, nil, refusal("the launch's id_token is not valid for this classroom ({error})", "error", err.Error())
	}
	var l launch
	if err := idt.Claims(&l); err != nil {
		return Platform{}, nil, refusal("the launch's claims are malformed ({error})", "error", err.Error())
	}
	if err := l.check(p.ClientID); err != nil {
		return Platform{}, nil, err
	}
	if l.Nonce == "" || l.Nonce != st.Nonce {
		return Platform{}, nil, refusal("the launch's nonce is not its login's")
	}
	if l.TargetLink != "" && l.TargetLink != st.Target {
		return Platform{}, nil, refusal("the launch's target_link_uri is not its login's")
	}
	now := t.cfg.Now()
	if idt.IssuedAt.After(now.Add(ClockSkew)) || idt.IssuedAt.Before(now.Add(-MaxLaunchAge)) {
		return Platform{}, nil, refusal("the launch was issued at {issued}, too far from this classroom's clock ({now})",
			"issued", idt.IssuedAt.UTC().Format(time.RFC3339), "now", now.UTC().Format(time.RFC3339))
	}
	if !slices.Contains(p.Deployments, l.Deployment) {
		return Platform{}, nil, forbidden("deployment {deployment} of {platform} is not registered with this classroom", "deployment", strconv.Quote(l.Deployment), "platform", p.Issuer)
	}
	if err := t.store.UseNonce(r.Context(), p.Issuer, l.Nonce, now.Add(MaxLaunchAge+ClockSkew)); err != nil {
		if domain.ErrorCode(err) == domain.CodeConflict {
			return Platform{}, nil, refusal("this launch was used already: start again from the course")
		}
		return Platform{}, nil, err
	}
	return p, &l, nil
}

// open takes a resource link launch to its lesson: the user joins with a
// token of their own, given in the URL's fragment, as any join link's.
func (t *Tool) open(w http.ResponseWriter, r *http.Request, p Platform, l *launch) {
	lesson, err := t.lessonOf(r.Context(), p, l)
	if err != nil {
		t.fail(w, r, err)
		return
	}
	role := l.role()
	if role == domain.RoleTeacher && l.NRPS != nil && l.NRPS.MembershipsURL != "" && l.Context != nil {
		// The roster is fetched when a teacher opens the lesson, so that
		// the attendance report can name who never came.
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		if err := t.fetchRoster(ctx, p, l.Context.ID, l.NRPS.MembershipsURL); err != nil {
			t.cfg.Logger.Warn("LTI roster not fetched", "issuer", p.Issuer, "course", l.Context.ID, "err", err)
		}
		cancel()
	}
	tok, err := t.cfg.Tokens.Issue(token.Claims{Lesson: lesson, Role: role, Participant: Participant(p.Issuer, l.Subject),
		Name: l.displayName(), Expires: t.cfg.Now().Add(t.cfg.LinkTTL)})
	if err != nil {
		t.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, "/lessons/"+lesson.String()+"#token="+tok, http.StatusSeeOther)
}

// lessonOf returns the lesson a resource link opens, creating it on the
// link's first launch and, for a series, when the last one ended or was
// created in an earlier week.
func (t *Tool) lessonOf(ctx context.Context, p Platform, l *launch) (uuid.UUID, error) {
	course := ""
	if l.Context != nil {
		course = l.Context.ID
	}
	link, err := t.store.LTILink(ctx, p.Issuer, p.ClientID, l.ResourceLink.ID)
	prev := link.Lesson
	switch {
	case err == nil:
		if !link.Series {
			return link.Lesson, nil
		}
		cur, err := t.cfg.Store.Lesson(ctx, link.Lesson)
		if err != nil {
			return uuid.Nil, err
		}
		if cur.Ended.IsZero() && sameWeek(cur.Created, t.cfg.Now()) {
			return link.Lesson, nil
		}
	case domain.ErrorCode(err) == domain.CodeNotFound:
		link = eventstore.LTILink{Issuer: p.Issuer, ClientID: p.ClientID, ResourceLink: l.ResourceLink.ID,
			Series: l.custom("series") == "weekly", Lobby: l.custom("lobby") == "true"}
	default:
		return uuid.Nil, err
	}
	id, err := t.createLesson(ctx, l.title(), link.Lobby)
	if err != nil {
		return uuid.Nil, err
	}
	link.Lesson, link.Deployment, link.Context, link.LineItems = id, l.Deployment, course, l.lineItems()
	// Two launches racing both made a lesson: the one stored first is
	// everyone's, and the other stays empty.
	if link, err = t.store.PutLTILink(ctx, link, prev); err != nil {
		return uuid.Nil, err
	}
	return link.Lesson, nil
}

// createLesson stores a new lesson; with lobby, its students wait to be
// admitted.
func (t *Tool) createLesson(ctx context.Context, title string, lobby bool) (uuid.UUID, error) {
	id := uuid.New()
	ev, err := domain.NewLesson(id, uuid.New(), title, t.cfg.Now())
	if err != nil {
		return uuid.Nil, err
	}
	ev.Payload.(*domain.LessonCreated).Lobby = lobby
	_, errs, err := t.cfg.Store.Append(ctx, ev)
	if err == nil {
		err = errs[0]
	}
	if err != nil {
		return uuid.Nil, err
	}
	return id, nil
}

// sameWeek tells whether a and b fall in the same ISO week.
func sameWeek(a, b time.Time) bool {
	ay, aw := a.ISOWeek()
	by, bw := b.ISOWeek()
	return ay == by && aw == bw
}

// title is the lesson title a launch asks for: the one chosen when it was
// deep-linked, else the resource link's, else the course's.
func (l *launch) title() string {
	title := l.custom("title")
	if title == "" && l.ResourceLink != nil {
		title = l.ResourceLink.Title
	}
	if title == "" && l.Context != nil {
		title = l.Context.Title
	}
	if title == "" {
		title = "Lesson"
	}
	if r := []rune(title); len(r) > domain.MaxTitleRunes {
		title = string(r[:domain.MaxTitleRunes])
	}
	return title
}
