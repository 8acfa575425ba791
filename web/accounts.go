package web

import (
	"errors"
	"net/http"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/web/signin"
)

// mayCreate refuses a request to create a lesson when the server lets
// only signed-in teachers create them and the request's account is not
// one; it returns the account to record as the lesson's owner, if any.
func (a *API) mayCreate(r *http.Request) (signin.Account, bool, error) {
	if a.cfg.SignIn == nil {
		return signin.Account{}, false, nil
	}
	if err := a.cfg.SignIn.MayCreate(r); err != nil {
		code := domain.CodeForbidden
		if errors.Is(err, signin.ErrSignInFirst) {
			code = domain.CodeUnauthorized
		}
		return signin.Account{}, false, domain.Errorf(code, "%s", err.Error())
	}
	acct, ok := a.cfg.SignIn.Account(r)
	return acct, ok && (acct.Teacher || acct.Operator), nil
}

// recordOwner keeps a new lesson as its signed-in creator's.
func (a *API) recordOwner(r *http.Request, lesson uuid.UUID, acct signin.Account) error {
	owners, ok := a.store.(eventstore.Owners)
	if !ok {
		return errors.New("the store keeps no lesson owners")
	}
	return owners.SetOwner(r.Context(), lesson, acct.Owner)
}

// me answers who is signed in and, for a teacher, their lessons with a
// fresh teacher's link each, so that they are theirs on any device; an
// operator gets every lesson's.
func (a *API) me(w http.ResponseWriter, r *http.Request) {
	acct, ok := a.cfg.SignIn.Account(r)
	if !ok {
		a.fail(w, r, domain.Errorf(domain.CodeUnauthorized, "not signed in: sign in at /signin"))
		return
	}
	out := struct {
		Account signin.Account `json:"account"`
		Lessons []lessonJSON   `json:"lessons"`
	}{Account: acct, Lessons: []lessonJSON{}}
	var lessons []eventstore.Lesson
	var err error
	switch owners, ok := a.store.(eventstore.Owners); {
	case acct.Operator:
		lessons, err = a.store.Lessons(r.Context(), eventstore.ListOptions{})
	case ok:
		lessons, err = owners.OwnedLessons(r.Context(), acct.Owner, eventstore.ListOptions{})
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	for _, l := range lessons {
		j := toJSON(l)
		if a.cfg.Tokens != nil {
			if j.Teacher, err = a.link(l.ID, domain.RoleTeacher, "teacher", uuid.Nil); err != nil {
				a.fail(w, r, err)
				return
			}
		}
		out.Lessons = append(out.Lessons, j)
	}
	w.Header().Set("Cache-Control", "no-store")
	a.reply(w, http.StatusOK, out)
}
