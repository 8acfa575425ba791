package web_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"golang.org/x/net/html"
)

// The catalogue check: every string the pages show is English text given to
// t() (JavaScript) or marked with data-i18n / data-i18n-attr (HTML), and
// every language's catalogue, static/i18n/<lang>.json, translates each of
// them, with the same {placeholders}. docs/architecture.md, "Languages",
// describes the mechanism.

// catalogueLanguages are the languages whose catalogues must be complete.
var catalogueLanguages = []string{"de", "es"}

// pageSources are the files of the browser client whose strings are checked.
func pageSources(t *testing.T) (js, pages []string) {
	t.Helper()
	err := filepath.WalkDir("static", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "vendor" {
			return filepath.SkipDir
		}
		switch filepath.Ext(path) {
		case ".js":
			js = append(js, path)
		case ".html":
			pages = append(pages, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return js, pages
}

// use is one string a page shows, and where.
type use struct {
	text, where string
}

// TestCatalogues fails on a user-facing string not in every catalogue, and
// on a string shown without going through the catalogue.
func TestCatalogues(t *testing.T) {
	js, pages := pageSources(t)
	var keys, bare []use
	for _, f := range js {
		k, b := jsStrings(t, f)
		keys, bare = append(keys, k...), append(bare, b...)
	}
	for _, f := range pages {
		k, b := htmlStrings(t, f)
		keys, bare = append(keys, k...), append(bare, b...)
	}
	for _, f := range serverSources(t) {
		k, b := goStrings(t, f)
		keys, bare = append(keys, k...), append(bare, b...)
	}
	for _, b := range bare {
		t.Errorf("%s: %q is shown as it is: give it to t() (or mark it data-i18n in HTML, or {{.W.T}} in a Go template) and add it to the catalogues", b.where, b.text)
	}
	used := map[string]bool{}
	for _, k := range keys {
		used[k.text] = true
	}
	for _, lang := range catalogueLanguages {
		path := filepath.Join("static", "i18n", lang+".json")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("the %s catalogue: %v", lang, err)
		}
		var cat map[string]string
		if err := json.Unmarshal(b, &cat); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k.text] {
				continue
			}
			seen[k.text] = true
			tr, ok := cat[k.text]
			switch {
			case !ok || strings.TrimSpace(tr) == "":
				t.Errorf("web/%s: %q (used in %s) is missing", path, k.text, k.where)
			case !slices.Equal(placeholders(tr), placeholders(k.text)):
				t.Errorf("web/%s: %q translates %q with placeholders %v, want %v", path, tr, k.text, placeholders(tr), placeholders(k.text))
			}
		}
		var unused []string
		for k := range cat {
			if !used[k] {
				unused = append(unused, k)
			}
		}
		sort.Strings(unused)
		for _, k := range unused {
			t.Errorf("web/%s: %q is used by no page: remove it", path, k)
		}
	}
}

var (
	placeholderRE = regexp.MustCompile(`\{\w+\}`)
	tInTemplateRE = regexp.MustCompile(`\$\{[^}]*\bt\(`)
)

func placeholders(s string) []string {
	p := placeholderRE.FindAllString(s, -1)
	sort.Strings(p)
	return p
}

// looksShown reports whether a literal reads as words for people: two words,
// or one capitalised word, or an ellipsis.
var looksShownRE = regexp.MustCompile(`\p{L}{2,}[^\n]*\s\p{L}{2,}|^\p{Lu}\p{Ll}+[.!?…:]?$|\p{L}…`)

// notShown are calls whose string arguments are for programs, not people.
// A literal compared with (===), or a class, is never shown either.
var notShownRE = regexp.MustCompile(`((console\.\w+|new \w*Error|querySelector(All)?|closest|matches|getElementById|createElement|addEventListener|import|from|getItem|setItem|removeItem|fetch|setAttribute|setRequestHeader|toggle|Intl\.\w+|postMessage)\s*\(?|[!=]==?|\bclass:|className =)\s*$`)

