package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime"
	"classroom/realtime/protocol"
)

// The routes of WHIP ingest and WHEP egress (RFC 9725): an encoder POSTs its
// offer to a lesson's whip endpoint, a player to its whep endpoint, each
// with a stream key the teacher made (or the teacher's own token) as
// Authorization: Bearer, and gets 201 with the answer, the resource's
// Location and ETag, and the STUN/TURN servers in Link headers. DELETE on
// the resource ends the stream, PATCH trickles candidates or restarts ICE.
func (a *API) routeStreams(mux *http.ServeMux) {
	if a.cfg.Streams == nil {
		return
	}
	mux.HandleFunc("POST /api/lessons/{id}/whip", a.streamOffer(realtime.StreamPublish))
	mux.HandleFunc("POST /api/lessons/{id}/whep", a.streamOffer(realtime.StreamView))
	mux.HandleFunc("OPTIONS /api/lessons/{id}/whip", a.streamOptions)
	mux.HandleFunc("OPTIONS /api/lessons/{id}/whep", a.streamOptions)
	mux.HandleFunc("DELETE /api/lessons/{id}/streams/{stream}", a.endStream)
	mux.HandleFunc("PATCH /api/lessons/{id}/streams/{stream}", a.patchStream)
	mux.HandleFunc("OPTIONS /api/lessons/{id}/streams/{stream}", a.streamOptions)
	if a.keys != nil {
		mux.HandleFunc("POST /api/lessons/{id}/keys", a.createKey)
		mux.HandleFunc("GET /api/lessons/{id}/keys", a.listKeys)
		mux.HandleFunc("DELETE /api/lessons/{id}/keys/{key}", a.revokeKey)
	}
}

// streamCORS lets players and encoders on other origins (a WHEP player on
// a school's page) use the endpoints: they authenticate with a bearer
// token, never a cookie.
func streamCORS(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, PATCH, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
	h.Set("Access-Control-Expose-Headers", "Location, Link, ETag, Accept-Patch")
}

func (a *API) streamOptions(w http.ResponseWriter, r *http.Request) {
	streamCORS(w)
	w.Header().Set("Accept-Post", "application/sdp")
	w.WriteHeader(http.StatusNoContent)
}

// streamCredential is who a WHIP/WHEP request is: the stream key it
// carries, or the lesson's teacher (key uuid.Nil); and the key's label.
func (a *API) streamCredential(r *http.Request, lesson uuid.UUID, kind realtime.StreamKind) (uuid.UUID, string, error) {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || bearer == "" {
		return uuid.Nil, "", domain.Errorf(domain.CodeUnauthorized, "send the stream key as Authorization: Bearer <key>")
	}
	if strings.HasPrefix(bearer, keyPrefix) && a.keys != nil {
		k, err := a.keys.KeyByHash(r.Context(), lesson, sha256.Sum256([]byte(bearer)))
		if domain.ErrorCode(err) == domain.CodeNotFound {
			return uuid.Nil, "", domain.Errorf(domain.CodeUnauthorized, "this stream key is not one of the lesson's")
		}
		if err != nil {
			return uuid.Nil, "", err
		}
		if !k.Revoked.IsZero() {
			return uuid.Nil, "", domain.Errorf(domain.CodeUnauthorized, "this stream key was revoked on %s", k.Revoked.Format(time.RFC3339))
		}
		if string(k.Kind) != string(kind) {
			return uuid.Nil, "", domain.Errorf(domain.CodeForbidden, "this is a %s key; this endpoint needs a %s key", k.Kind, kind)
		}
		return k.ID, k.Label, nil
	}
	if a.cfg.Tokens == nil {
		return uuid.Nil, "", domain.Errorf(domain.CodeUnauthorized, "this stream key is not one of the lesson's")
	}
	claims, err := a.cfg.Tokens.Verify(bearer, lesson)
	if err != nil {
		return uuid.Nil, "", domain.Errorf(domain.CodeUnauthorized, "neither a stream key of the lesson nor its teacher's token")
	}
	if claims.Role != domain.RoleTeacher {
		return uuid.Nil, "", domain.Errorf(domain.CodeForbidden, "a student's token cannot publish or view a stream; ask the teacher for a key")
	}
	return uuid.Nil, "", nil
}

