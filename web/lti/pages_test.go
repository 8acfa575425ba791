package lti_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"classroom/web/internal/pagetest"
	"classroom/web/lti"
)

// TestPagesInTheReadersLanguage: the tool's pages (the deep linking
// picker, the page that posts its answer, a refusal) are in the browser's
// language, German or Spanish, or in the user's language on the platform
// (its launch_presentation locale) over the browser's, and pass axe-core.
func TestPagesInTheReadersLanguage(t *testing.T) {
	r := newRig(t)
	r.addUser("t-1", "Grace Hopper", roleInstructor)
	r.addUser("s-1", "Ada Lovelace", roleLearner)
	words := pagetest.Catalogues(t)
	tab := pagetest.Browser(t)
	for _, tc := range []struct{ lang, acceptLanguage, locale string }{
		{"de", "de-DE,de;q=0.9", ""},
		{"es", "es", ""},
		{"es", "en-GB,en", "es-MX"}, // the platform's language over the browser's
	} {
		w := words.In(tc.lang)
		r.b.client.Transport = pagetest.AcceptLanguage(tc.acceptLanguage)
		r.addMessage("pick", message{kind: "LtiDeepLinkingRequest", locale: tc.locale})
		check := func(what string, resp *http.Response, wantStatus int, page string, want ...string) {
			t.Helper()
			what = tc.lang + " (" + tc.acceptLanguage + ", locale " + tc.locale + "), " + what
			if resp.StatusCode != wantStatus {
				t.Errorf("%s: %s, want %d", what, resp.Status, wantStatus)
			}
			for _, w := range want {
				if !strings.Contains(html.UnescapeString(page), w) {
					t.Errorf("%s does not say %q:\n%s", what, w, page)
				}
			}
			pagetest.Speaks(t, page, tc.lang, what)
			pagetest.AxePage(t, tab, page, what)
		}
		resp, page := r.launch("t-1", "pick")
		check("the deep linking picker", resp, http.StatusOK, page, w.T("Add a lesson to the course"), w.T("Lesson title"),
			w.T("Students wait to be admitted"), w.T("Add to the course"))
		action, fields := form(page)
		fields.Set("title", "Fractions")
		resp, page = r.b.post(action, fields)
		// Shown without scripts only, or for a moment: the platform's return
		// URL is not this test's to show.
		check("the page posting the lesson to the platform", resp, http.StatusOK, strings.Replace(page, "<script", "<template", 1),
			w.T("Adding the lesson…"), w.T("Continue"))
		if tc.locale != "" {
			continue // the refusals come before a launch names its locale
		}
		resp, page = r.launch("s-1", "pick")
		check("a student asking to add a lesson", resp, http.StatusForbidden, page, w.T("Cannot open the classroom"),
			w.T("only a course's instructor or an administrator may add a lesson to it"))
		resp, page = r.b.get(r.srv.URL + lti.LoginPath + "?iss=x")
		check("a malformed login", resp, http.StatusBadRequest, page,
			w.T("the login request lacks iss, login_hint or target_link_uri"))
	}
}
