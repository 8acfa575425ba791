package web

import (
	"embed"
	"io/fs"
	"net/http"

	"classroom/web/i18n"
)

//go:generate go run ./internal/jslimits/gen

// static holds the browser client: plain JavaScript modules, HTML and CSS,
// built into the binary so that serving a lesson needs no other files.
// static/js/limits.js is generated from the server's constants (go generate).
//
//go:embed static
var static embed.FS

// staticHandler serves the embedded browser client under /static/.
func staticHandler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// Catalogues are the browser client's catalogues (static/i18n), for the
// pages the server renders itself (web/signin, web/lti): one source of
// strings for every page.
func Catalogues() (*i18n.Catalogues, error) {
	sub, err := fs.Sub(static, "static/i18n")
	if err != nil {
		return nil, err
	}
	return i18n.Load(sub)
}
