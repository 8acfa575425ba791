package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAttendanceAndDeleteInBrowser: the teacher makes a lesson on the home
// page with its lobby on and records it; a student is told of the recording
// before joining, is admitted and chats; the teacher's
// attendance page lists both, sorts by a column and draws each one's
// presence; the home page counts the student; once the lesson has ended,
// the home page's Delete (confirmed) removes it.
func TestAttendanceAndDeleteInBrowser(t *testing.T) {
	site := startSite(t)
	b := browser(t)
	teacher := newTab(t, b, "teacher")
	if err := chromedp.Do(teacher.ctx,
		chromedp.Navigate(site.srv.URL+"/"),
		chromedp.SetValue(chromedp.ID("lesson-title"), "Attendance, week 1"),
		chromedp.Click(chromedp.ID("lesson-lobby")),
		chromedp.Click(chromedp.CSS(`#create button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("created")),
	); err != nil {
		t.Fatalf("create a lesson on the home page: %v", err)
	}
	teacherLink := eval[string](teacher, `document.getElementById("teacher-link").value`)
	studentsLink := eval[string](teacher, `document.getElementById("students-link").value`)
	teacher.join(teacherLink, "Ms Rivera")
	if !eval[bool](teacher, `window.classroom.state.lobby`) {
		t.Fatal("the lesson made with its lobby on has none")
	}
	teacher.click("#lifecycle")
	teacher.click("#record")
	waitUntil(t, 10*time.Second, "the recording to start", func() bool { return eval[bool](teacher, `window.classroom.state.recording`) })

	// A student joining during the recording is told before the camera
	// and microphone are asked for.
	ana := newTab(t, b, "Ana")
	ana.knock(studentsLink, "Ana", chromedp.WaitVisible(chromedp.ID("join-recording")))
	waitUntil(t, 10*time.Second, "Ana to wait", func() bool {
		return eval[bool](teacher, `!document.getElementById("admit-all").disabled`)
	})
	teacher.click("#tab-people")
	teacher.click("#admit-all")
	ana.waitLive()
	if _, err := try[float64](ana, `window.classroom.send("chat.posted", {text: "present!"})`); err != nil {
		t.Fatal(err)
	}

	attendance := eval[string](teacher, `document.getElementById("attendance").href`)
	report := newTab(t, b, "attendance")
	if err := chromedp.Do(report.ctx, chromedp.Navigate(attendance)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the attendance table", func() bool {
		ok, err := try[bool](report, `!!(window.attendance && window.attendance.ready)`)
		return err == nil && ok
	})
	rows := eval[[]string](report, `[...document.querySelectorAll("#rows tr")].map((r) => r.children[0].textContent + "|" + r.children[1].textContent + "|" + r.children[11].textContent)`)
	if strings.Join(rows, ",") != "Ms Rivera|teacher|0,Ana|student|1" {
		t.Fatalf("attendance rows %q", rows)
	}
	if n := eval[int](report, `document.querySelectorAll("#rows .presence span").length`); n != 2 {
		t.Fatalf("%d presence bars", n)
	}
	// Durations are h:mm:ss even under an hour, so that a column lines up.
	present := eval[[]string](report, `[...document.querySelectorAll("#rows tr")].map((r) => r.children[4].textContent)`)
	for _, d := range present {
		if !regexp.MustCompile(`^0:00:\d\d$`).MatchString(d) {
			t.Fatalf("time present %q, want h:mm:ss (0:00:ss in this short lesson)", d)
		}
	}
	report.click(`th[data-key="name"] button`)
	if first := eval[string](report, `document.querySelector("#rows tr").children[0].textContent`); first != "Ana" {
		t.Fatalf("sorted by name, the first row is %q", first)
	}
	if sort := eval[string](report, `document.querySelector('th[data-key="name"]').getAttribute("aria-sort")`); sort != "ascending" {
		t.Fatalf("aria-sort %q", sort)
	}
	axeCheck(t, report, "the attendance page")

	// The home page's list is the device's: the teacher's tab.
	home := teacher
	if err := chromedp.Do(home.ctx, chromedp.Navigate(site.srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the home page's count", func() bool {
		return eval[string](home, `(document.querySelector("#mine .attended") || {}).textContent || ""`) == "1 student attended"
	})
	if eval[bool](home, `!!document.querySelector("#mine button.delete")`) {
		t.Fatal("a live lesson can be deleted from the home page")
	}

	// Ended, it can be deleted, after a confirmation.
	id := strings.TrimPrefix(strings.Split(teacherLink, "#")[0], site.srv.URL+"/lessons/")
	teacher2 := newTab(t, b, "teacher again")
	teacher2.join(teacherLink, "Ms Rivera")
	if _, err := try[float64](teacher2, `window.classroom.send("lesson.ended")`); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(home.ctx, chromedp.Navigate(site.srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the Delete button", func() bool {
		return eval[bool](home, `!!document.querySelector("#mine button.delete")`)
	})
	eval[bool](home, `(window.confirm = () => true, true)`)
	home.click("#mine button.delete")
	waitUntil(t, 10*time.Second, "the lesson to be gone", func() bool {
		resp, err := http.Get(site.srv.URL + "/api/lessons/" + id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusNotFound
	})
}
