package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// teacherLink and studentsLink are the lesson's two links on the site.
func (s *liveSite) teacherLink(l lessonLinks) string {
	return s.srv.URL + "/lessons/" + l.ID + "#token=" + l.Teacher.Token
}

func (s *liveSite) studentsLink(l lessonLinks) string {
	return s.srv.URL + "/lessons/" + l.ID + "#token=" + l.Students.Token
}

// createOnHome creates a lesson on the site's home page, as a teacher does.
func (tb *tab) createOnHome(s *liveSite, title string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx,
		chromedp.Navigate(s.srv.URL+"/"),
		chromedp.SetValue(chromedp.ID("lesson-title"), title),
		chromedp.Click(chromedp.CSS(`#create button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("created")),
	); err != nil {
		tb.t.Fatalf("%s: create a lesson on the home page: %v", tb.name, err)
	}
}

// TestLessonEndInBrowser: when the teacher ends the lesson, the teacher's
// page stops the camera and microphone and looks ended (no tools, no Clear,
// no permissions), a student's page stops its camera too; a student whose
// connection drops after the end, and one who opens the class link after
// it, are told that the lesson has ended, with the replay's link, not that
// they opened it somewhere else.
func TestLessonEndInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	b := browser(t)
	teacherLink, studentsLink := site.teacherLink(lesson), site.studentsLink(lesson)

	teacher := newTab(t, b, "teacher")
	teacher.join(teacherLink, "Ms Rivera")
	eval[float64](teacher, `window.classroom.send("lesson.started")`)
	ana := newTab(t, b, "Ana")
	ana.join(studentsLink, "Ana")
	ana.decodes("teacher")

	eval[float64](teacher, `window.classroom.send("lesson.ended")`)
	waitUntil(t, 10*time.Second, "the teacher's page to look ended", func() bool {
		return eval[bool](teacher, `(() => {
			const app = window.classroom.app, $ = (s) => document.querySelector(s);
			const camerasOff = !app.media.local || app.media.local.getTracks().every((t) => t.readyState === "ended");
			const sending = app.conn && app.conn.pc ? app.conn.pc.getSenders().some((s) => s.track && s.track.readyState === "live") : false;
			const toolsOff = [...document.querySelectorAll("#tools button, #colors button")].every((b) => b.disabled);
			return camerasOff && !sending && toolsOff && $("#clear").disabled && $("#class-draw").disabled &&
				$("#cam").disabled && $("#mic").disabled && $("#screen").disabled && $("#upload").disabled &&
				!$("#tile-teacher .label").textContent.includes("sees you") && document.body.classList.contains("ended");
		})()`)
	})
	waitUntil(t, 10*time.Second, "Ana's camera to stop", func() bool {
		return eval[bool](ana, `(() => { const l = window.classroom.app.media.local; return !l || l.getTracks().every((t) => t.readyState === "ended"); })()`)
	})
	// Nothing of the teacher's reaches Ana any more.
	frames := func() float64 {
		return eval[map[string]struct{ FramesDecoded float64 }](ana, `window.classroom.videoStats()`)["teacher"].FramesDecoded
	}
	time.Sleep(time.Second)
	before := frames()
	time.Sleep(2 * time.Second)
	if after := frames(); after > before {
		t.Errorf("Ana decoded %v more frames of the teacher 1 to 3 s after the end", after-before)
	}

	ended := func(tb *tab) {
		t.Helper()
		waitUntil(t, 15*time.Second, tb.name+"'s page to say the lesson has ended", func() bool {
			text := eval[string](tb, `document.getElementById("banner").textContent`)
			if strings.Contains(text, "somewhere else") {
				t.Fatalf("%s is told %q", tb.name, text)
			}
			return strings.Contains(text, "This lesson has ended") && eval[bool](tb, `!document.getElementById("replay").hidden`) &&
				eval[string](tb, `document.getElementById("status").dataset.state`) == "stopped"
		})
		if on := eval[bool](tb, `(() => { const l = window.classroom.app.media.local; return !!l && l.getTracks().some((t) => t.readyState === "live"); })()`); on {
			t.Errorf("%s's camera is still on", tb.name)
		}
	}
	// Ana's connection drops after the end: the page comes back to an ended lesson.
	eval[bool](ana, `(window.classroom.app.conn.ws.close(), true)`)
	ended(ana)

	// Ben opens the class link after the end.
	ben := newTab(t, b, "Ben")
	ben.openAsStudent(studentsLink, "Ben")
	ended(ben)
}

// TestMangledLessonLink: a lesson or replay link whose id is mangled answers
// 404 with the page itself, which says the link is not a lesson's, instead
// of the API's raw JSON.
func TestMangledLessonLink(t *testing.T) {
	site := startSite(t)
	b := browser(t)
	for _, path := range []string{"/lessons/not-a-lesson", "/lessons/not-a-lesson/replay"} {
		resp, err := http.Get(site.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %s, want 404 text/html", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		tb := newTab(t, b, path)
		if err := chromedp.Do(tb.ctx, chromedp.Navigate(site.srv.URL+path+"#token=abc")); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 10*time.Second, path+" to say it is not a lesson's link", func() bool {
			text, err := try[string](tb, `document.getElementById("banner") ? document.getElementById("banner").textContent : document.body.textContent`)
			if strings.Contains(text, `"error"`) {
				t.Fatalf("%s shows %q", path, text)
			}
			return err == nil && strings.Contains(text, "not a lesson")
		})
	}
}

// TestOversizedCommandSettles: a command larger than the server accepts,
// sent through the page's connection, is refused at once and settled: it is
// not kept pending to be sent again after every reconnect.
func TestOversizedCommandSettles(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	student := newTab(t, browser(t), "student")
	student.join(site.studentsLink(lesson), "Ana")
	got := eval[map[string]any](student, `(async () => {
		const { MAX_COMMAND_BYTES } = await import("/static/js/limits.js");
		const sent = window.classroom.send("chat.posted", { text: "x".repeat(MAX_COMMAND_BYTES + 10) });
		const settled = await Promise.race([sent.then(() => "stored", (err) => err.code || "refused"),
			new Promise((r) => setTimeout(() => r("pending"), 5000))]);
		return { settled, pending: window.classroom.app.pending.size };
	})()`)
	if got["settled"] != "invalid" || got["pending"] != float64(0) {
		t.Fatalf("an oversized command: %v, want refused as invalid with nothing pending", got)
	}
	// The page goes on.
	if _, err := try[float64](student, `window.classroom.send("chat.posted", {text: "still here"})`); err != nil {
		t.Fatalf("a chat line after the refusal: %v", err)
	}
}

// TestHomePageListsOnlyYours: a visitor's home page lists the lessons of the
// links this browser holds, not every lesson's title on the server; the
// operator, opening it with their key, sees them all.
func TestHomePageListsOnlyYours(t *testing.T) {
	site := startSite(t)
	site.createLesson(t) // titled "Glare", someone else's
	b := browser(t)
	visitor := newTab(t, b, "visitor")
	visitor.createOnHome(site, "Fractions, week 3")
	if err := chromedp.Do(visitor.ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("mine"))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // any listing has been fetched and shown
	text := eval[string](visitor, `document.body.innerText`)
	if strings.Contains(text, "Glare") || !strings.Contains(text, "Fractions, week 3") {
		t.Fatalf("a visitor's home page shows:\n%s\nwant their own lesson only", text)
	}

	operator := newTab(t, b, "operator")
	if err := chromedp.Do(operator.ctx, chromedp.Navigate(site.srv.URL+"/#operator="+url.QueryEscape(operatorKey))); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the operator's page to list every lesson", func() bool {
		text := eval[string](operator, `document.getElementById("lessons").innerText`)
		return strings.Contains(text, "Glare") && strings.Contains(text, "Fractions, week 3")
	})
	if loc := eval[string](operator, `location.href`); strings.Contains(loc, "operator") {
		t.Errorf("the operator's key stays in the address bar: %s", loc)
	}
}