// jsStrings returns the texts a JavaScript file gives to t(), and its
// literals that look shown to people without going through t(). A line
// ending with the comment "// not user-facing" is left out.
func jsStrings(t *testing.T, path string) (keys, bare []use) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	lines := strings.Split(src, "\n")
	for _, lit := range jsLiterals(src) {
		where := fmt.Sprintf("web/%s:%d", filepath.ToSlash(path), lit.line)
		before := strings.TrimRight(src[:lit.start], " \t\n")
		if strings.HasSuffix(before, "t(") && (len(before) == 2 || !isIdent(rune(before[len(before)-3]))) {
			if lit.template && strings.Contains(lit.text, "${") {
				t.Errorf("%s: t() is given a template with ${…}: use {placeholders}", where)
			}
			keys = append(keys, use{lit.text, where})
			continue
		}
		if strings.HasSuffix(lines[lit.line-1], "// not user-facing") || notShownRE.MatchString(before) {
			continue
		}
		if lit.template && tInTemplateRE.MatchString(lit.text) {
			t.Errorf("%s: t() inside a template's ${…} is not seen by this check: call it before, into a variable", where)
		}
		text := regexp.MustCompile(`\$\{[^}]*\}`).ReplaceAllString(lit.text, " ")
		if looksShownRE.MatchString(text) {
			bare = append(bare, use{lit.text, where})
		}
	}
	return keys, bare
}

func isIdent(r rune) bool {
	return r == '_' || r == '$' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// jsLiteral is a string or template literal of a JavaScript source.
type jsLiteral struct {
	text     string
	start    int // offset of its opening quote
	line     int
	template bool
}

// jsLiterals finds the string and template literals of a JavaScript source,
// past comments and regular expressions (a / where an operand may start).
func jsLiterals(src string) []jsLiteral {
	var out []jsLiteral
	line := 1
	prev := byte('(') // the last significant character
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\n':
			line++
			continue
		case c == ' ' || c == '\t' || c == '\r':
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return out
			}
			line += strings.Count(src[i:i+2+end], "\n")
			i += end + 3
			continue
		case c == '/' && strings.IndexByte("(,=:[!&|?{};+-*%<>~^", prev) >= 0:
			// A regular expression: skip to its closing slash.
			for i++; i < len(src) && src[i] != '/' && src[i] != '\n'; i++ {
				if src[i] == '\\' {
					i++
				} else if src[i] == '[' {
					for i++; i < len(src) && src[i] != ']'; i++ {
						if src[i] == '\\' {
							i++
						}
					}
				}
			}
		case c == '"' || c == '\'' || c == '`':
			start, startLine := i, line
			var sb strings.Builder
			depth := 0
			for i++; i < len(src); i++ {
				d := src[i]
				if d == '\\' && i+1 < len(src) {
					sb.WriteByte(src[i+1])
					i++
					continue
				}
				if d == '\n' {
					line++
				}
				if c == '`' && d == '$' && i+1 < len(src) && src[i+1] == '{' {
					depth++
				} else if c == '`' && depth > 0 && d == '}' {
					depth--
				} else if d == c && depth == 0 {
					break
				}
				sb.WriteByte(d)
			}
			out = append(out, jsLiteral{text: sb.String(), start: start, line: startLine, template: c == '`'})
			prev = 'a'
			continue
		}
		prev = c
		if isIdent(rune(c)) {
			prev = 'a'
			// A keyword before a regular expression: return /…/, typeof …
			for _, kw := range []string{"return", "typeof", "case"} {
				if strings.HasSuffix(src[:i+1], kw) {
					prev = '('
				}
			}
		}
	}
	return out
}

// htmlStrings returns the texts an HTML page marks for translation, and
// those it shows without a mark: text outside a data-i18n element, and a
// title, aria-label, placeholder, alt or data-empty (a video tile's words
// when it has no picture) not named in data-i18n-attr.
func htmlStrings(t *testing.T, path string) (keys, bare []use) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := html.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	where := "web/" + filepath.ToSlash(path)
	letters := regexp.MustCompile(`\p{L}`)
	var walk func(n *html.Node, marked bool)
	walk = func(n *html.Node, marked bool) {
		if n.Type == html.ElementNode {
			if n.Data == "script" || n.Data == "style" {
				return
			}
			attrs := map[string]string{}
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
			}
			if _, ok := attrs["data-i18n"]; ok {
				keys = append(keys, use{strings.TrimSpace(textOf(n)), where})
				marked = true
			}
			named := strings.Fields(attrs["data-i18n-attr"])
			for _, a := range []string{"title", "aria-label", "placeholder", "alt", "data-empty"} {
				v, ok := attrs[a]
				switch {
				case !ok || !letters.MatchString(v):
				case slices.Contains(named, a):
					keys = append(keys, use{v, where})
				default:
					bare = append(bare, use{v, where + " (" + a + ")"})
				}
			}
		}
		if n.Type == html.TextNode && !marked && letters.MatchString(n.Data) {
			bare = append(bare, use{strings.TrimSpace(n.Data), where})
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, marked)
		}
	}
	walk(doc, false)
	return keys, bare
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var sb strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		sb.WriteString(textOf(c))
	}
	return sb.String()
}

