package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestLobbyInBrowser: with the lobby on, a student's page says the teacher
// will let them in and shows nothing of the lesson (no state, no board, no
// people, no chat, no video) while their camera is already on; the teacher
// sees the name in the waiting list with a badge and admits them with one
// click, and the student gets the whole lesson; the student's reload comes
// back without waiting; the teacher mutes, then removes the student, whose
// page says so; a newcomer then waits again, and is denied; a locked
// lesson's page says it is locked.
func TestLobbyInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	b := browser(t)
	teacher := newTab(t, b, "teacher")
	teacher.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Teacher.Token, "Ms Rivera")
	teacher.click("#lifecycle")
	// The lobby's controls are in the People tab, its switches folded.
	teacher.click("#tab-people")
	teacher.click(".lobby .switches summary")
	teacher.click("#lobby-on")
	waitUntil(t, 10*time.Second, "the lobby to be on", func() bool { return eval[bool](teacher, `window.classroom.state.lobby`) })
	if _, err := try[float64](teacher, `window.classroom.send("chat.posted", {text: "only for those let in"})`); err != nil {
		t.Fatal(err)
	}

	link := site.srv.URL + "/lessons/" + lesson.ID + "#token=" + lesson.Students.Token
	ana := newTab(t, b, "Ana")
	ana.knock(link, "Ana")
	waitUntil(t, 10*time.Second, "Ana's name in the teacher's waiting list", func() bool {
		return eval[string](teacher, `document.getElementById("waiting").textContent`) == "AnaAdmitDeny" &&
			eval[string](teacher, `document.getElementById("waiting-count").textContent`) == "1" &&
			eval[string](teacher, `document.getElementById("tab-waiting").textContent`) == "1"
	})
	time.Sleep(time.Second) // long enough for anything sent to arrive
	seen := eval[map[string]any](ana, `({
		state: window.classroom.state === null,
		seq: window.classroom.seq,
		ready: window.classroom.ready,
		board: document.querySelector("main.room").offsetParent === null,
		people: document.getElementById("people").children.length,
		chat: document.getElementById("messages").children.length,
		videos: [...document.querySelectorAll("video")].filter((v) => v.srcObject && !v.muted).length,
		text: document.getElementById("lobby-screen").textContent,
	})`)
	if seen["state"] != true || seen["seq"] != 0.0 || seen["ready"] != false || seen["board"] != true ||
		seen["people"] != 0.0 || seen["chat"] != 0.0 || seen["videos"] != 0.0 ||
		!strings.Contains(seen["text"].(string), "The teacher will let you in") {
		t.Fatalf("a waiting student's page shows %v", seen)
	}

	teacher.click("#waiting button.admit")
	ana.waitLive()
	waitUntil(t, 10*time.Second, "Ana to get the whole lesson", func() bool {
		return eval[int](ana, `document.getElementById("messages").children.length`) == 1 &&
			eval[bool](ana, `document.getElementById("lobby-screen").hidden`) && ana.hash() == teacher.hash()
	})

	// A reload comes back without waiting.
	if err := chromedp.Do(ana.ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	ana.waitLive()
	if eval[bool](ana, `!document.getElementById("lobby-screen").hidden`) {
		t.Fatal("Ana waits again after a reload")
	}

	// Muted, her page says so; removed, it says that.
	me := eval[string](ana, `window.classroom.me`)
	waitUntil(t, 10*time.Second, "Ana in the teacher's list", func() bool {
		return eval[bool](teacher, `!!document.querySelector('#people li[data-participant="`+me+`"] .mute-mic')`)
	})
	teacher.click(`#people li[data-participant="` + me + `"] .mute-mic`)
	waitUntil(t, 10*time.Second, "Ana's page to say she is muted", func() bool {
		return eval[bool](ana, `!document.getElementById("muted-note").hidden && document.getElementById("muted-text").textContent.includes("muted your microphone")`)
	})
	if _, err := try[float64](teacher, `window.classroom.send("participant.removed", {participant: "`+me+`"})`); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "Ana's page to say she was removed", func() bool {
		return eval[bool](ana, `document.getElementById("banner").textContent.includes("removed you")`)
	})

	// The removal put the lesson into the lobby: a newcomer waits.
	ben := newTab(t, b, "Ben")
	ben.knock(link, "Ana again")
	waitUntil(t, 10*time.Second, "Ben in the waiting list", func() bool {
		return eval[bool](teacher, `!!document.querySelector("#waiting button.deny")`)
	})
	teacher.click("#waiting button.deny")
	waitUntil(t, 10*time.Second, "Ben's page to say he was not let in", func() bool {
		return eval[bool](ben, `document.getElementById("banner").textContent.includes("did not let you in")`)
	})

	// Locked, a newcomer is refused at once, with words that say why.
	teacher.click("#lock")
	waitUntil(t, 10*time.Second, "the lock", func() bool { return eval[bool](teacher, `window.classroom.state.locked`) })
	cat := newTab(t, b, "Cat")
	if err := chromedp.Do(cat.ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("join-name")),
		chromedp.SetValue(chromedp.ID("join-name"), "Cat"), chromedp.Click(chromedp.ID("join-button"))); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "Cat's page to say the lesson is locked", func() bool {
		return eval[bool](cat, `document.getElementById("banner").textContent.includes("locked this lesson")`)
	})
}

// knock opens a lesson link, gives a name and waits until the page says
// the teacher will let them in.
func (tb *tab) knock(link, name string, before ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(link)}
	steps = append(steps, before...)
	steps = append(steps, chromedp.WaitVisible(chromedp.ID("join-name")), chromedp.SetValue(chromedp.ID("join-name"), name),
		chromedp.Click(chromedp.ID("join-button")), chromedp.WaitVisible(chromedp.ID("lobby-screen")))
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		tb.t.Fatalf("%s opens %s and waits to be let in: %v", tb.name, link, err)
	}
}
