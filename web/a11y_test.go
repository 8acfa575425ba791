package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"classroom/web/internal/pagetest"
)

// axeCheck runs axe-core's WCAG 2.1 A and AA rules on the tab's page and
// fails the test for every serious or critical violation, naming the rule
// and the elements.
func axeCheck(t *testing.T, tb *tab, what string) {
	t.Helper()
	pagetest.Axe(t, tb.ctx, what)
}

// TestAccessibility: axe-core finds no serious or critical WCAG 2.1 AA
// violation on the home page, the lesson page of the teacher and of a
// student (in a lesson with a hand up, the floor given and chat), and the
// replay page.
func TestAccessibility(t *testing.T) {
	site := startSite(t)
	b := browser(t)
	home := newTab(t, b, "home")
	home.createOnHome(site, "Fractions, week 3")
	axeCheck(t, home, "the home page")
	teacherLink := eval[string](home, `document.getElementById("teacher-link").value`)
	studentsLink := eval[string](home, `document.getElementById("students-link").value`)

	teacher := newTab(t, b, "teacher")
	if err := chromedp.Do(teacher.ctx, chromedp.Navigate(teacherLink), chromedp.WaitVisible(chromedp.ID("join-name"))); err != nil {
		t.Fatal(err)
	}
	axeCheck(t, teacher, "the lesson page's join dialog")
	teacher.join(teacherLink, "Ms Rivera")
	eval[float64](teacher, `window.classroom.send("lesson.started")`)
	ana := newTab(t, b, "Ana")
	ana.join(studentsLink, "Ana")
	ben := newTab(t, b, "Ben")
	ben.join(studentsLink, "Ben")
	eval[float64](ana, `window.classroom.send("chat.posted", {text: "Is ¾ more than ⅔?"})`)
	eval[float64](ben, `window.classroom.send("hand.raised")`)
	eval[float64](ana, `window.classroom.send("hand.raised")`)
	eval[float64](teacher, `window.classroom.send("floor.granted", {participant: window.classroom.state.hands[0]})`)
	// Text on the board is there for a screen reader, beside the canvas.
	eval[float64](teacher, `window.classroom.send("text.added", {object: crypto.randomUUID(), slide: window.classroom.state.slide,
		at: [100, 100], text: "Half of 12 is 6", color: "#111827", size: 48})`)
	waitUntil(t, 10*time.Second, "the board's text in Ana's #board-text", func() bool {
		return eval[bool](ana, `document.getElementById("board-text").textContent.includes("Half of 12 is 6")`)
	})
	time.Sleep(500 * time.Millisecond)
	axeCheck(t, teacher, "the teacher's lesson page")
	axeCheck(t, ana, "a student's lesson page")
	eval[bool](teacher, `(document.getElementById("tab-people").click(), true)`)
	axeCheck(t, teacher, "the teacher's lesson page, people")
	// A poll: the teacher's Poll tab with its form and counts, a student's with her choices.
	eval[float64](teacher, `window.classroom.send("poll.asked", {poll: crypto.randomUUID(), question: "Which is more?", choices: ["¾", "⅔"], correct: [0]})`)
	waitUntil(t, 10*time.Second, "the poll on Ana's Poll tab", func() bool {
		return eval[bool](ana, `!!document.querySelector("#poll input[data-choice]") && !document.getElementById("poll-panel").hidden`)
	})
	eval[bool](teacher, `(document.getElementById("tab-poll").click(), true)`)
	axeCheck(t, teacher, "the teacher's lesson page, poll")
	axeCheck(t, ana, "a student's lesson page, poll")
	// Breakout groups: the teacher's Groups tab with the plan, then open
	// groups with a message, on the teacher's page and a student's.
	eval[bool](teacher, `(document.getElementById("tab-groups").click(), true)`)
	waitUntil(t, 10*time.Second, "the teacher's plan", func() bool {
		return eval[int](teacher, `document.querySelectorAll("#groups-plan .group-plan[data-group]:not([data-group=\"\"]) li[data-participant]").length`) == 2
	})
	axeCheck(t, teacher, "the teacher's lesson page, groups to open")
	// The students choose: Ana's page opens her Groups tab, she joins the first group.
	teacher.setField("groups-how", "choose")
	teacher.click("#groups-open")
	waitUntil(t, 10*time.Second, "the groups to choose from on Ana's Groups tab", func() bool {
		return eval[bool](ana, `!document.getElementById("groups-panel").hidden && !!document.querySelector("#groups-list [data-join]")`)
	})
	axeCheck(t, ana, "a student's lesson page, groups to choose from")
	ana.click("#groups-list [data-join]")
	waitUntil(t, 10*time.Second, "Ana in a group", func() bool {
		return eval[bool](ana, `!document.getElementById("group-bar").hidden && document.body.classList.contains("in-group")`)
	})
	eval[float64](teacher, `window.classroom.send("groups.messaged", {text: "Compare with your neighbour"})`)
	waitUntil(t, 10*time.Second, "the message on Ana's page", func() bool {
		return eval[bool](ana, `!document.getElementById("group-message").hidden`)
	})
	eval[bool](ana, `(document.getElementById("tab-groups").click(), true)`)
	axeCheck(t, teacher, "the teacher's lesson page, open groups")
	axeCheck(t, ana, "a student's lesson page in a group")

	eval[float64](teacher, `window.classroom.send("lesson.ended")`)
	waitUntil(t, 10*time.Second, "the replay link", func() bool { return eval[bool](ana, `!document.getElementById("replay").hidden`) })
	replay := eval[string](ana, `document.getElementById("replay").href`)
	if err := chromedp.Do(ana.ctx, chromedp.Navigate(replay)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "the replay to load", func() bool {
		ok, err := try[bool](ana, `!!(window.replay && window.replay.ready)`)
		return err == nil && ok
	})
	axeCheck(t, ana, "the replay page")
	axeCheck(t, teacher, "the teacher's lesson page, ended")
}