// english lists the texts of the catalogues that another language translates
// differently: seen on a page in that language, they are left untranslated.
func english(t *testing.T, lang string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("static", "i18n", lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var cat map[string]string
	if err := json.Unmarshal(b, &cat); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for en, tr := range cat {
		if en != tr && !strings.Contains(en, "{") {
			out[en] = true
		}
	}
	return out
}

// shownTexts are the texts a page shows: its visible text nodes, and the
// titles, labels and placeholders of its visible elements.
const shownTexts = `(() => {
	const out = [];
	const seen = (e) => e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walker.nextNode(); n; n = walker.nextNode()) {
		if (n.textContent.trim() && seen(n.parentElement)) out.push(n.textContent.trim());
	}
	for (const e of document.querySelectorAll("[title], [aria-label], [placeholder]")) {
		if (!seen(e)) continue;
		for (const a of ["title", "aria-label", "placeholder"]) if (e.getAttribute(a)) out.push(e.getAttribute(a));
	}
	return out;
})()`

// untranslated fails the test for every text the tab shows in English.
func untranslated(t *testing.T, tb *tab, english map[string]bool, what string) {
	t.Helper()
	for _, s := range eval[[]string](tb, shownTexts) {
		if english[s] {
			t.Errorf("%s shows %q in English", what, s)
		}
	}
}

// TestLanguages: a browser that prefers German gets the pages in German,
// the switch turns them to Spanish, and a right-to-left language mirrors
// the lesson page without scrolling sideways.
func TestLanguages(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	b := newBrowser(t, true, chromedp.Flag("lang", "de-DE"), chromedp.Flag("accept-lang", "de-DE,de"))
	home := newTab(t, b, "home")
	if err := chromedp.Do(home.ctx, chromedp.Navigate(site.srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("create"))); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the home page in German", func() bool {
		return eval[string](home, `document.documentElement.lang`) == "de" &&
			eval[string](home, `document.getElementById("new-h").textContent`) == "Neue Stunde"
	})
	untranslated(t, home, english(t, "de"), "the German home page")

	// The switch: Spanish, kept for the next pages.
	if err := chromedp.Do(home.ctx, chromedp.SetValue(chromedp.ID("language"), "es")); err != nil {
		t.Fatal(err)
	}
	try[bool](home, `document.getElementById("language").dispatchEvent(new Event("change"))`) // it reloads the page
	waitUntil(t, 10*time.Second, "the home page in Spanish", func() bool {
		s, err := try[string](home, `document.getElementById("new-h").textContent`)
		return err == nil && s == "Nueva clase"
	})
	es := english(t, "es")
	untranslated(t, home, es, "the Spanish home page")

	teacher := &tab{t: t, name: "teacher", ctx: home.ctx}
	teacher.join(site.teacherLink(lesson), "Sra. Rivera")
	eval[float64](teacher, `window.classroom.send("lesson.started")`)
	eval[float64](teacher, `window.classroom.send("chat.posted", {text: "Buenos días"})`)
	time.Sleep(300 * time.Millisecond)
	untranslated(t, teacher, es, "the Spanish teacher's lesson page")
	if got := eval[string](teacher, `document.getElementById("lifecycle").textContent`); got != "Terminar la clase" {
		t.Errorf("the lesson's button says %q, want Terminar la clase", got)
	}
	eval[bool](teacher, `(document.getElementById("tab-people").click(), true)`)
	untranslated(t, teacher, es, "the Spanish teacher's people")
	eval[float64](teacher, `window.classroom.send("poll.asked", {poll: crypto.randomUUID(), question: "¿Cuánto es 2 + 2?", choices: ["3", "4"], anonymous: true})`)
	eval[bool](teacher, `(document.getElementById("tab-poll").click(), true)`)
	waitUntil(t, 10*time.Second, "the poll on the teacher's Poll tab", func() bool { return eval[bool](teacher, `!!document.getElementById("poll-close")`) })
	untranslated(t, teacher, es, "the Spanish teacher's poll")

	// Right to left (the pseudo-locale ar-XB): the panel is on the left and
	// nothing scrolls sideways.
	eval[bool](teacher, `(localStorage.setItem("classroom:language", "ar-XB"), true)`)
	if err := chromedp.Do(teacher.ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	teacher.waitLive()
	got := eval[struct {
		Dir                   string
		SideRight, StageLeft  float64
		ScrollWidth, Viewport float64
	}](teacher, `({dir: document.documentElement.dir, sideRight: document.querySelector(".side").getBoundingClientRect().right,
		stageLeft: document.querySelector(".stage").getBoundingClientRect().left,
		scrollWidth: document.documentElement.scrollWidth, viewport: innerWidth})`)
	if got.Dir != "rtl" || got.SideRight > got.StageLeft || got.ScrollWidth > got.Viewport || got.SideRight > got.Viewport {
		t.Errorf("right to left: %+v, want dir rtl, the side panel left of the board, no sideways scrolling", got)
	}
	// The page arrows are mirrored: "next" is on the left and points left.
	arrows := eval[struct{ PrevLeft, NextLeft, PrevFlip, NextFlip float64 }](teacher, `(() => {
		const flip = (id) => new DOMMatrix(getComputedStyle(document.getElementById(id)).transform).a;
		return {prevLeft: document.getElementById("prev").getBoundingClientRect().left, nextLeft: document.getElementById("next").getBoundingClientRect().left,
			prevFlip: flip("prev"), nextFlip: flip("next")};
	})()`)
	if arrows.NextLeft >= arrows.PrevLeft || arrows.PrevFlip != -1 || arrows.NextFlip != -1 {
		t.Errorf("right to left, the page arrows: %+v, want next left of previous and both mirrored (a = -1)", arrows)
	}
	if dir := os.Getenv("CLASSROOM_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(teacher.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "lesson-rtl.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The replay, right to left: time runs leftwards on the scrubber, its
	// slide mark with it, and the left arrow key seeks forward.
	time.Sleep(200 * time.Millisecond)
	eval[float64](teacher, `window.classroom.send("slide.changed", {slide: {deck: window.classroom.state.slide.deck, page: 1}})`)
	time.Sleep(200 * time.Millisecond)
	eval[float64](teacher, `window.classroom.send("lesson.ended")`)
	if err := chromedp.Do(teacher.ctx, chromedp.Navigate(site.srv.URL+"/lessons/"+lesson.ID+"/replay#token="+lesson.Teacher.Token)); err != nil {
		t.Fatal(err)
	}
	replay := &tab{t: t, name: "replay", ctx: teacher.ctx}
	waitUntil(t, 30*time.Second, "the replay page and its slide mark", func() bool {
		ok, err := try[bool](replay, `!!(window.replay && window.replay.ready) && document.querySelectorAll("#marks .slide").length === 1`)
		return err == nil && ok
	})
	from := eval[float64](replay, `(() => {
		const m = document.querySelector("#marks .slide").getBoundingClientRect(), s = document.getElementById("marks").getBoundingClientRect();
		return (s.right - (m.left + m.width / 2)) / s.width;
	})()`)
	want := eval[float64](replay, `window.replay.slideChanges[0] / window.replay.duration`)
	if math.Abs(from-want) > 0.02 {
		t.Errorf("right to left, the slide mark is %.3f of the scrubber from its right end, want %.3f", from, want)
	}
	eval[bool](replay, `window.replay.seek(0).then(() => true)`)
	if err := chromedp.Do(replay.ctx, chromedp.KeyEvent(kb.ArrowLeft)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the left arrow to seek forward", func() bool { return eval[float64](replay, `window.replay.position`) > 0 })
}

// TestLanguageSwitchInLesson: in a running lesson, the header's switch
// turns the teacher's and a student's pages to German and to Spanish in
// place: every word on screen (the board's tools, the people, the poll, the
// chat) is the new language's, and the page neither reloads nor leaves the
// lesson (the same connection, the teacher's video still playing on the
// student's page). The choice is kept: a reload comes back in it, and the
// server's own pages are told (the cookie).
func TestLanguageSwitchInLesson(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	b := newBrowser(t, true, chromedp.Flag("lang", "en-US"), chromedp.Flag("accept-lang", "en-US,en"))
	teacher, student := newTab(t, b, "teacher"), newTab(t, b, "student")
	teacher.join(site.teacherLink(lesson), "Ms Rivera")
	eval[float64](teacher, `window.classroom.send("lesson.started")`)
	student.join(site.studentsLink(lesson), "Ana")
	eval[float64](student, `window.classroom.send("hand.raised", {})`)
	eval[float64](teacher, `window.classroom.send("chat.posted", {text: "Good morning"})`)
	eval[float64](teacher, `window.classroom.send("poll.asked", {poll: crypto.randomUUID(), question: "2 + 2?", choices: ["3", "4"]})`)
	teacherID := eval[string](teacher, `window.classroom.me`)
	student.decodes(teacherID)
	frames := func() float64 {
		return eval[float64](student, `window.classroom.videoStats().then((s) => s["`+teacherID+`"].framesDecoded)`)
	}
	before := frames()
	if got := eval[string](teacher, `document.getElementById("lifecycle").textContent`); got != "End lesson" {
		t.Fatalf("the teacher's page is not in English before the switch: %q", got)
	}

	for _, tc := range []struct {
		tb                 *tab
		lang, hand, ending string
	}{
		{teacher, "de", "", "Stunde beenden"},
		{student, "es", "Bajar la mano", ""},
	} {
		tb := tc.tb
		eval[bool](tb, `(window.kept = window.classroom.app.conn, true)`)
		if err := chromedp.Do(tb.ctx, chromedp.SetValue(chromedp.ID("lesson-language"), tc.lang)); err != nil {
			t.Fatal(err)
		}
		eval[bool](tb, `(document.getElementById("lesson-language").dispatchEvent(new Event("change")), true)`)
		waitUntil(t, 10*time.Second, tb.name+"'s page in "+tc.lang, func() bool {
			return eval[string](tb, `document.documentElement.lang`) == tc.lang
		})
		time.Sleep(200 * time.Millisecond) // the next frame renders the state's words
		if !eval[bool](tb, `window.kept === window.classroom.app.conn && window.classroom.ready`) {
			t.Errorf("%s: switching the language left the lesson or reloaded the page", tb.name)
		}
		en := english(t, tc.lang)
		untranslated(t, tb, en, tb.name+"'s page in "+tc.lang)
		panels := []string{"tab-people", "tab-poll", "tab-chat"}
		if tb == teacher {
			panels = append(panels, "tab-groups") // the plan of groups, with Ana to place
		}
		for _, id := range panels {
			eval[bool](tb, `(document.getElementById("`+id+`").click(), true)`)
			untranslated(t, tb, en, tb.name+"'s "+id+" in "+tc.lang)
		}
		for _, lbl := range eval[[]string](tb, `[...document.querySelectorAll("#tools button, #colors button")].map((b) => b.getAttribute("aria-label"))`) {
			if en[lbl] {
				t.Errorf("%s: a board button is still named %q", tb.name, lbl)
			}
		}
		if tc.ending != "" {
			if got := eval[string](tb, `document.getElementById("lifecycle").textContent`); got != tc.ending {
				t.Errorf("%s: the lesson's button says %q, want %q", tb.name, got, tc.ending)
			}
		}
		if tc.hand != "" {
			if got := eval[string](tb, `document.getElementById("hand").textContent`); got != tc.hand {
				t.Errorf("%s: the hand button says %q, want %q", tb.name, got, tc.hand)
			}
		}
	}
	// The student's page still plays the teacher's video.
	waitUntil(t, 10*time.Second, "the student's page to go on decoding the teacher's video", func() bool { return frames() > before+10 })

	// Kept: a reload comes back in German, and the server is told.
	if got := eval[string](teacher, `document.cookie`); !strings.Contains(got, "classroom_language=de") {
		t.Errorf("the teacher's cookies %q do not tell the server the language", got)
	}
	if err := chromedp.Do(teacher.ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	teacher.waitLive()
	if got := eval[string](teacher, `document.documentElement.lang + " " + document.getElementById("lesson-language").value`); got != "de de" {
		t.Errorf("after a reload the teacher's page is in %q, want de (and the switch saying so)", got)
	}
}
