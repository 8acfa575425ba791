package web

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime/token"
)

// teacher checks that the request carries the teacher's token for lesson
// (see bearer). forbidden is the refusal a valid student's token gets.
func (a *API) teacher(r *http.Request, lesson uuid.UUID, forbidden string) error {
	claims, err := a.bearer(r, lesson, "the teacher's token")
	if err != nil {
		return err
	}
	if claims.Role != domain.RoleTeacher {
		return domain.Errorf(domain.CodeForbidden, "%s", forbidden)
	}
	return nil
}

// operator checks that the request carries the operator's key (see
// Config.OperatorKey) as Authorization: Bearer <key>.
func (a *API) operator(r *http.Request) error {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if a.cfg.OperatorKey == "" || !ok || subtle.ConstantTimeCompare([]byte(key), []byte(a.cfg.OperatorKey)) != 1 {
		return domain.Errorf(domain.CodeUnauthorized, "only the server's operator lists every lesson: send the operator's key as Authorization: Bearer <key>")
	}
	return nil
}

// bearer verifies the token the request carries for lesson, a teacher's or
// a student's: as Authorization: Bearer <token>, or, for GET and HEAD only,
// as the query parameter access_token (RFC 6750, section 2.3), because a
// page's <video> cannot send a header (the pages send no Referer, and the
// server keeps no access log). whose names the token in the refusal of a
// request without one.
func (a *API) bearer(r *http.Request, lesson uuid.UUID, whose string) (token.Claims, error) {
	if a.cfg.Tokens == nil {
		return token.Claims{}, domain.Errorf(domain.CodeNotFound, "this server gives no join links")
	}
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		bearer = r.URL.Query().Get("access_token")
		ok = bearer != ""
	}
	if !ok {
		return token.Claims{}, domain.Errorf(domain.CodeUnauthorized, "send %s as Authorization: Bearer <token>", whose)
	}
	return a.cfg.Tokens.Verify(bearer, lesson)
}

// memberOf checks that the request may play back the lesson of its path,
// which must exist, and returns the lesson's id: the teacher at any time,
// a student (with their own token, or a class link the teacher has not
// replaced) once the lesson has ended. While it runs, a student takes part
// in it; and a link that leaked to someone outside the class does not let
// them watch the recordings of a lesson in progress unseen. A student the
// teacher removed is refused with their own token.
func (a *API) memberOf(r *http.Request) (uuid.UUID, error) {
	id, _, err := a.viewerOf(r)
	return id, err
}

// viewerOf checks as memberOf does and says who plays the lesson back, so
// that a student is given no other student's answer to an anonymous poll
// (domain.HiddenFrom, domain.State.ForStudent).
func (a *API) viewerOf(r *http.Request) (uuid.UUID, token.Claims, error) {
	id, err := pathLesson(r)
	if err != nil {
		return uuid.Nil, token.Claims{}, err
	}
	claims, err := a.bearer(r, id, "the lesson's link token")
	if err != nil {
		return uuid.Nil, token.Claims{}, err
	}
	lesson, err := a.store.Lesson(r.Context(), id)
	if err != nil {
		return uuid.Nil, token.Claims{}, err
	}
	if err := claims.CheckInvitation(lesson.Invitation); err != nil {
		return uuid.Nil, token.Claims{}, err
	}
	if claims.Role != domain.RoleTeacher && lesson.Ended.IsZero() {
		return uuid.Nil, token.Claims{}, domain.Errorf(domain.CodeForbidden, "students play a lesson back once it has ended")
	}
	if claims.Role != domain.RoleTeacher && claims.Participant != "" {
		// A removed student's own token plays nothing back.
		removed, err := a.removed.isRemoved(r.Context(), a.store, lesson, claims.Participant)
		if err != nil {
			return uuid.Nil, token.Claims{}, err
		}
		if removed {
			return uuid.Nil, token.Claims{}, domain.Errorf(domain.CodeForbidden, "the teacher removed you from this lesson").Because(domain.ReasonRemoved)
		}
	}
	return id, claims, nil
}

// teacherOf checks that the request carries the teacher's token for the
// lesson of its path, which must exist, and returns the lesson. what
// completes "only the teacher …" in the refusal.
func (a *API) teacherOf(r *http.Request, what string) (eventstore.Lesson, error) {
	id, err := a.teacherPath(r, what)
	if err != nil {
		return eventstore.Lesson{}, err
	}
	return a.store.Lesson(r.Context(), id)
}

// teacherPath checks that the request carries the teacher's token for the
// lesson of its path and returns the lesson's id, without reading the
// lesson. what completes "only the teacher …" in the refusal.
func (a *API) teacherPath(r *http.Request, what string) (uuid.UUID, error) {
	id, err := pathLesson(r)
	if err != nil {
		return uuid.Nil, err
	}
	if err := a.teacher(r, id, "only the teacher "+what); err != nil {
		return uuid.Nil, err
	}
	return id, nil
}

// pathLesson reads the lesson id of the request's path.
func pathLesson(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return uuid.Nil, domain.Errorf(domain.CodeInvalid, "%q is not a lesson id", r.PathValue("id"))
	}
	return id, nil
}
