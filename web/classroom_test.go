package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"classroom/domain"
	"classroom/realtime/token"
)

// tab is one browser context (its own cookies and storage, like another
// person's browser) on the lesson page.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
}

// newTab opens a fresh browser context in the test's browser.
func newTab(t *testing.T, b context.Context, name string) *tab {
	t.Helper()
	// A browser context can be made only once the browser runs.
	if _, err := chromedp.Run(b, chromedp.Evaluate[bool](`true`)); err != nil {
		t.Fatalf("%s: start the browser: %v", name, err)
	}
	ctx, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 800), chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	return &tab{t: t, name: name, ctx: ctx}
}

// eval evaluates a JavaScript expression in the tab, awaiting a promise.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("%s: %s: %v", tb.name, expr, err)
	}
	return v
}

// try evaluates like eval but reports a failure instead of ending the test.
func try[T any](tb *tab, expr string) (T, error) {
	return chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// join opens a lesson link, gives a name and waits until the page is live.
func (tb *tab) join(link, name string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(link)); err != nil {
		tb.t.Fatalf("%s: open %s: %v", tb.name, link, err)
	}
	if name != "" {
		if err := chromedp.Do(tb.ctx,
			chromedp.WaitVisible(chromedp.ID("join-name")),
			chromedp.SetValue(chromedp.ID("join-name"), name),
			chromedp.Click(chromedp.ID("join-button")),
		); err != nil {
			tb.t.Fatalf("%s: fill in the name: %v", tb.name, err)
		}
	}
	tb.waitLive()
}

func (tb *tab) waitLive() {
	tb.t.Helper()
	waitUntil(tb.t, 30*time.Second, tb.name+"'s page to be live", func() bool {
		ok, err := try[bool](tb, `!!(window.classroom && window.classroom.ready && window.classroom.state)`)
		return err == nil && ok
	})
}

func (tb *tab) hash() string { return eval[string](tb, `window.classroom.hash()`) }
func (tb *tab) seq() int64   { return eval[int64](tb, `window.classroom.seq`) }

// click clicks the element a CSS selector finds.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		tb.t.Fatalf("%s: click %s: %v", tb.name, sel, err)
	}
}

// stroke drags the mouse across the board, from and to fractions of its box.
func (tb *tab) stroke(x0, y0, x1, y1 float64, steps int) {
	tb.t.Helper()
	box := eval[struct{ X, Y, Width, Height float64 }](tb,
		`(() => { const r = document.getElementById("board").getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })()`)
	at := func(f, g float64) (float64, float64) { return box.X + f*box.Width, box.Y + g*box.Height }
	mouse := func(typ input.DispatchMouseEventType, x, y float64, buttons int64) {
		p := input.DispatchMouseEventParams{Type: typ, X: x, Y: y, Button: input.MouseButtonLeft, Buttons: buttons}
		if typ != chromedp.MouseMoved {
			p.ClickCount = 1
		}
		if _, err := chromedp.Call(tb.ctx, input.DispatchMouseEvent, p); err != nil {
			tb.t.Fatalf("%s: draw: %v", tb.name, err)
		}
	}
	x, y := at(x0, y0)
	mouse(chromedp.MouseMoved, x, y, 0)
	mouse(chromedp.MousePressed, x, y, 1)
	for i := 1; i <= steps; i++ {
		f := float64(i) / float64(steps)
		x, y = at(x0+(x1-x0)*f, y0+(y1-y0)*f)
		mouse(chromedp.MouseMoved, x, y, 1)
		time.Sleep(8 * time.Millisecond) // a hand, not a teleport: the board batches by time
	}
	mouse(chromedp.MouseReleased, x, y, 0)
}

// decodes waits until the tab has decoded video from a participant and shows it.
func (tb *tab) decodes(participant string) {
	tb.t.Helper()
	waitUntil(tb.t, 45*time.Second, fmt.Sprintf("%s to decode %s's video", tb.name, participant), func() bool {
		stats, err := try[map[string]struct {
			FramesDecoded float64
			Width         float64
		}](tb, `window.classroom.videoStats()`)
		s := stats[participant]
		return err == nil && s.FramesDecoded > 0 && s.Width > 0
	})
}