// tabTo presses Tab until the element sel finds has the focus, failing
// after 100 presses (out of reach, or a keyboard trap), and checks that the
// focus is visible on it.
func (tb *tab) tabTo(sel string) {
	tb.t.Helper()
	for range 100 {
		if eval[bool](tb, fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, sel)) {
			style := eval[struct{ OutlineStyle, OutlineWidth string }](tb, `(() => { const s = getComputedStyle(document.activeElement); return {outlineStyle: s.outlineStyle, outlineWidth: s.outlineWidth}; })()`)
			if style.OutlineStyle == "none" || style.OutlineWidth == "0px" {
				tb.t.Errorf("%s: the focus on %s is not visible (outline %s %s)", tb.name, sel, style.OutlineStyle, style.OutlineWidth)
			}
			return
		}
		if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			tb.t.Fatalf("%s: press Tab: %v", tb.name, err)
		}
	}
	tb.t.Fatalf("%s: 100 presses of Tab never reached %s (last on %s)", tb.name, sel,
		eval[string](tb, `document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : "nothing"`))
}

// keys types keys into the focused element.
func (tb *tab) keys(keys string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(keys)); err != nil {
		tb.t.Fatalf("%s: type %q: %v", tb.name, keys, err)
	}
}

// TestKeyboardOnlyLesson: a lesson with the keyboard alone. A student joins,
// raises a hand and posts a chat line; the teacher gives the floor and turns
// the page; after the end, the student plays the replay and seeks it. Every
// control is reached with Tab and shows its focus.
func TestKeyboardOnlyLesson(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	b := browser(t)
	teacher := newTab(t, b, "teacher")
	teacher.join(site.teacherLink(lesson), "Ms Rivera")
	teacher.tabTo("#lifecycle")
	teacher.keys(kb.Enter)
	waitUntil(t, 10*time.Second, "the lesson to start", func() bool { return eval[string](teacher, `window.classroom.state.status`) == "live" })

	ana := newTab(t, b, "Ana")
	if err := chromedp.Do(ana.ctx, chromedp.Navigate(site.studentsLink(lesson)),
		chromedp.WaitVisible(chromedp.ID("join-name"))); err != nil {
		t.Fatal(err)
	}
	ana.tabTo("#join-name")
	ana.keys("Ana" + kb.Enter)
	ana.waitLive()
	ana.tabTo("#hand")
	ana.keys(kb.Enter)
	waitUntil(t, 10*time.Second, "Ana's hand to be up", func() bool {
		return eval[bool](teacher, `(window.classroom.state.hands || []).length === 1`)
	})
	ana.tabTo("#chat-input")
	ana.keys("Is ¾ more than ⅔?" + kb.Enter)
	waitUntil(t, 10*time.Second, "the teacher to read Ana's line", func() bool {
		return eval[bool](teacher, `document.getElementById("messages").textContent.includes("Is ¾ more than ⅔?")`)
	})

	teacher.tabTo("#queue li .grant")
	teacher.keys(kb.Enter)
	waitUntil(t, 10*time.Second, "Ana to have the floor", func() bool {
		return eval[bool](teacher, `window.classroom.state.floor === `+fmt.Sprintf("%q", eval[string](ana, `window.classroom.me`)))
	})
	teacher.tabTo(`#tools [data-tool="rectangle"]`)
	teacher.keys(kb.Enter)
	if tool := eval[string](teacher, `window.classroom.board.tool`); tool != "rectangle" {
		t.Errorf("the teacher's tool is %q after Enter on the rectangle, want rectangle", tool)
	}
	teacher.tabTo("#next")
	teacher.keys(kb.Enter)
	waitUntil(t, 10*time.Second, "the class to be on page 2", func() bool {
		return eval[int](ana, `window.classroom.state.slide.page`) == 1
	})
	// The tabs of chat and people go by the arrow keys.
	teacher.tabTo("#tab-chat")
	teacher.keys(kb.ArrowRight)
	if !eval[bool](teacher, `document.activeElement.id === "tab-people" && !document.getElementById("people-panel").hidden`) {
		t.Error("ArrowRight on the chat tab does not show the people")
	}
	eval[float64](teacher, `window.classroom.send("lesson.ended")`)

	waitUntil(t, 10*time.Second, "Ana's replay link", func() bool { return eval[bool](ana, `!document.getElementById("replay").hidden`) })
	ana.tabTo("#replay")
	ana.keys(kb.Enter)
	waitUntil(t, 20*time.Second, "the replay to load", func() bool {
		ok, err := try[bool](ana, `!!(window.replay && window.replay.ready && location.pathname.endsWith("/replay"))`)
		return err == nil && ok
	})
	ana.tabTo("#scrubber")
	ana.keys(kb.End)
	waitUntil(t, 10*time.Second, "the replay to seek to the end", func() bool {
		return eval[bool](ana, `Number(document.getElementById("scrubber").value) > 0 && document.getElementById("slide-label").textContent.includes("page 2")`)
	})
	ana.tabTo("#play")
}
