package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"classroom/domain"
	"classroom/realtime/client"
	"classroom/realtime/protocol"
)

// openAsStudent opens a lesson link in the tab and joins under a name,
// without waiting for the page to be live.
func (tb *tab) openAsStudent(link, name string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("join-name")),
		chromedp.SetValue(chromedp.ID("join-name"), name),
		chromedp.Click(chromedp.ID("join-button"))); err != nil {
		tb.t.Fatalf("%s: open %s: %v", tb.name, link, err)
	}
}

// TestIncompatiblePageReloads: a page whose protocol version the server
// does not serve (here a page made to say it speaks the next version) is
// told incompatible and reloads itself to fetch the server's own; refused
// again by the same server, it stops and says so instead of reloading
// without end.
func TestIncompatiblePageReloads(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	stale := newTab(t, browser(t), "stale")
	// On every load of the tab: count the load, and make the page's join
	// name a version the server does not serve.
	script := fmt.Sprintf(`
		sessionStorage.setItem("test:loads", String(Number(sessionStorage.getItem("test:loads") || 0) + 1));
		const send = WebSocket.prototype.send;
		WebSocket.prototype.send = function (data) {
			const m = JSON.parse(data);
			return send.call(this, m.type === "join" ? JSON.stringify({ ...m, version: %d }) : data);
		};`, protocol.Version+1)
	if _, err := chromedp.Call(stale.ctx, cdppage.AddScriptToEvaluateOnNewDocument,
		cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: script}); err != nil {
		t.Fatal(err)
	}
	stale.openAsStudent(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Students.Token, "Sam")
	waitUntil(t, 30*time.Second, "the page to stop", func() bool {
		state, err := try[string](stale, `document.getElementById("status").dataset.state`)
		return err == nil && state == "stopped"
	})
	if loads := eval[string](stale, `sessionStorage.getItem("test:loads")`); loads != "2" {
		t.Errorf("the page was loaded %s times, want 2: opened, then reloaded once for the server's version", loads)
	}
	if text := eval[string](stale, `document.getElementById("banner").textContent`); !strings.Contains(text, "reloading did not help") {
		t.Errorf("the page says %q, want that reloading did not help", text)
	}
}

// TestEndedLessonPage: a page opened on a lesson that has ended is told so
// (the reason lesson_ended), stops, and links the replay.
func TestEndedLessonPage(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher, err := client.Dial(ctx, client.Options{URL: site.ws(lesson.ID), Token: lesson.Teacher.Token, Name: "Ms Rivera", Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer teacher.Close()
	if _, err := teacher.Send(ctx, &domain.LessonEnded{}); err != nil {
		t.Fatal(err)
	}

	late := newTab(t, browser(t), "late")
	late.openAsStudent(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Students.Token, "Lou")
	waitUntil(t, 30*time.Second, "the page to say the lesson has ended", func() bool {
		text, err := try[string](late, `document.getElementById("banner").textContent`)
		return err == nil && strings.Contains(text, "has ended")
	})
	if state := eval[string](late, `document.getElementById("status").dataset.state`); state != "stopped" {
		t.Errorf("the page's connection is %q, want stopped", state)
	}
	if href := eval[string](late, `document.getElementById("replay").hidden ? "" : document.getElementById("replay").href`); !strings.Contains(href, "/replay#token=") {
		t.Errorf("the page links the replay as %q", href)
	}
}

// TestSignalTooLargeStopsPage: a page whose signal is over the server's
// limit (its session ends with close code 1009) stops and says why (in the
// page's language: the catalogues have it), instead of reconnecting into
// the same limit for ever.
func TestSignalTooLargeStopsPage(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	student := newTab(t, browser(t), "student")
	student.join(site.studentsLink(lesson), "Ana")
	eval[bool](student, fmt.Sprintf(`(() => {
		window.classroom.app.conn.signal({ type: "candidate", candidate: { candidate: "x".repeat(%d) } });
		return true;
	})()`, protocol.MaxSignalBytes+1))
	waitUntil(t, 10*time.Second, "the page to stop", func() bool { return eval[bool](student, `window.classroom.app.ending`) })
	if text := eval[string](student, `document.getElementById("banner").textContent`); !strings.Contains(text, "grew larger than the server accepts") {
		t.Errorf("the page says %q, want that its connection grew too large", text)
	}
	time.Sleep(2 * time.Second) // a reconnect would have begun after 0.5 s
	if eval[bool](student, `window.classroom.app.conn !== null`) {
		t.Error("the page connects again after a session ended over a signal too large")
	}
}
