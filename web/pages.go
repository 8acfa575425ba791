package web

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// pageHeaders are the headers of the browser client's HTML pages. The
// policy admits only the server's own scripts and styles; media and images
// may be blobs (screen shares, slides rendered from PDFs) and the signaling
// socket is on the same host. frameAncestors are the origins that may show
// the page in a frame (a learning platform's course page); none when empty.
func pageHeaders(h http.Header, frameAncestors []string) {
	ancestors := "'none'"
	if len(frameAncestors) > 0 {
		ancestors = strings.Join(frameAncestors, " ")
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "+
		"connect-src 'self' ws: wss:; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors "+ancestors)
}

// page serves one embedded HTML page, which no other site may frame.
func page(name string) http.HandlerFunc { return framedPage(name, nil, http.StatusOK) }

// framedPage serves one embedded HTML page with an HTTP status, which the
// sites of frameAncestors may frame.
func framedPage(name string, frameAncestors []string, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(static, "static/"+name)
		if err != nil {
			http.Error(w, "page missing from the build", http.StatusInternalServerError)
			return
		}
		pageHeaders(w.Header(), frameAncestors)
		w.WriteHeader(status)
		w.Write(b)
	}
}

// replayPage serves the playback page of a lesson.
func replayPage() http.HandlerFunc { return idPage("replay.html", nil) }

// lessonPage serves the lesson page for a well-formed lesson id. Whether the
// lesson exists, and whether the link's token admits, the page learns when it
// joins: the token is in the URL's fragment, which the server never sees.
// The sites of frameAncestors (learning platforms) may frame it; it needs
// no cookie, so a browser blocking third-party cookies in a frame does not
// hinder it.
func lessonPage(frameAncestors []string) http.HandlerFunc {
	return idPage("lesson.html", frameAncestors)
}

// idPage serves a page for a well-formed lesson id, which the sites of
// frameAncestors may frame. A mangled one gets the same page with the
// status 404, which says in its own words that the link is not a lesson's
// (a browser shows the page, not the API's JSON).
func idPage(name string, frameAncestors []string) http.HandlerFunc {
	serve, notFound := framedPage(name, frameAncestors, http.StatusOK), framedPage(name, frameAncestors, http.StatusNotFound)
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := uuid.Parse(r.PathValue("id")); err != nil {
			notFound(w, r)
			return
		}
		serve(w, r)
	}
}
