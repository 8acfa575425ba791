package web

import (
	"io/fs"
	"net/http"

	"github.com/google/uuid"
)

// pageHeaders are the headers of the browser client's HTML pages. The
// policy admits only the server's own scripts and styles; media and images
// may be blobs (screen shares, slides rendered from PDFs) and the signaling
// socket is on the same host.
func pageHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "+
		"connect-src 'self' ws: wss:; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
}

// page serves one embedded HTML page.
func page(name string) http.HandlerFunc { return pageWithStatus(name, http.StatusOK) }

// pageWithStatus serves one embedded HTML page with an HTTP status.
func pageWithStatus(name string, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(static, "static/"+name)
		if err != nil {
			http.Error(w, "page missing from the build", http.StatusInternalServerError)
			return
		}
		pageHeaders(w.Header())
		w.WriteHeader(status)
		w.Write(b)
	}
}

// replayPage serves the playback page of a lesson.
func replayPage() http.HandlerFunc { return idPage("replay.html") }

// lessonPage serves the lesson page for a well-formed lesson id. Whether the
// lesson exists, and whether the link's token admits, the page learns when it
// joins: the token is in the URL's fragment, which the server never sees.
func lessonPage() http.HandlerFunc { return idPage("lesson.html") }

// idPage serves a page for a well-formed lesson id. A mangled one gets the
// same page with the status 404, which says in its own words that the link
// is not a lesson's (a browser shows the page, not the API's JSON).
func idPage(name string) http.HandlerFunc {
	serve, notFound := page(name), pageWithStatus(name, http.StatusNotFound)
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := uuid.Parse(r.PathValue("id")); err != nil {
			notFound(w, r)
			return
		}
		serve(w, r)
	}
}
