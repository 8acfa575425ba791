package i18n_test

import (
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"classroom/web/i18n"
)

// TestFor: a request's language is the caller's preferred one, else the
// cookie's, else the best of Accept-Language that has a catalogue, else
// English; T fills placeholders and leaves a text the catalogue lacks in
// English.
func TestFor(t *testing.T) {
	c, err := i18n.Load(fstest.MapFS{
		"de.json": {Data: []byte(`{"Sign in": "Anmelden", "Sign in with {provider}": "Mit {provider} anmelden"}`)},
		"es.json": {Data: []byte(`{"Sign in": "Iniciar sesión"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		acceptLanguage, cookie, preferred, want string
	}{
		{"", "", "", "en"},
		{"de-CH,de;q=0.9", "", "", "de"},
		{"fr-FR,fr;q=0.9,es;q=0.5", "", "", "es"},
		{"fr-FR", "", "", "en"},
		{"en-US,en;q=0.9,de;q=0.8", "", "", "en"},
		{"de", "es", "", "es"},
		{"de", "es", "de-AT", "de"},
		{"de", "", "not a language!", "de"},
		{"not;q=a header", "", "", "en"},
	} {
		r := httptest.NewRequest("GET", "/signin", nil)
		if tc.acceptLanguage != "" {
			r.Header.Set("Accept-Language", tc.acceptLanguage)
		}
		if tc.cookie != "" {
			r.Header.Set("Cookie", i18n.Cookie+"="+tc.cookie)
		}
		var prefs []string
		if tc.preferred != "" {
			prefs = append(prefs, tc.preferred)
		}
		if got := c.For(r, prefs...).Lang; got != tc.want {
			t.Errorf("Accept-Language %q, cookie %q, preferred %q: %s, want %s", tc.acceptLanguage, tc.cookie, tc.preferred, got, tc.want)
		}
	}
	de := c.In("de")
	if got := de.T("Sign in with {provider}", "provider", "Our School"); got != "Mit Our School anmelden" {
		t.Errorf("T with a placeholder: %q", got)
	}
	if got := de.T("Sign out"); got != "Sign out" {
		t.Errorf("T of a text the catalogue lacks: %q, want it in English", got)
	}
	if got := (*i18n.Catalogues)(nil).For(httptest.NewRequest("GET", "/", nil)).T("Sign in"); got != "Sign in" {
		t.Errorf("no catalogues: %q, want English", got)
	}
	if _, err := i18n.Load(fstest.MapFS{"de.json": {Data: []byte(`{"Sign in": 1}`)}}); err == nil {
		t.Error("a malformed catalogue loaded")
	}
}
