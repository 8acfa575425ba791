package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"classroom/domain"
)

// events reads a lesson's log from the site's store.
func (s *liveSite) events(t *testing.T, lesson string) []domain.Event {
	t.Helper()
	var log []domain.Event
	for e, err := range s.store.Events(context.Background(), mustUUID(t, lesson), 0) {
		if err != nil {
			t.Fatal(err)
		}
		log = append(log, e)
	}
	return log
}

// TestPollsInBrowser asks a poll from the teacher's page, has three students
// answer it from theirs (one changes her answer), closes it and shows the
// results: the counts on every page are the server's fold's. Then an
// anonymous poll: no student's events channel carries another student's
// answer, and a student who joins later is sent none in her snapshot.
func TestPollsInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	b := browser(t)
	teacher := newTab(t, b, "teacher")
	teacher.join(site.teacherLink(lesson), "Ms Rivera")
	teacher.click("#lifecycle")
	link := site.studentsLink(lesson)
	var students []*tab
	for _, name := range []string{"Ana", "Ben", "Cy"} {
		s := newTab(t, b, name)
		s.join(link, name)
		students = append(students, s)
	}
	everyone := append([]*tab{teacher}, students...)
	for _, tb := range everyone { // what each events channel carries from now on, compressed or not
		eval[bool](tb, `(window.carried = [], window.classroom.app.conn.events.addEventListener("message", (m) => {
			if (typeof m.data === "string") return window.carried.push(m.data);
			new Response(new Blob([m.data]).stream().pipeThrough(new DecompressionStream("deflate-raw"))).text()
				.then((text) => (JSON.parse(text), window.carried.push(text)))
				.catch(() => {}); // not a compressed message: a snapshot's part
		}), true)`)
	}

	fold := func() *domain.State {
		st := domain.NewState()
		for _, e := range site.events(t, lesson.ID) {
			st.Apply(e)
		}
		return st
	}
	last := func() *domain.Poll { st := fold(); return st.Polls[len(st.Polls)-1] }
	shown := func(tb *tab) []int {
		return eval[[]int](tb, `[...document.querySelectorAll("#poll .poll-counts .n")].map((n) => Number(n.textContent))`)
	}
	answer := func(tb *tab, choice int) {
		sel := fmt.Sprintf(`#poll input[data-choice="%d"]`, choice)
		waitUntil(t, 10*time.Second, tb.name+"'s poll panel", func() bool { return eval[bool](tb, `!!document.querySelector('`+sel+`')`) })
		tb.click(sel)
		tb.click("#poll-send")
	}
	ask := func(question, choices string, anonymous bool) {
		teacher.click("#tab-poll")
		if err := chromedp.Do(teacher.ctx, chromedp.SetValue(chromedp.ID("poll-question"), question),
			chromedp.SetValue(chromedp.ID("poll-choices"), choices)); err != nil {
			t.Fatal(err)
		}
		if anonymous {
			teacher.click("#poll-anonymous")
		}
		teacher.click("#poll-ask")
	}
	closeAndShow := func(n int) {
		waitUntil(t, 10*time.Second, "the answers to reach the fold and the teacher", func() bool {
			q := last()
			return len(q.Answers) == n && slices.Equal(shown(teacher), q.Counts())
		})
		teacher.click("#poll-close")
		waitUntil(t, 10*time.Second, "the Show results button", func() bool { return eval[bool](teacher, `!!document.getElementById("poll-show")`) })
		teacher.click("#poll-show")
		waitUntil(t, 10*time.Second, "the results on every page", func() bool {
			q := last()
			if !q.Shown {
				return false
			}
			for _, tb := range everyone {
				if !slices.Equal(shown(tb), q.Results) {
					return false
				}
			}
			return true
		})
	}

	// A quiz: Ana first picks 3, then changes to 4.
	ask("2 + 2 = ?", "3\n*4\n5", false)
	answer(students[0], 0)
	answer(students[1], 1)
	answer(students[2], 1)
	waitUntil(t, 10*time.Second, "Ana's first answer in the fold", func() bool {
		a, ok := last().Answer(eval[string](students[0], `window.classroom.me`))
		return ok && slices.Equal(a.Choices, []int{0})
	})
	answer(students[0], 1)
	waitUntil(t, 10*time.Second, "Ana's change in the fold", func() bool { return slices.Equal(last().Counts(), []int{0, 3, 0}) })
	closeAndShow(3)
	if q := last(); !q.Quiz() || !slices.Equal(q.Results, []int{0, 3, 0}) {
		t.Fatalf("the quiz's results are %v", q.Results)
	}
	for _, tb := range everyone { // a poll that is not anonymous reaches every page whole
		if h := fold().Hash(); tb.hash() != h {
			t.Fatalf("%s's lesson is not the server's", tb.name)
		}
	}

	// An anonymous poll.
	ask("Lost?", "Yes\nNo\nNot sure", true)
	for i, s := range students {
		answer(s, i)
	}
	closeAndShow(3)
	for _, tb := range everyone {
		me := eval[string](tb, `window.classroom.me`)
		var answers []string
		for _, raw := range eval[[]string](tb, `window.carried`) {
			var m struct {
				Type   string            `json:"type"`
				Events []json.RawMessage `json:"events"`
			}
			if err := json.Unmarshal([]byte(raw), &m); err != nil {
				t.Fatal(err)
			}
			for _, b := range m.Events {
				e, err := domain.DecodeEvent(b)
				if err != nil {
					t.Fatal(err)
				}
				if p, ok := e.Payload.(*domain.PollAnswered); ok && p.Anonymous {
					answers = append(answers, e.Actor)
				}
			}
		}
		want := []string{me}
		if tb == teacher {
			want = nil
			for _, a := range last().Answers {
				want = append(want, a.Participant)
			}
		}
		if !slices.Equal(answers, want) {
			t.Fatalf("%s's events channel carried anonymous answers by %q, want %q", tb.name, answers, want)
		}
	}
	late := newTab(t, b, "Dee")
	late.join(link, "Dee")
	waitUntil(t, 10*time.Second, "Dee to see the results", func() bool { return slices.Equal(shown(late), last().Results) })
	if n := eval[int](late, `window.classroom.state.polls[1].answers.length`); n != 0 {
		t.Fatalf("Dee's snapshot holds %d answers of the anonymous poll", n)
	}

	// The replay shows the answers as they came in: just after Ana's first
	// answer (halfway to the next) the quiz had one answer, on 3.
	var created, first, next time.Time
	ana := eval[string](students[0], `window.classroom.me`)
	for _, e := range site.events(t, lesson.ID) {
		if _, ok := e.Payload.(*domain.LessonCreated); ok {
			created = e.Time
		}
		if _, ok := e.Payload.(*domain.PollAnswered); ok && next.IsZero() {
			if !first.IsZero() {
				next = e.Time
			} else if e.Actor == ana {
				first = e.Time
			}
		}
	}
	eval[bool](teacher, `(window.confirm = () => true, true)`)
	teacher.click("#lifecycle") // ends the lesson
	waitUntil(t, 10*time.Second, "the lesson to end", func() bool { return fold().Status == domain.StatusEnded })
	replay := func(tb *tab, tok string) {
		if err := chromedp.Do(tb.ctx, chromedp.Navigate(site.srv.URL+"/lessons/"+lesson.ID+"/replay#token="+tok)); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 30*time.Second, tb.name+"'s replay to load", func() bool {
			ok, err := try[bool](tb, `!!(window.replay && window.replay.ready)`)
			return err == nil && ok
		})
	}
	replay(teacher, lesson.Teacher.Token)
	at := (first.Sub(created) + next.Sub(first)/2).Seconds()
	eval[bool](teacher, fmt.Sprintf(`window.replay.seek(%f).then(() => true)`, at))
	if got := shown(teacher); !slices.Equal(got, []int{1, 0, 0}) {
		t.Fatalf("the replay just after Ana's first answer shows %v", got)
	}
	eval[bool](teacher, `window.replay.seek(window.replay.duration).then(() => true)`)
	if got := shown(teacher); !slices.Equal(got, last().Results) {
		t.Fatalf("the replay's end shows %v, the results were %v", got, last().Results)
	}
	// A student's replay (after the lesson, with the class link) is given no
	// one's answer to the anonymous poll, but the results shown.
	replay(students[1], lesson.Students.Token)
	eval[bool](students[1], `window.replay.seek(window.replay.duration).then(() => true)`)
	if n := eval[int](students[1], `window.replay.state.polls[1].answers.length`); n != 0 {
		t.Fatalf("a student's replay holds %d answers of the anonymous poll", n)
	}
	if got := shown(students[1]); !slices.Equal(got, last().Results) {
		t.Fatalf("a student's replay shows %v, the results were %v", got, last().Results)
	}
}
