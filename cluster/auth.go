package cluster

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// authScheme is the Authorization scheme of node-to-node requests.
const authScheme = "ClassroomNode"

// AuthValidity is how far a signed request's time may be from the
// verifier's clock, either way.
const AuthValidity = 30 * time.Second

// ErrUnauthenticated is wrapped by every refusal of VerifyRequest.
var ErrUnauthenticated = errors.New("cluster: node request not authenticated")

// LinkKey derives the key that signs node-to-node requests from the shared
// token key, so that a node link's signature is never a valid token
// signature, nor the reverse.
func LinkKey(tokenKey []byte) []byte {
	m := hmac.New(sha256.New, tokenKey)
	m.Write([]byte("classroom node link v1"))
	return m.Sum(nil)
}

// SignRequest authenticates r as coming from node, at now: it sets the
// Authorization header to a bearer naming the node and the time, with an
// HMAC-SHA256 under key of both and of r's method and path.
func SignRequest(r *http.Request, key []byte, node string, now time.Time) {
	r.Header.Set("Authorization", Bearer(key, node, r.Method, r.URL.Path, now))
}

// Bearer returns the Authorization header value SignRequest sets, for
// clients (a WebSocket dial) that set headers themselves.
func Bearer(key []byte, node, method, path string, now time.Time) string {
	t := strconv.FormatInt(now.Unix(), 10)
	return authScheme + " " + node + ":" + t + ":" + signature(key, node, t, method, path)
}

func signature(key []byte, node, t, method, path string) string {
	m := hmac.New(sha256.New, key)
	for _, s := range []string{node, t, method, path} {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// VerifyRequest checks r's node bearer against key at now and returns the
// node that signed it. It refuses a missing or malformed header, a time
// further than AuthValidity from now, and a signature that does not match
// (another key, node, time, method or path).
func VerifyRequest(r *http.Request, key []byte, now time.Time) (string, error) {
	h := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(h, authScheme+" ")
	if !ok {
		return "", fmt.Errorf("%w: no %s bearer", ErrUnauthenticated, authScheme)
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 3 || parts[0] == "" || len(parts[0]) > 64 {
		return "", fmt.Errorf("%w: malformed bearer", ErrUnauthenticated)
	}
	node, ts, sig := parts[0], parts[1], parts[2]
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", fmt.Errorf("%w: malformed time", ErrUnauthenticated)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > AuthValidity || d < -AuthValidity {
		return "", fmt.Errorf("%w: signed %v away from now", ErrUnauthenticated, d.Round(time.Second))
	}
	want := signature(key, node, ts, r.Method, r.URL.Path)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return "", fmt.Errorf("%w: bad signature", ErrUnauthenticated)
	}
	return node, nil
}
