package web_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"classroom/realtime/client"
)

// screenSizes are the screens the lesson page must fit: a laptop, a
// school's 1024×768 laptop, a tablet and a phone, each held both ways.
var screenSizes = []struct {
	name          string
	width, height int64
}{
	{"laptop", 1280, 720}, {"laptop-1280x800", 1280, 800},
	{"school-laptop", 1024, 768},
	{"tablet-portrait", 768, 1024}, {"tablet-landscape", 1024, 768},
	{"phone-portrait", 390, 844}, {"phone-landscape", 844, 390},
}

// layout is what TestLessonPageSizes measures of a page.
type layout struct {
	ScrollWidth, InnerWidth, InnerHeight float64
	CanvasWidth, CanvasHeight            float64
	ChatInput, People                    struct{ Top, Bottom, Left, Right float64 }
	ClippedNames                         int
	ToolbarLines                         int
}

const measure = `(async () => {
	const box = (e) => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
	const visible = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
	document.getElementById("tab-chat").click();
	await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
	const input = document.getElementById("chat-input");
	const chat = box(input);
	const clipped = [...document.querySelectorAll("#messages .who")].filter((n) => visible(n) && n.scrollWidth > n.clientWidth + 1).length;
	document.getElementById("tab-people").click();
	await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
	const people = box(document.querySelector("#people li"));
	document.getElementById("tab-chat").click();
	const canvas = document.querySelector("#board canvas");
	// A line more for every control that starts below the first one's bottom.
	const parts = [...document.querySelectorAll(".toolbar > *")].filter(visible).map((e) => e.getBoundingClientRect());
	const lines = 1 + parts.filter((r) => r.top >= parts[0].bottom).length;
	return {scrollWidth: document.documentElement.scrollWidth, innerWidth, innerHeight,
		canvasWidth: canvas.getBoundingClientRect().width, canvasHeight: canvas.getBoundingClientRect().height,
		chatInput: chat, people, clippedNames: clipped, toolbarLines: lines};
})()`

// unreachable lists the controls of the page's role (the header's, the
// More… menu's, the lobby's and each student's in the People tab, the
// hand, the Poll tab's: the teacher's form, the open poll and a student's
// answer; the Groups tab's form and plan) that are not on the screen and clickable, once their tab, menu or
// fold is opened and their list scrolled to them: every one must be
// reachable at every size.
const unreachable = `(async () => {
	const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
	const off = [];
	const check = (sels) => {
		for (const sel of sels) {
			const e = document.querySelector(sel);
			if (!e) { off.push(sel + " (missing)"); continue; }
			e.scrollIntoView({block: "nearest", inline: "nearest"});
			const r = e.getBoundingClientRect();
			const x = r.left + r.width / 2, y = r.top + r.height / 2;
			const hit = document.elementFromPoint(x, y);
			if (r.width === 0 || r.height === 0 || r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight || !hit || !(hit === e || e.contains(hit) || hit.contains(e) && hit.tagName === "LABEL")) off.push(sel);
		}
	};
	const teacher = document.body.dataset.role === "teacher";
	if (!teacher) {
		check(["#hand", "#cam", "#mic", "#leave"]);
		document.getElementById("tab-poll").click();
		await frame();
		check(["#poll input[data-choice]", "#poll-send"]);
		document.getElementById("tab-chat").click();
		await frame();
		return off;
	}
	check(["#invite", "#record", "#lifecycle", "#more summary", "#leave", "#cam", "#mic", "#screen"]);
	const more = document.getElementById("more");
	more.open = true;
	await frame();
	check(["#reinvite", "#streams", "#attendance", "#export"]);
	more.open = false;
	document.getElementById("tab-people").click();
	await frame();
	check(["#admit-all", ".lobby .switches summary", "#class-draw", "#people li.student .mute-mic", "#people li.student .mute-cam", "#people li.student .remove"]);
	const fold = document.querySelector(".lobby .switches");
	fold.open = true;
	await frame();
	check(["#lobby-on", "#lock", "#chat-on", "#mute-all"]);
	fold.open = false;
	document.getElementById("tab-poll").click();
	await frame();
	check(["#poll-new summary", "#poll-question", "#poll-choices", "#poll-multiple", "#poll-anonymous", "#poll-ask", "#poll-yesno", "#poll-thumbs", "#poll-save",
		"#poll-prepared button", "#poll .poll-counts li", "#poll-close"]);
	document.getElementById("tab-groups").click();
	await frame();
	check(["#groups-count", "#groups-how", "#groups-minutes", "#groups-slide", "#groups-blank", "#groups-plan li[data-participant] select", "#groups-shuffle", "#groups-open"]);
	document.getElementById("tab-chat").click();
	await frame();
	return off;
})()`

