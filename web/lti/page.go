package lti

import (
	"crypto/rand"
	"html/template"
	"net/http"

	"classroom/web/i18n"
)

// pages are the tool's own small pages, shown inside the platform's frame;
// every word is the catalogues' (W.T).
var pages = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.W.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}label{display:block;margin:.8rem 0}</style>
</head><body><main>
<h1>{{.Title}}</h1>
{{if .Message}}<p role="alert">{{.Message}}</p>{{end}}
{{with .Pick}}<form method="post" action="{{.Action}}">
<input type="hidden" name="choice" value="{{.Choice}}">
<label>{{$.W.T "Lesson title"}} <input name="title" value="{{.Title}}" maxlength="200" required></label>
<label><input type="checkbox" name="lobby" value="on"> {{$.W.T "Students wait to be admitted"}}</label>
<label><input type="checkbox" name="series" value="on"> {{$.W.T "A new lesson each week (a series)"}}</label>
<button type="submit">{{$.W.T "Add to the course"}}</button>
</form>{{end}}
{{with .Post}}<form id="post" method="post" action="{{.Action}}">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<button type="submit">{{$.W.T "Continue"}}</button>
</form>
<script nonce="{{$.Nonce}}">document.getElementById("post").submit()</script>{{end}}
</main></body></html>
`))

// pageData fills the page template.
type pageData struct {
	W              i18n.Words
	Title, Message string
	Pick           *pickForm
	Post           *postForm
	Nonce          string
}

// pickForm asks a teacher what to add to the course.
type pickForm struct {
	Action, Choice, Title string
}

// postForm posts fields to a platform, at once when scripts run.
type postForm struct {
	Action string
	Fields map[string]string
}

// writePage answers a page. The policy admits only the one inline script
// (the form post to the platform), by its nonce; the page may be framed by
// any site, since the platforms frame it.
func writePage(w http.ResponseWriter, status int, d pageData) {
	d.Nonce = rand.Text()
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", d.W.Lang)
	h.Set("Vary", "Accept-Language, Cookie")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-"+d.Nonce+"'; base-uri 'none'")
	w.WriteHeader(status)
	pages.Execute(w, d)
}