func (a *API) streamOffer(kind realtime.StreamKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		streamCORS(w)
		lesson, err := pathLesson(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		key, label, err := a.streamCredential(r, lesson, kind)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if _, err := a.store.Lesson(r.Context(), lesson); err != nil {
			a.fail(w, r, err)
			return
		}
		offer, err := readSDP(w, r, "application/sdp")
		if err != nil {
			a.fail(w, r, err)
			return
		}
		var s *realtime.Stream
		var answer string
		if kind == realtime.StreamView {
			s, answer, err = a.cfg.Streams.View(r.Context(), lesson, key, label, offer)
		} else {
			s, answer, err = a.cfg.Streams.Publish(r.Context(), lesson, key, offer)
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/sdp")
		h.Set("Location", fmt.Sprintf("/api/lessons/%s/streams/%s", lesson, s.ID))
		h.Set("ETag", s.ETag())
		h.Set("Accept-Patch", "application/trickle-ice-sdpfrag")
		for _, l := range iceLinks(a.cfg.Streams.ICEServers(realtime.RequestHost(r), s)) {
			h.Add("Link", l)
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, answer)
	}
}

// readSDP reads a body of content type want, up to realtime.MaxOfferBytes.
func readSDP(w http.ResponseWriter, r *http.Request, want string) (string, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != want {
		return "", &statusError{status: http.StatusUnsupportedMediaType,
			err: domain.Errorf(domain.CodeInvalid, "send the body as Content-Type: %s", want)}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, realtime.MaxOfferBytes))
	if err != nil {
		return "", domain.Errorf(domain.CodeInvalid, "the body could not be read (at most %d bytes): %v", realtime.MaxOfferBytes, err)
	}
	return string(b), nil
}

// iceLinks are the Link header values (RFC 9725 section 4.6) of ICE servers.
func iceLinks(servers []protocol.ICEServer) []string {
	var out []string
	for _, s := range servers {
		for _, u := range s.URLs {
			l := "<" + u + `>; rel="ice-server"`
			if s.Username != "" {
				l += fmt.Sprintf(`; username="%s"; credential="%s"; credential-type="password"`, s.Username, s.Credential)
			}
			out = append(out, l)
		}
	}
	return out
}

// stream finds the stream of the request's path and checks that the
// request carries what opened it: the same stream key, or the teacher's
// token.
func (a *API) stream(r *http.Request) (*realtime.Stream, error) {
	lesson, err := pathLesson(r)
	if err != nil {
		return nil, err
	}
	id, err := uuid.Parse(r.PathValue("stream"))
	if err != nil {
		return nil, domain.Errorf(domain.CodeNotFound, "no such stream")
	}
	s, ok := a.cfg.Streams.Get(id)
	if !ok || s.Lesson != lesson {
		return nil, domain.Errorf(domain.CodeNotFound, "no such stream (it may have ended)")
	}
	key, _, err := a.streamCredential(r, lesson, s.Kind)
	if err != nil {
		return nil, err
	}
	if key != uuid.Nil && key != s.Key {
		return nil, domain.Errorf(domain.CodeForbidden, "this stream was opened with another key")
	}
	return s, nil
}

