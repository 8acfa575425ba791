package signin_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"classroom/web/i18n"
	"classroom/web/internal/pagetest"
	"classroom/web/signin"
)

// get fetches a page of the site and returns its status and HTML.
func (d *device) get(path string) (int, string) {
	d.t.Helper()
	resp, err := d.client.Get(d.site.srv.URL + path)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestPagesInTheReadersLanguage: every sign-in page (the providers, the
// refusals, the account signed in) is in the browser's language (German,
// by Accept-Language) or the one chosen on the classroom's pages (Spanish,
// by the cookie, over an English Accept-Language), and passes axe-core.
func TestPagesInTheReadersLanguage(t *testing.T) {
	s := startSite(t, func(issuer string) signin.Settings {
		return signin.Settings{Providers: []signin.Provider{{Name: "school", Label: "Our School", Issuer: issuer, ClientID: "classroom",
			ClientSecret: "classroom-secret", AllowedDomains: []string{"school.example"}}}}
	})
	words := pagetest.Catalogues(t)
	tab := pagetest.Browser(t)
	for _, tc := range []struct{ lang, acceptLanguage, cookie string }{
		{"de", "de-DE,de;q=0.9,en;q=0.5", ""},
		{"es", "en-US,en", "es"},
	} {
		w := words.In(tc.lang)
		dev := s.device(t)
		dev.client.Transport = pagetest.AcceptLanguage(tc.acceptLanguage)
		if tc.cookie != "" {
			u, _ := url.Parse(s.srv.URL)
			dev.client.Jar.SetCookies(u, []*http.Cookie{{Name: i18n.Cookie, Value: tc.cookie}})
		}
		check := func(what string, status, wantStatus int, page string, want ...string) {
			t.Helper()
			what = tc.lang + ", " + what
			if status != wantStatus {
				t.Errorf("%s: %d, want %d", what, status, wantStatus)
			}
			for _, w := range want {
				if !strings.Contains(html.UnescapeString(page), w) {
					t.Errorf("%s does not say %q:\n%s", what, w, page)
				}
			}
			pagetest.Speaks(t, page, tc.lang, what)
			pagetest.AxePage(t, tab, page, what)
		}
		status, page := dev.get(signin.Path)
		check("the sign-in page", status, http.StatusOK, page, w.T("Sign in"), w.T("Sign in with {provider}", "provider", "Our School"))
		status, page = dev.get(signin.Path + "/nowhere")
		check("an unknown provider", status, http.StatusNotFound, page,
			w.T("Cannot sign in"), w.T("no sign-in provider {name} on this server", "name", `"nowhere"`), w.T("Back to sign-in"))
		status, page = dev.get(signin.CallbackPath + "?code=x&state=y")
		check("a callback not started here", status, http.StatusBadRequest, page,
			w.T("this sign-in was not started here, or took too long: start again"))
		status, page = dev.signIn("school", "grace")
		check("signed in", status, http.StatusOK, page, w.T("Signed in"),
			w.T("You are signed in as {name}.", "name", "Grace Hopper (grace@school.example)"), w.T("Sign out"))
	}
}
