package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"classroom/domain"
	"classroom/web"
)

// TestSVGExportOverSlides: the SVG export of a board drawn over a deck's
// page carries the page's image beside the SVG, and the SVG draws the
// board over it.
func TestSVGExportOverSlides(t *testing.T) {
	s := newDeckSite(t, "sqlite", web.DeckLimits{})
	l := s.newLesson()
	png := pngOf(t, 160, 90, false)
	var deck uploaded
	if resp := s.upload(l.ID, l.Teacher.Token, []part{name("Shapes"), page(png)}, &deck); resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	ctx := context.Background()
	st := domain.NewState()
	for e, err := range s.store.Events(ctx, l.ID, 0) {
		if err != nil {
			t.Fatal(err)
		}
		st.Apply(e)
	}
	slide := domain.Slide{Deck: deck.Deck, Page: 0}
	for _, p := range []domain.Payload{
		&domain.ParticipantJoined{Name: "Ms Rivera"},
		&domain.DeckAdded{Deck: deck.Deck, Name: "Shapes", Pages: 1},
		&domain.SlideChanged{Slide: slide},
		&domain.StrokeDrawn{Object: uuid.New(), Slide: slide, Tool: "pen", Color: "#dc2626", Width: 4,
			Points: domain.Points{{X: 100, Y: 100}, {X: 400, Y: 300}}},
	} {
		ev, err := domain.Decide(st, domain.Command{ID: uuid.New(), Actor: "teacher", Role: domain.RoleTeacher, Payload: p}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		seqs, errs, err := s.store.Append(ctx, ev)
		if err == nil {
			err = errs[0]
		}
		if err != nil {
			t.Fatal(err)
		}
		ev.Seq = seqs[0]
		st.Apply(ev)
	}
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/api/lessons/"+l.ID.String()+"/export?format=svg", nil)
	req.Header.Set("Authorization", "Bearer "+l.Teacher.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d %s", resp.StatusCode, body)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	svg, image := files["deck01-shapes-p001.svg"], files["deck01-shapes-p001.png"]
	if !bytes.Equal(image, png) {
		t.Fatalf("the archive holds %v, want the slide's page beside its board", func() (names []string) {
			for n := range files {
				names = append(names, n)
			}
			return
		}())
	}
	at, path := strings.Index(string(svg), `<image href="deck01-shapes-p001.png"`), strings.Index(string(svg), "<path")
	if at < 0 || path < at {
		t.Fatalf("the SVG does not draw the board over the slide:\n%s", svg)
	}
}

// TestSmallThingsInBrowser: the pages have a favicon; the teacher exports
// the lesson from the lesson page and from the replay; the replay's slide
// marks are large enough to click and seek there; and outside the recorded
// span its tiles say "Not recorded".
func TestSmallThingsInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	b := browser(t)
	teacher := newTab(t, b, "teacher")
	teacher.join(site.teacherLink(lesson), "Ms Rivera")
	icon := eval[string](teacher, `document.querySelector('link[rel="icon"]').href`)
	resp, err := http.Get(icon)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/svg+xml") {
		t.Errorf("the favicon %s: %d %s", icon, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	eval[float64](teacher, `window.classroom.send("lesson.started")`)
	for page := 1; page <= 2; page++ {
		time.Sleep(700 * time.Millisecond) // marks apart on the replay's scrubber
		eval[float64](teacher, fmt.Sprintf(`window.classroom.send("slide.changed", {slide: {deck: window.classroom.state.slide.deck, page: %d}})`, page))
	}
	time.Sleep(700 * time.Millisecond)
	// exported downloads what the export menu asks for, and returns its status and type.
	exported := func(tb *tab, format string) string {
		t.Helper()
		return eval[string](tb, fmt.Sprintf(`(async () => {
			let href = "";
			const click = HTMLAnchorElement.prototype.click;
			HTMLAnchorElement.prototype.click = function () { href = this.href; };
			const ex = document.getElementById("export");
			ex.value = %q;
			ex.dispatchEvent(new Event("change"));
			HTMLAnchorElement.prototype.click = click;
			const r = await fetch(href);
			return r.status + " " + r.headers.get("Content-Type");
		})()`, format))
	}
	if got := exported(teacher, "csv"); !strings.HasPrefix(got, "200 text/csv") {
		t.Errorf("the lesson page's CSV export: %s", got)
	}
	eval[float64](teacher, `window.classroom.send("lesson.ended")`)

	if err := chromedp.Do(teacher.ctx, chromedp.Navigate(site.srv.URL+"/lessons/"+lesson.ID+"/replay#token="+lesson.Teacher.Token)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "the replay and its marks", func() bool {
		n, err := try[int](teacher, `window.replay && window.replay.ready ? document.querySelectorAll("#marks .slide").length : 0`)
		return err == nil && n == 2
	})
	if got := exported(teacher, "chat.vtt"); !strings.HasPrefix(got, "200 text/vtt") {
		t.Errorf("the replay's WebVTT export: %s", got)
	}
	if empty := eval[string](teacher, `document.getElementById("tile-teacher").dataset.empty`); empty != "Not recorded" {
		t.Errorf("the replay's teacher tile says %q outside the recording, want Not recorded", empty)
	}
	mark := eval[struct{ Width, Height, X, Y float64 }](teacher, `(() => {
		const r = document.querySelectorAll("#marks .slide")[1].getBoundingClientRect();
		return {width: r.width, height: r.height, x: r.x + r.width / 2, y: r.y + r.height / 2};
	})()`)
	if mark.Width < 12 || mark.Height < 12 {
		t.Errorf("a slide mark is %v×%v px, too small to click", mark.Width, mark.Height)
	}
	if err := chromedp.Do(teacher.ctx, chromedp.MouseClickXY(mark.X, mark.Y)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "a click on the second mark to seek to page 3", func() bool {
		return eval[int](teacher, `window.replay.state ? window.replay.state.slide.page : -1`) == 2
	})
}