func (a *API) endStream(w http.ResponseWriter, r *http.Request) {
	streamCORS(w)
	s, err := a.stream(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	s.End()
	w.WriteHeader(http.StatusOK) // OBS counts anything else a failure
}

func (a *API) patchStream(w http.ResponseWriter, r *http.Request) {
	streamCORS(w)
	s, err := a.stream(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	match := r.Header.Get("If-Match")
	if match == "" {
		a.fail(w, r, &statusError{status: http.StatusPreconditionRequired,
			err: domain.Errorf(domain.CodeInvalid, "send If-Match with the stream's ETag (or * for an ICE restart)")})
		return
	}
	frag, err := readSDP(w, r, "application/trickle-ice-sdpfrag")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	answer, err := s.Patch(r.Context(), frag, match)
	var de *domain.Error
	if errors.As(err, &de) && de.Code == domain.CodeConflict && match != "*" {
		err = &statusError{status: http.StatusPreconditionFailed, err: de}
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", s.ETag())
	if answer == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/trickle-ice-sdpfrag")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, answer)
}

// keyPrefix starts every stream key, so that a key is told from a token
// at a glance (and by the server).
const keyPrefix = "csk_"

type keyJSON struct {
	ID      uuid.UUID  `json:"id"`
	Kind    string     `json:"kind"`
	Label   string     `json:"label"`
	Created time.Time  `json:"created"`
	Revoked *time.Time `json:"revoked,omitempty"`
	// Key and URL are given once, when the key is made.
	Key string `json:"key,omitempty"`
	URL string `json:"url,omitempty"`
}

func toKeyJSON(k eventstore.StreamKey) keyJSON {
	out := keyJSON{ID: k.ID, Kind: string(k.Kind), Label: k.Label, Created: k.Created}
	if !k.Revoked.IsZero() {
		out.Revoked = &k.Revoked
	}
	return out
}

// createKey makes a stream key: {"kind": "publish"|"view", "label": "…"}.
// The answer carries the key and the endpoint URL to paste into OBS (or a
// player), once: the server keeps only the key's hash.
func (a *API) createKey(w http.ResponseWriter, r *http.Request) {
	l, err := a.teacherOf(r, "makes stream keys")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var body struct {
		Kind  string `json:"kind"`
		Label string `json:"label"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		a.fail(w, r, err)
		return
	}
	var raw [24]byte
	rand.Read(raw[:])
	secret := keyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	k := eventstore.StreamKey{Lesson: l.ID, ID: uuid.New(), Kind: eventstore.KeyKind(body.Kind), Label: body.Label,
		Hash: sha256.Sum256([]byte(secret)), Created: a.now().UTC().Truncate(time.Microsecond)}
	if err := a.keys.PutKey(r.Context(), k); err != nil {
		a.fail(w, r, err)
		return
	}
	out := toKeyJSON(k)
	out.Key = secret
	endpoint := "whip"
	if k.Kind == eventstore.KeyView {
		endpoint = "whep"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	out.URL = fmt.Sprintf("%s://%s/api/lessons/%s/%s", scheme, r.Host, l.ID, endpoint)
	a.reply(w, http.StatusCreated, out)
}

// listKeys lists the lesson's stream keys, without the keys themselves,
// and how many viewers watch.
func (a *API) listKeys(w http.ResponseWriter, r *http.Request) {
	l, err := a.teacherOf(r, "sees the stream keys")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	keys, err := a.keys.Keys(r.Context(), l.ID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := struct {
		Keys    []keyJSON `json:"keys"`
		Viewers int       `json:"viewers"`
	}{Keys: []keyJSON{}, Viewers: a.cfg.Streams.Viewers(l.ID)}
	for _, k := range keys {
		out.Keys = append(out.Keys, toKeyJSON(k))
	}
	a.reply(w, http.StatusOK, out)
}

// revokeKey revokes a stream key and ends the streams it opened.
func (a *API) revokeKey(w http.ResponseWriter, r *http.Request) {
	id, err := a.teacherPath(r, "revokes stream keys")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key, err := uuid.Parse(r.PathValue("key"))
	if err != nil {
		a.fail(w, r, domain.Errorf(domain.CodeNotFound, "no such key"))
		return
	}
	if err := a.keys.RevokeKey(r.Context(), id, key, a.now()); err != nil {
		a.fail(w, r, err)
		return
	}
	a.cfg.Streams.EndKey(id, key)
	w.WriteHeader(http.StatusNoContent)
}