func (tb *tab) screenshot(dir, name string) {
	tb.t.Helper()
	if dir == "" {
		return
	}
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Errorf("%s: screenshot: %v", tb.name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		tb.t.Error(err)
	}
}

// TestClassroomInBrowser runs a lesson the way people do, in headless
// Chromium with fake cameras: the teacher creates it on the home page, two
// students join with the shared link and see the teacher; the teacher
// changes slide and draws, and every board shows it; a student raises a hand,
// is given the floor and the other student sees them; a student's attempt to
// change slide is refused and shown; a late joiner and a reloaded page show
// the same lesson. Screenshots go to CLASSROOM_SCREENSHOTS when it is set.
func TestClassroomInBrowser(t *testing.T) {
	site := startSite(t)
	shots := os.Getenv("CLASSROOM_SCREENSHOTS")
	b := browser(t)
	if err := chromedp.Do(b, chromedp.EmulateViewport(1366, 800)); err != nil {
		t.Fatal(err)
	}

	// The teacher creates the lesson on the home page.
	teacher := &tab{t: t, name: "teacher", ctx: b}
	if err := chromedp.Do(b,
		chromedp.Navigate(site.srv.URL+"/"),
		chromedp.SetValue(chromedp.ID("lesson-title"), "Fractions, week 3"),
		chromedp.Click(chromedp.CSS(`#create button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("created")),
	); err != nil {
		t.Fatalf("create a lesson on the home page: %v", err)
	}
	teacherLink := eval[string](teacher, `document.getElementById("teacher-link").value`)
	studentsLink := eval[string](teacher, `document.getElementById("students-link").value`)
	if !strings.Contains(teacherLink, "#token=") || !strings.Contains(studentsLink, "#token=") {
		t.Fatalf("the home page's links: %q %q", teacherLink, studentsLink)
	}
	teacher.screenshot(shots, "home.png")
	teacher.join(teacherLink, "Ms Rivera")
	teacher.click("#lifecycle") // start the lesson

	ana := newTab(t, b, "Ana")
	ana.join(studentsLink, "Ana")
	ben := newTab(t, b, "Ben")
	ben.join(studentsLink, "Ben")
	for _, s := range []*tab{ana, ben} {
		s.decodes("teacher")
	}

	// The teacher goes to the next page and draws; every board follows.
	teacher.click("#next")
	waitUntil(t, 10*time.Second, "the teacher's page to turn", func() bool {
		return eval[int](teacher, `window.classroom.state.slide.page`) == 1
	})
	teacher.stroke(0.2, 0.3, 0.7, 0.6, 40)
	waitSame := func(what string, tabs ...*tab) string {
		t.Helper()
		var want string
		waitUntil(t, 20*time.Second, what, func() bool {
			want = teacher.hash()
			for _, s := range tabs {
				if s.seq() != teacher.seq() || s.hash() != want {
					return false
				}
			}
			return true
		})
		return want
	}
	if os.Getenv("CLASSROOM_TEST_DEBUG") != "" {
		time.Sleep(time.Second)
		t.Logf("debug: %v", eval[any](teacher, `({errors: window.classroom.errors, stats: window.classroom.board.stats(), seq: window.classroom.seq, slide: window.classroom.state.slide, can: window.classroom.state.canDraw(window.classroom.me), me: window.classroom.me, tool: window.classroom.board.tool, vis: window.classroom.state.visible(window.classroom.state.slide).length})`))
	}
	waitUntil(t, 10*time.Second, "the teacher's stroke to be committed", func() bool {
		return eval[int](teacher, `window.classroom.state.visible(window.classroom.state.slide).length`) == 1
	})
	waitSame("the students' boards to match the teacher's", ana, ben)
	if page := eval[int](ana, `window.classroom.state.slide.page`); page != 1 {
		t.Fatalf("Ana is on page %d, want 1", page)
	}
	// A pixel check: the middle of the stroke is painted on every board.
	for _, s := range []*tab{teacher, ana, ben} {
		px := eval[[]float64](s, `(() => {
			const st = window.classroom.state, o = st.visible(st.slide)[0];
			const p = o.points[Math.floor(o.points.length / 2)];
			return Array.from(window.classroom.board.pixel(p[0], p[1]));
		})()`)
		if len(px) < 3 || (px[0] > 240 && px[1] > 240 && px[2] > 240) {
			t.Errorf("%s: the board under the stroke is %v, not ink", s.name, px)
		}
	}
	// The server agrees.
	serverHash := func() string {
		t.Helper()
		id := eval[string](teacher, `window.classroom.state.lesson`)
		st := domain.NewState()
		for e, err := range site.store.Events(context.Background(), mustUUID(t, id), 0) {
			if err != nil {
				t.Fatal(err)
			}
			st.Apply(e)
		}
		return st.Hash()
	}
	if got, want := teacher.hash(), serverHash(); got != want {
		t.Fatalf("the teacher's page hash %s, the server's %s", got, want)
	}

	// The teacher uploads a PDF: its first page is everyone's slide.
	pdf := filepath.Join(t.TempDir(), "Shapes.pdf")
	if err := os.WriteFile(pdf, twoPagePDF(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(teacher.ctx, chromedp.SetUploadFiles(chromedp.ID("upload"), []string{pdf})); err != nil {
		t.Fatalf("choose the PDF: %v", err)
	}
	waitUntil(t, 60*time.Second, "Ana to see the PDF's first page", func() bool {
		return eval[bool](ana, `(() => {
			const s = window.classroom.state.slide;
			if (s.deck === "00000000-0000-0000-0000-000000000000" || s.page !== 0) return false;
			const px = window.classroom.board.pixel(800, 450); // the page's middle: red
			return px[0] > 200 && px[1] < 80 && px[2] < 80;
		})()`)
	})
	waitSame("the boards to match on the deck's page", ana, ben)

	// Chat: Ana writes, everyone reads it.
	if err := chromedp.Do(ana.ctx,
		chromedp.SetValue(chromedp.ID("chat-input"), "Is ¾ more than ⅔? <asking>"),
		chromedp.Click(chromedp.CSS(`#chat-form button[type="submit"]`)),
	); err != nil {
		t.Fatalf("Ana chats: %v", err)
	}
	for _, s := range []*tab{teacher, ben} {
		waitUntil(t, 10*time.Second, s.name+" to read Ana's message", func() bool {
			return eval[bool](s, `[...document.querySelectorAll("#messages li")].some((li) => li.textContent.includes("¾ more than ⅔? <asking>"))`)
		})
	}

	// Ana raises her hand; the teacher gives her the floor; Ben sees her.
	ana.click("#hand")
	waitUntil(t, 10*time.Second, "Ana's hand in the teacher's queue", func() bool {
		return eval[int](teacher, `document.querySelectorAll("#queue li").length`) == 1
	})
	teacher.click("#queue li .grant")
	anaID := eval[string](ana, `window.classroom.me`)
	ben.decodes(anaID)
	teacher.decodes(anaID)

	// Ben may not change the slide: the server refuses and the page says so.
	eval[bool](ben, `window.classroom.send("slide.changed", {slide: {deck: "00000000-0000-0000-0000-000000000000", page: 5}}).then(() => true, () => true)`)
	waitUntil(t, 10*time.Second, "Ben's page to show the refusal", func() bool {
		return eval[bool](ben, `window.classroom.errors.some((e) => e.code === "forbidden") &&
			[...document.querySelectorAll(".toast.error")].some((n) => n.textContent.includes("Not allowed"))`)
	})
	teacher.screenshot(shots, "lesson-teacher.png")
	ben.screenshot(shots, "lesson-student.png")
	if shots != "" { // and at a tablet's size, portrait
		if err := chromedp.Do(ana.ctx, chromedp.EmulateViewport(820, 1180)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // the board settles to its new size
		ana.screenshot(shots, "lesson-tablet.png")
	}

	// A late joiner sees the same lesson at once.
	cleo := newTab(t, b, "Cleo")
	cleo.join(studentsLink, "Cleo")
	want := waitSame("Cleo's board to match", ana, ben, cleo)

	// A reloaded page comes back as the same participant with the same state.
	benID := eval[string](ben, `window.classroom.me`)
	if err := chromedp.Do(ben.ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	ben.waitLive()
	if id := eval[string](ben, `window.classroom.me`); id != benID {
		t.Errorf("after a reload Ben is %q, was %q", id, benID)
	}
	waitSame("Ben's reloaded board to match", ben)
	// The teacher lets Ben draw; Ben's stroke reaches everyone.
	teacher.click("#tab-people")
	teacher.click(`#people li[data-participant="` + benID + `"] button`)
	waitUntil(t, 10*time.Second, "Ben to be allowed to draw", func() bool {
		return eval[bool](ben, `window.classroom.state.canDraw(window.classroom.me)`)
	})
	ben.stroke(0.3, 0.7, 0.6, 0.8, 20)
	waitUntil(t, 10*time.Second, "Ben's stroke on the teacher's board", func() bool {
		return eval[bool](teacher, `window.classroom.state.visible(window.classroom.state.slide).some((o) => o.owner === "`+benID+`")`)
	})

	// Ben's network drops twice: once right after a message went out, once
	// before another; the page reconnects by itself and each message is
	// in the lesson exactly once.
	eval[bool](ben, `(() => {
		const app = window.classroom.app;
		window.classroom.send("chat.posted", {text: "in flight when the line dropped"});
		app.drop(app.conn, "a test cut the line");
		window.classroom.send("chat.posted", {text: "written while offline"});
		return true;
	})()`)
	ben.waitLive()
	waitUntil(t, 20*time.Second, "both of Ben's messages to arrive", func() bool {
		return eval[int](teacher, `(window.classroom.state.chat || []).filter((m) => m.text === "in flight when the line dropped" || m.text === "written while offline").length`) >= 2
	})
	waitSame("Ben's board to match after reconnecting", ben)
	if n := eval[int](teacher, `(window.classroom.state.chat || []).filter((m) => m.text === "in flight when the line dropped" || m.text === "written while offline").length`); n != 2 {
		t.Fatalf("Ben's two messages are in the lesson %d times", n)
	}

	// The teacher ends the lesson: every page says so.
	eval[bool](teacher, `window.classroom.send("lesson.ended").then(() => true)`)
	waitUntil(t, 10*time.Second, "Ben's page to say the lesson ended", func() bool {
		return eval[bool](ben, `document.getElementById("banner").textContent.includes("ended")`)
	})
	if got := serverHash(); got != teacher.hash() {
		t.Errorf("the server's hash %s differs from the pages' %s (was %s)", got, teacher.hash(), want)
	}

	// Ben, a student, plays the lesson back from the link his page now
	// shows, under his own students' link: it ends as the lesson did.
	waitUntil(t, 10*time.Second, "Ben's page to show the replay link", func() bool {
		return eval[bool](ben, `!document.getElementById("replay").hidden`)
	})
	if href := eval[string](ben, `document.getElementById("replay").href`); !strings.Contains(href, "/lessons/"+eval[string](teacher, `window.classroom.state.lesson`)+"/replay#token=") {
		t.Fatalf("Ben's replay link is %q", href)
	}
	ben.click("#replay")
	waitUntil(t, 30*time.Second, "Ben's replay page to load", func() bool {
		ok, err := try[bool](ben, `!!(window.replay && window.replay.ready)`)
		return err == nil && ok
	})
	eval[bool](ben, `window.replay.seek(window.replay.duration).then(() => true)`)
	if got, want := eval[string](ben, `window.replay.hash()`), serverHash(); got != want {
		t.Errorf("Ben's replay ends with state hash %s, the lesson with %s", got, want)
	}
	chat := eval[int](teacher, `(window.classroom.state.chat || []).length`)
	if n := eval[int](ben, `document.querySelectorAll("#messages li").length`); n != chat || n < 3 {
		t.Errorf("Ben's replay shows %d chat messages at the end, the lesson had %d", n, chat)
	}

	// Ben's home page lists the lesson he took part in, with its replay
	// under his own token (which outlives a replaced students' link), not
	// the class's.
	_, studentsToken, _ := strings.Cut(studentsLink, "#token=")
	if err := chromedp.Do(ben.ctx, chromedp.Navigate(site.srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "Ben's home page to list his lesson", func() bool {
		return eval[bool](ben, fmt.Sprintf(`[...document.querySelectorAll("#mine li")].some((li) =>
			li.textContent.includes("Fractions, week 3") && [...li.querySelectorAll("a")].some((a) => {
				if (a.textContent !== "Replay") return false;
				const tok = decodeURIComponent(a.href.split("/replay#token=")[1] || "");
				const sub = JSON.parse(atob(tok.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).sub;
				return tok !== %q && sub === %q;
			}))`, studentsToken, benID))
	})
}

// TestLessonPageMessages: the page says plainly when the link has expired
// and when the camera is denied, and goes on without a camera.
func TestLessonPageMessages(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	// A browser that says no to the camera and microphone.
	b := newBrowser(t, false)
	for _, name := range []string{"camera", "microphone"} {
		if _, err := chromedp.CallBrowser(b, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingDenied,
		}); err != nil {
			t.Fatalf("deny the %s: %v", name, err)
		}
	}
	student := &tab{t: t, name: "student", ctx: b}
	student.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Students.Token, "Dana")
	waitUntil(t, 10*time.Second, "the page to say the camera is blocked", func() bool {
		return eval[bool](student, `document.getElementById("banner").textContent.includes("blocked")`)
	})
	if _, err := try[float64](student, `window.classroom.send("chat.posted", {text: "no camera here, but I can write"})`); err != nil {
		t.Fatalf("a student without a camera chats: %v", err)
	}

	// A link past its expiry.
	// Signed by the site's key, by a clock two hours behind.
	tokens, err := token.NewKeeper([]byte(strings.Repeat("k", 32)), func() time.Time { return time.Now().Add(-2 * time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	expired, err := tokens.Issue(token.Claims{Lesson: mustUUID(t, lesson.ID), Role: domain.RoleStudent,
		Expires: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	late := newTab(t, b, "late")
	if err := chromedp.Do(late.ctx,
		chromedp.Navigate(site.srv.URL+"/lessons/"+lesson.ID+"#token="+expired),
		chromedp.WaitVisible(chromedp.ID("join-name")),
		chromedp.SetValue(chromedp.ID("join-name"), "Eli"),
		chromedp.Click(chromedp.ID("join-button")),
	); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the page to say the link expired", func() bool {
		return eval[bool](late, `document.getElementById("banner").textContent.includes("expired")`)
	})

	// A lesson that does not exist.
	if err := chromedp.Do(late.ctx, chromedp.Navigate(site.srv.URL+"/lessons/"+uuid.NewString()+"#token="+lesson.Students.Token),
		chromedp.WaitVisible(chromedp.ID("join-name")),
		chromedp.SetValue(chromedp.ID("join-name"), "Eli"),
		chromedp.Click(chromedp.ID("join-button")),
	); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the page to explain the refusal", func() bool {
		text := eval[string](late, `document.getElementById("banner").textContent`)
		return strings.Contains(text, "expired") || strings.Contains(text, "no such lesson")
	})
}

// TestScreenShareInBrowser: the teacher shares the screen; a student's big
// tile switches to it, and back to the camera when sharing stops.
func TestScreenShareInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	b := browser(t)
	teacher := newTab(t, b, "teacher")
	teacher.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Teacher.Token, "Ms Rivera")
	student := newTab(t, b, "student")
	student.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Students.Token, "Ana")
	student.decodes("teacher")
	shown := func() string {
		return eval[string](student, `(() => {
			const s = document.querySelector("#tile-teacher video").srcObject;
			return s ? s.getVideoTracks().map((t) => t.id).join(",") : "";
		})()`)
	}
	camera := shown()
	teacher.click("#screen")
	waitUntil(t, 20*time.Second, "the student's big tile to show the shared screen", func() bool {
		s := shown()
		return s != "" && s != camera
	})
	student.decodes("teacher")
	teacher.click("#screen") // stop sharing
	waitUntil(t, 20*time.Second, "the student's big tile to show the camera again", func() bool {
		return shown() == camera
	})
}

// TestNewStudentsLinkInBrowser: the teacher makes a new students' link on
// the lesson page; a student opening the old link is told it was replaced
// and does not join, one opening the new link joins, and the student who
// had joined with the old link stays.
func TestNewStudentsLinkInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	b := browser(t)
	teacher := newTab(t, b, "teacher")
	teacher.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Teacher.Token, "Ms Rivera")
	ana := newTab(t, b, "ana")
	ana.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Students.Token, "Ana")

	// The dialogs answer at once: the confirmation, and the link shown
	// where the clipboard is refused.
	eval[bool](teacher, `(window.confirm = () => true, window.prompt = () => null, true)`)
	teacher.click("#more summary")
	teacher.click("#reinvite")
	waitUntil(t, 10*time.Second, "the new students' link", func() bool {
		return eval[bool](teacher, `!!window.classroom.studentsLink`)
	})
	link := eval[string](teacher, `window.classroom.studentsLink`)
	if !strings.Contains(link, "#token=") || strings.Contains(link, lesson.Students.Token) {
		t.Fatalf("the new students' link is %q", link)
	}

	eve := newTab(t, b, "eve")
	if err := chromedp.Do(eve.ctx, chromedp.Navigate(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Students.Token),
		chromedp.WaitVisible(chromedp.ID("join-name")),
		chromedp.SetValue(chromedp.ID("join-name"), "Eve"),
		chromedp.Click(chromedp.ID("join-button"))); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 15*time.Second, "Eve to be told the link was replaced", func() bool {
		b, err := try[string](eve, `document.getElementById("banner").textContent`)
		return err == nil && strings.Contains(b, "replaced")
	})

	ben := newTab(t, b, "ben")
	ben.join(link, "Ben")
	waitUntil(t, 10*time.Second, "the teacher to see Ana and Ben, and not Eve", func() bool {
		names := eval[string](teacher, `[...window.classroom.state.participants.values()].filter((p) => p.present).map((p) => p.name).sort().join(",")`)
		return names == "Ana,Ben,Ms Rivera"
	})

	// Ana, who came with the replaced link, still replays the lesson once
	// it has ended: her page links the replay with her own token.
	eval[bool](teacher, `(window.classroom.send("lesson.ended"), true)`)
	waitUntil(t, 15*time.Second, "Ana's replay link", func() bool {
		return eval[bool](ana, `!document.getElementById("replay").hidden`)
	})
	href := eval[string](ana, `document.getElementById("replay").href`)
	_, tok, ok := strings.Cut(href, "#token=")
	if !ok {
		t.Fatalf("Ana's replay link %q has no token", href)
	}
	tok, err := url.QueryUnescape(tok)
	if err != nil || tok == lesson.Students.Token {
		t.Fatalf("Ana's replay link carries the replaced class link (%v)", err)
	}
	req, _ := http.NewRequest(http.MethodGet, site.srv.URL+"/api/lessons/"+lesson.ID+"/events?after=0&limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("Ana's replay link is refused: %d", resp.StatusCode)
	}
}