// TestLessonPageSizes: the lesson page, the teacher's and a student's, fits
// every size of screenSizes without scrolling sideways: the board takes
// most of the room, and the chat's input and the people are on the screen
// (the people one tab away), and so is every control (unreachable). The
// teacher's tools are one line from 1280 px.
// Screenshots of each go to CLASSROOM_SCREENSHOTS when it is set, else to
// the test's temporary directory.
func TestLessonPageSizes(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	shots := os.Getenv("CLASSROOM_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	b := browser(t)
	teacher := newTab(t, b, "teacher")
	teacher.join(site.teacherLink(lesson), "Ms Rivera")
	eval[float64](teacher, `window.classroom.send("lesson.started")`)
	student := newTab(t, b, "student")
	student.join(site.studentsLink(lesson), "Maximiliana Alexandrovna Featherstonehaugh")
	for i, line := range []string{"Good morning, class", "Is ¾ more than ⅔?", "Yes: 9/12 against 8/12", "Can you draw it?", "Here it is on the board"} {
		who := []*tab{teacher, student}[i%2]
		eval[float64](who, fmt.Sprintf(`window.classroom.send("chat.posted", {text: %q})`, line))
	}
	// A poll asked and answered, and one prepared: its controls too.
	eval[bool](teacher, `(localStorage.setItem("classroom:polls", JSON.stringify([{question: "Ready?"}])), true)`)
	eval[float64](teacher, `window.classroom.send("poll.asked", {poll: crypto.randomUUID(), question: "Which is more: ¾ or ⅔?", choices: ["¾", "⅔", "The same"], correct: [0]})`)
	waitUntil(t, 10*time.Second, "the poll on the student's page", func() bool { return eval[bool](student, `!!document.querySelector("#poll input[data-choice]")`) })
	for _, tb := range []*tab{teacher, student} {
		for _, size := range screenSizes {
			if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(size.width, size.height)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // the board settles to its new size
			l := eval[layout](tb, measure)
			where := fmt.Sprintf("%s at %s (%d×%d)", tb.name, size.name, size.width, size.height)
			if l.ScrollWidth > l.InnerWidth {
				t.Errorf("%s: the page scrolls sideways (%v px wide in %v)", where, l.ScrollWidth, l.InnerWidth)
			}
			for name, r := range map[string]struct{ Top, Bottom, Left, Right float64 }{"the chat's input": l.ChatInput, "the people": l.People} {
				if r.Top < 0 || r.Bottom > l.InnerHeight || r.Left < 0 || r.Right > l.InnerWidth || r.Bottom <= r.Top {
					t.Errorf("%s: %s is off the screen at %+v", where, name, r)
				}
			}
			// The board: the whole width in portrait, most of it otherwise.
			want := 0.6
			switch {
			case size.height > size.width:
				want = 0.9
			case size.height < 500: // a phone held sideways: the height is the limit
				want = 0.55
			}
			if l.CanvasWidth < want*l.InnerWidth {
				t.Errorf("%s: the board is %.0f×%.0f, less than %.0f%% of the width", where, l.CanvasWidth, l.CanvasHeight, 100*want)
			}
			if l.ClippedNames > 0 {
				t.Errorf("%s: %d chat authors' names are cut", where, l.ClippedNames)
			}
			if off := eval[[]string](tb, unreachable); len(off) > 0 {
				t.Errorf("%s: these controls cannot be reached: %v", where, off)
			}
			if tb == teacher && size.width >= 1280 && l.ToolbarLines > 1 {
				t.Errorf("%s: the teacher's tools take %d lines", where, l.ToolbarLines)
			}
			tb.screenshot(shots, fmt.Sprintf("size-%s-%s.png", tb.name, size.name))
			if tb == teacher { // and the People tab, with the lobby's switches unfolded
				eval[bool](tb, `(document.getElementById("tab-people").click(), document.querySelector(".lobby .switches").open = true, true)`)
				tb.screenshot(shots, fmt.Sprintf("size-%s-people-%s.png", tb.name, size.name))
				eval[bool](tb, `(document.querySelector(".lobby .switches").open = false, document.getElementById("tab-chat").click(), true)`)
			}
		}
	}
	t.Logf("screenshots in %s", shots)
}

// TestTabletDrawing: on a tablet, the teacher draws on the lesson page with
// a finger and with a stylus, and both strokes reach the lesson; two
// fingers are left to the page's own pinch-zoom.
func TestTabletDrawing(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	teacher := newTab(t, browser(t), "teacher")
	if err := chromedp.Do(teacher.ctx, chromedp.EmulateViewport(768, 1024, chromedp.EmulateTouch)); err != nil {
		t.Fatal(err)
	}
	teacher.join(site.teacherLink(lesson), "Ms Rivera")
	eval[float64](teacher, `window.classroom.send("lesson.started")`)
	if ta := eval[string](teacher, `getComputedStyle(document.querySelector("#board canvas")).touchAction`); ta != "pinch-zoom" {
		t.Errorf("the board's touch-action is %q, want pinch-zoom: one finger draws, two zoom the page", ta)
	}
	box := eval[struct{ X, Y, Width, Height float64 }](teacher,
		`(() => { const r = document.querySelector("#board canvas").getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })()`)
	at := func(f, g float64) (float64, float64) { return box.X + f*box.Width, box.Y + g*box.Height }
	strokes := func() int {
		return eval[int](teacher, `window.classroom.state.visible(window.classroom.state.slide).length`)
	}

	// A finger.
	touch := func(typ input.DispatchTouchEventType, f, g float64) {
		var points []*input.TouchPoint
		if typ != input.DispatchTouchEventTypeTouchEnd {
			x, y := at(f, g)
			points = []*input.TouchPoint{{X: x, Y: y, ID: new(float64)}}
		} else {
			points = []*input.TouchPoint{}
		}
		if _, err := chromedp.Call(teacher.ctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: points}); err != nil {
			t.Fatal(err)
		}
	}
	touch(input.DispatchTouchEventTypeTouchStart, 0.2, 0.3)
	for i := 1; i <= 20; i++ {
		time.Sleep(8 * time.Millisecond)
		touch(input.DispatchTouchEventTypeTouchMove, 0.2+0.02*float64(i), 0.3+0.01*float64(i))
	}
	touch(input.DispatchTouchEventTypeTouchEnd, 0, 0)
	waitUntil(t, 10*time.Second, "the finger's stroke in the lesson", func() bool { return strokes() == 1 })

	// A stylus, with pressure.
	pen := func(typ input.DispatchMouseEventType, f, g float64, buttons int64) {
		x, y := at(f, g)
		p := input.DispatchMouseEventParams{Type: typ, X: x, Y: y, Button: input.MouseButtonLeft, Buttons: buttons, PointerType: input.DispatchMouseEventPointerTypePen, Force: 0.6}
		if typ != chromedp.MouseMoved {
			p.ClickCount = 1
		}
		if _, err := chromedp.Call(teacher.ctx, input.DispatchMouseEvent, p); err != nil {
			t.Fatal(err)
		}
	}
	pen(chromedp.MouseMoved, 0.3, 0.6, 0)
	pen(chromedp.MousePressed, 0.3, 0.6, 1)
	for i := 1; i <= 20; i++ {
		time.Sleep(8 * time.Millisecond)
		pen(chromedp.MouseMoved, 0.3+0.02*float64(i), 0.6, 1)
	}
	pen(chromedp.MouseReleased, 0.7, 0.6, 0)
	waitUntil(t, 10*time.Second, "the stylus's stroke in the lesson", func() bool { return strokes() == 2 })
}

// TestSameNames: a class link opened in several tabs under one name lists
// each, numbered in the order they joined, so the teacher can tell them apart.
func TestSameNames(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	teacher := newTab(t, browser(t), "teacher")
	teacher.join(site.teacherLink(lesson), "Ms Rivera")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range 3 {
		c, err := client.Dial(ctx, client.Options{URL: site.ws(lesson.ID), Token: lesson.Students.Token, Name: "Ana", Loopback: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	waitUntil(t, 10*time.Second, "three Anas told apart", func() bool {
		names := eval[[]string](teacher, `[...document.querySelectorAll("#people li .name")].map((n) => n.textContent)`)
		slices.Sort(names)
		return slices.Equal(names, []string{"Ana (1)", "Ana (2)", "Ana (3)", "Ms Rivera (you)"})
	})
}
