// Package pagetest checks pages for the tests of web and its packages:
// axe-core's WCAG 2.1 AA rules run in headless Chromium, and whether a page
// the server rendered speaks the language it should. It is imported by
// tests only, and never by the server.
package pagetest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"classroom/web/i18n"
)

// webDir is the directory of package web, from this file's.
func webDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Catalogues are the browser client's catalogues, read from the source
// tree (web/static/i18n).
func Catalogues(t testing.TB) *i18n.Catalogues {
	t.Helper()
	c, err := i18n.Load(os.DirFS(filepath.Join(webDir(), "static", "i18n")))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var axeSource = sync.OnceValues(func() (string, error) {
	// scripts/test installs axe-core there (npm ci in web/testdata/axe).
	b, err := os.ReadFile(filepath.Join(webDir(), "testdata", "axe", "node_modules", "axe-core", "axe.min.js"))
	return string(b), err
})

// violation is one rule axe-core found broken, with the elements that break it.
type violation struct {
	ID, Impact, Help string
	Nodes            []string
}

// Axe runs axe-core's WCAG 2.1 A and AA rules on the page of a Chromium
// tab and fails the test for every serious or critical violation, naming
// the rule and the elements.
func Axe(t testing.TB, tab context.Context, what string) {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("axe-core is missing (%v): scripts/test installs it with npm (cd web/testdata/axe && npm ci)", err)
	}
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](src+";true")); err != nil {
		t.Fatalf("%s: load axe-core: %v", what, err)
	}
	found, err := chromedp.Run(tab, chromedp.Evaluate[[]violation](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
		.then((r) => r.violations.map((v) => ({id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.map((n) => n.target.join(" ") + (n.failureSummary ? ": " + n.failureSummary.replace(/\s+/g, " ") : ""))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe-core: %v", what, err)
	}
	for _, v := range found {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: %s (%s): %s\n\t%s", what, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
		} else {
			t.Logf("%s: %s (%s): %s (%d elements)", what, v.ID, v.Impact, v.Help, len(v.Nodes))
		}
	}
}

// Chromium finds Debian's chromium; the test fails, not skips, without it.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: the browser tests need Debian's chromium (scripts/test installs it when run as root)")
	return ""
}

// Start starts a Chromium with opts for the test, which stops it, and
// returns its first tab.
func Start(t testing.TB, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return ctx
}

// Browser starts a headless Chromium for the test and returns a tab.
func Browser(t testing.TB) context.Context {
	t.Helper()
	return Start(t, append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(Chromium(t)), chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("headless", "new"), chromedp.Flag("disable-gpu", true))...)
}

// AcceptLanguage is a transport that sends every request with the
// Accept-Language header langs, as a browser set to those languages does.
func AcceptLanguage(langs string) http.RoundTripper { return acceptLanguage(langs) }

type acceptLanguage string

func (l acceptLanguage) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Language", string(l))
	return http.DefaultTransport.RoundTrip(r)
}

// AxePage shows a page the server answered (its HTML, as it was sent) in
// the tab and runs Axe on it.
func AxePage(t testing.TB, tab context.Context, body, what string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(body))
	}))
	defer srv.Close()
	if _, err := chromedp.Run(tab, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	Axe(t, tab, what)
}

// Speaks fails the test unless a page the server rendered says it is in
// lang (<html lang>) and shows none of the catalogues' English texts that
// lang translates differently: its text, and its titles, labels and
// placeholders.
func Speaks(t testing.TB, body, lang, what string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	english := englishOf(t, lang)
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				switch {
				case n.Data == "html" && a.Key == "lang" && a.Val != lang:
					t.Errorf("%s: <html lang=%q>, want %q", what, a.Val, lang)
				case (a.Key == "title" || a.Key == "aria-label" || a.Key == "placeholder") && english.MatchString(a.Val):
					t.Errorf("%s: its %s %q is English", what, a.Key, a.Val)
				}
			}
			if n.Data == "script" || n.Data == "style" {
				return
			}
		}
		if n.Type == html.TextNode && english.MatchString(strings.TrimSpace(n.Data)) {
			t.Errorf("%s shows %q in English", what, strings.TrimSpace(n.Data))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}

// englishOf matches the catalogue's English texts that lang translates
// differently, whole, with anything in place of their {placeholders}.
func englishOf(t testing.TB, lang string) *regexp.Regexp {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(webDir(), "static", "i18n", lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var cat map[string]string
	if err := json.Unmarshal(b, &cat); err != nil {
		t.Fatal(err)
	}
	placeholder := regexp.MustCompile(`\{\w+\}`)
	var alts []string
	for en, tr := range cat {
		if en == tr {
			continue
		}
		parts := placeholder.Split(en, -1)
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		alts = append(alts, strings.Join(parts, ".*"))
	}
	return regexp.MustCompile(`^(?:` + strings.Join(alts, "|") + `)$`)
}
