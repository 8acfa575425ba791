package web_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"classroom/domain"
)

// setField sets a form field of a tab's page as a person does, telling the
// page it changed.
func (tb *tab) setField(id, value string) {
	tb.t.Helper()
	eval[bool](tb, fmt.Sprintf(`(() => { const f = document.getElementById(%q); f.value = %q;
		f.dispatchEvent(new Event("input", {bubbles: true})); f.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`, id, value))
}

// boardShows reports the slide key of the board a tab shows and the owners
// of the objects it draws, visible or not.
func (tb *tab) boardShows(board string) (string, []string) {
	tb.t.Helper()
	v := eval[struct {
		Key    string
		Owners []string
	}](tb, `(() => { const b = window.`+board+`.board; return b && b.slide ? {key: b.slide.deck + "/" + b.slide.page,
		owners: b.items.filter((i) => !i.obj.hidden).map((i) => i.obj.owner)} : {key: "", owners: []}; })()`)
	return v.Key, v.Owners
}

// joinAll opens the lesson link in every tab at once, each giving its
// tab's name, and waits until every page is live.
func joinAll(t *testing.T, tabs []*tab, link string) {
	t.Helper()
	errs := make(chan error, len(tabs))
	for _, tb := range tabs {
		go func() {
			err := chromedp.Do(tb.ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("join-name")),
				chromedp.SetValue(chromedp.ID("join-name"), tb.name), chromedp.Click(chromedp.ID("join-button")))
			if err != nil {
				err = fmt.Errorf("%s: join: %w", tb.name, err)
			}
			errs <- err
		}()
	}
	for range tabs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, tb := range tabs {
		tb.waitLive()
	}
}

// TestGroupsInBrowser splits six students into three groups from the
// teacher's Groups tab. Each student's page shows their group's board, on
// which they draw: a stroke reaches the pages of its group only, and
// neither the main board nor the other groups' boards. Each page decodes
// its group-mate's video and nobody else's; a line said in a group's chat
// reaches its members and the teacher only. The teacher visits
// a group and comes back, moves a student from the keyboard, broadcasts a
// message that every student's page shows, and calls everyone back with a
// countdown: every page is back on the main board, intact, and its fold is
// the server's. Then the teacher shows a group's board to the class, and a
// replay seeks into a group's board and shows its chat.
func TestGroupsInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	b := browser(t)
	began := time.Now()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(began).Seconds(), what) }
	teacher := newTab(t, b, "teacher")
	teacher.join(site.teacherLink(lesson), "Ms Rivera")
	teacher.click("#lifecycle")
	fold := func() *domain.State {
		st := domain.NewState()
		for _, e := range site.events(t, lesson.ID) {
			st.Apply(e)
		}
		return st
	}
	main := domain.Slide{}
	teacher.stroke(0.1, 0.1, 0.3, 0.1, 10)
	waitUntil(t, 10*time.Second, "the teacher's stroke on the main board", func() bool {
		bd := fold().Board(main)
		return bd != nil && len(bd.Visible()) == 1
	})

	link := site.studentsLink(lesson)
	var tabs []*tab
	for i := range 6 {
		tabs = append(tabs, newTab(t, b, fmt.Sprintf("S%d", i+1)))
	}
	joinAll(t, tabs, link)
	students := map[string]*tab{} // by participant id
	var order []string
	for _, s := range tabs {
		id := eval[string](s, `window.classroom.me`)
		students[id] = s
		order = append(order, id)
	}

	step("students joined")
	// Three groups at random, over a blank page, with a five minutes' timer.
	teacher.click("#tab-groups")
	teacher.setField("groups-count", "3")
	teacher.setField("groups-minutes", "5")
	teacher.click("#groups-blank")
	if n := eval[int](teacher, `document.querySelectorAll("#groups-plan .group-plan:not([data-group=\"\"]) li[data-participant]").length`); n != 6 {
		t.Fatalf("the teacher's plan places %d students, want 6", n)
	}
	teacher.click("#groups-open")
	var groups []*domain.Group
	waitUntil(t, 10*time.Second, "three open groups of two", func() bool {
		br := fold().Breakout
		if br == nil || !br.Open || len(br.Groups) != 3 {
			return false
		}
		for _, g := range br.Groups {
			if len(g.Members) != 2 {
				return false
			}
		}
		groups = br.Groups
		return true
	})
	groupOf := map[string]*domain.Group{}
	for _, g := range groups {
		for _, m := range g.Members {
			groupOf[m] = g
		}
	}
	key := func(g *domain.Group) string { return domain.GroupBoard(g.ID).Key() }
	for id, s := range students {
		g := groupOf[id]
		waitUntil(t, 10*time.Second, s.name+"'s page on "+g.Name+"'s board", func() bool {
			k, owners := s.boardShows("classroom")
			return k == key(g) && len(owners) == 0 &&
				strings.Contains(eval[string](s, `document.getElementById("group-where").textContent`), g.Name) &&
				eval[bool](s, `!document.getElementById("group-time").hidden && document.getElementById("board").closest("body").classList.contains("can-draw")`)
		})
	}

	step("groups open")
	// The first member of each group draws on the group's board.
	for i, g := range groups {
		students[g.Members[0]].stroke(0.2, 0.3+0.15*float64(i), 0.6, 0.3+0.15*float64(i), 10)
	}
	waitUntil(t, 15*time.Second, "one stroke on each group's board, and none more on the main board", func() bool {
		st := fold()
		for _, g := range groups {
			bd := st.Board(domain.GroupBoard(g.ID))
			if bd == nil || len(bd.Visible()) != 1 || bd.Visible()[0].Owner != g.Members[0] {
				return false
			}
		}
		return len(st.Board(main).Visible()) == 1
	})
	for id, s := range students {
		g := groupOf[id]
		waitUntil(t, 10*time.Second, s.name+"'s page to draw "+g.Name+"'s stroke only", func() bool {
			k, owners := s.boardShows("classroom")
			return k == key(g) && slices.Equal(owners, []string{g.Members[0]})
		})
	}

	step("strokes")
	// In a group every member shows camera and microphone to the others:
	// each page decodes its group-mate's video, and nobody else's.
	for id, s := range students {
		g := groupOf[id]
		mate := g.Members[0]
		if mate == id {
			mate = g.Members[1]
		}
		s.decodes(mate)
		if n := eval[int](s, `document.querySelectorAll("#group-tiles .tile").length`); n != 1 {
			t.Fatalf("%s's page shows %d group tiles, want 1", s.name, n)
		}
	}
	for id, s := range students {
		stats := eval[map[string]struct{ FramesDecoded float64 }](s, `window.classroom.videoStats()`)
		for who, st := range stats {
			if groupOf[who] != groupOf[id] && st.FramesDecoded > 0 {
				t.Errorf("%s (%s) decoded %v frames of %s (%s)", s.name, groupOf[id].Name, st.FramesDecoded, students[who].name, groupOf[who].Name)
			}
		}
	}

	step("media")
	// The group's chat: read by its members and the teacher only.
	first := groups[0]
	author := students[first.Members[0]]
	author.click("#tab-chat")
	author.setField("chat-input", "Is it a half?")
	author.click(`#chat-form button[type="submit"]`)
	waitUntil(t, 10*time.Second, "the line in "+first.Name+"'s chat", func() bool {
		c := fold().Group(first.ID).Chat
		return len(c) == 1 && c[0].Text == "Is it a half?"
	})
	waitUntil(t, 10*time.Second, "the line on the group-mate's page and in the teacher's Groups tab", func() bool {
		return eval[bool](students[first.Members[1]], `document.getElementById("messages").textContent.includes("Is it a half?")`) &&
			eval[bool](teacher, `document.getElementById("groups-list").textContent.includes("Is it a half?")`)
	})
	for id, s := range students {
		if groupOf[id] != first && eval[bool](s, `document.getElementById("messages").textContent.includes("Is it a half?") || JSON.stringify(window.classroom.state).includes("Is it a half?")`) {
			t.Errorf("%s, in %s, has %s's chat", s.name, groupOf[id].Name, first.Name)
		}
	}

	step("chat")
	// The teacher visits the first group, sees its board, and comes back.
	teacher.click(fmt.Sprintf(`[data-visit="%s"]`, first.ID))
	waitUntil(t, 10*time.Second, "the teacher visiting "+first.Name, func() bool {
		k, owners := teacher.boardShows("classroom")
		g := fold().Group(first.ID)
		return len(g.Visitors) == 1 && k == key(first) && slices.Equal(owners, []string{first.Members[0]})
	})
	teacher.click("#group-leave")
	waitUntil(t, 10*time.Second, "the teacher back in the main room", func() bool {
		k, owners := teacher.boardShows("classroom")
		return len(fold().Group(first.ID).Visitors) == 0 && k == main.Key() && len(owners) == 1
	})

	// The teacher moves a student of the first group to the second, from
	// the keyboard's way: the list beside the name.
	moved, second := first.Members[1], groups[1]
	eval[bool](teacher, fmt.Sprintf(`(() => { const s = document.querySelector('#groups-list li[data-participant="%s"] select');
		s.value = %q; s.dispatchEvent(new Event("change")); return true; })()`, moved, second.ID))
	waitUntil(t, 10*time.Second, "the student moved", func() bool {
		return slices.Contains(fold().Group(second.ID).Members, moved)
	})
	waitUntil(t, 10*time.Second, "the moved student's page on "+second.Name+"'s board", func() bool {
		k, owners := students[moved].boardShows("classroom")
		return k == key(second) && slices.Equal(owners, []string{second.Members[0]})
	})

	step("visit and move")
	// A message to every group.
	teacher.setField("groups-message", "Five minutes left")
	teacher.click(`#groups-message-form button[type="submit"]`)
	for _, s := range students {
		waitUntil(t, 10*time.Second, s.name+"'s page to show the message", func() bool {
			return eval[bool](s, `(() => { const m = document.getElementById("group-message"); return !m.hidden && m.textContent.includes("Five minutes left"); })()`)
		})
	}

	step("message")
	// Call back with a two seconds' countdown: the teacher's page ends the groups.
	teacher.setField("groups-recall-seconds", "2")
	teacher.click("#groups-recall")
	for _, s := range students {
		waitUntil(t, 10*time.Second, s.name+"'s countdown", func() bool {
			return eval[bool](s, `document.getElementById("group-time").dataset.kind === "recall" || !window.classroom.state.breakout.open`)
		})
	}
	waitUntil(t, 15*time.Second, "the groups ended", func() bool { return !fold().Breakout.Open })
	log := site.events(t, lesson.ID)
	teacherID := eval[string](teacher, `window.classroom.me`)
	for _, id := range append([]string{teacherID}, order...) {
		tb, role := students[id], domain.RoleStudent
		if id == teacherID {
			tb, role = teacher, domain.RoleTeacher
		}
		st := domain.NewState() // what the page was sent
		for _, e := range log {
			if !domain.HiddenFrom(e, id, role) {
				st.Apply(e)
			}
		}
		waitUntil(t, 10*time.Second, tb.name+"'s page back on the intact main board", func() bool {
			k, owners := tb.boardShows("classroom")
			return k == main.Key() && slices.Equal(owners, []string{teacherID}) && tb.hash() == st.Hash()
		})
	}

	step("called back")
	// Back in the main room, the teacher shows the second group's board to the class.
	teacher.click(fmt.Sprintf(`[data-show="%s"]`, second.ID))
	for _, s := range students {
		waitUntil(t, 10*time.Second, s.name+"'s page on "+second.Name+"'s board", func() bool {
			k, owners := s.boardShows("classroom")
			return k == key(second) && len(owners) == 1
		})
	}

	step("group board shown")
	// A replay seeks into the first group's board at the moment of its stroke.
	var created, drawn time.Time
	for _, e := range site.events(t, lesson.ID) {
		if e.Kind() == domain.KindLessonCreated {
			created = e.Time
		}
		if p, ok := e.Payload.(*domain.StrokeDrawn); ok && p.Slide.Deck == first.ID && drawn.IsZero() {
			drawn = e.Time
		}
	}
	eval[float64](teacher, `window.classroom.send("lesson.ended")`) // the lesson ends
	if err := chromedp.Do(teacher.ctx, chromedp.Navigate(site.srv.URL+"/lessons/"+lesson.ID+"/replay#token="+lesson.Teacher.Token)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the replay", func() bool {
		ok, err := try[bool](teacher, `!!(window.replay && window.replay.ready)`)
		return err == nil && ok
	})
	at := drawn.Sub(created).Seconds() + 0.05
	eval[bool](teacher, fmt.Sprintf(`window.replay.seek(%f).then(() => true)`, at))
	teacher.setField("follow", first.ID.String())
	waitUntil(t, 10*time.Second, "the replay on "+first.Name+"'s board", func() bool {
		k, owners := teacher.boardShows("replay")
		return k == key(first) && slices.Equal(owners, []string{first.Members[0]})
	})
	// A tile for each member, saying why it has no picture when it has none.
	tiles := eval[[]struct{ Participant, Empty string }](teacher, `[...document.querySelectorAll("#group-tiles .tile")].map((e) =>
		({participant: e.dataset.participant, empty: e.classList.contains("empty") ? e.getAttribute("data-empty") || "" : "has video"}))`)
	if len(tiles) != len(first.Members) {
		t.Fatalf("the replay following %s shows %d group tiles, want %d", first.Name, len(tiles), len(first.Members))
	}
	for _, tile := range tiles {
		if tile.Empty == "" {
			t.Errorf("the replay's empty tile of %s says nothing", students[tile.Participant].name)
		}
	}
	eval[bool](teacher, `window.replay.seek(window.replay.duration).then(() => true)`)
	waitUntil(t, 10*time.Second, "the replay on "+first.Name+"'s chat", func() bool {
		return eval[bool](teacher, `document.getElementById("messages").textContent.includes("Is it a half?")`)
	})
	eval[bool](teacher, fmt.Sprintf(`window.replay.seek(%f).then(() => true)`, at-0.1))
	waitUntil(t, 10*time.Second, "the replay on "+first.Name+"'s board before its stroke", func() bool {
		k, owners := teacher.boardShows("replay")
		return k == key(first) && len(owners) == 0
	})
}

// TestGroupsPlanComesBack: while the teacher plans groups at random, a
// student who leaves drops out of the plan, and on coming back is placed
// in a group again, as a student who comes later is.
func TestGroupsPlanComesBack(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	b := browser(t)
	teacher := newTab(t, b, "teacher")
	teacher.join(site.teacherLink(lesson), "Ms Rivera")
	link := site.studentsLink(lesson)
	var tabs []*tab
	for i := range 3 {
		tabs = append(tabs, newTab(t, b, fmt.Sprintf("S%d", i+1)))
	}
	joinAll(t, tabs, link)
	teacher.click("#tab-groups")
	teacher.setField("groups-how", "random")
	teacher.setField("groups-count", "2")
	placed := func() []string {
		return eval[[]string](teacher, `[...document.querySelectorAll('#groups-plan .group-plan:not([data-group=""]) li[data-participant]')].map((e) => e.dataset.participant)`)
	}
	leaver := tabs[2]
	id := eval[string](leaver, `window.classroom.me`)
	waitUntil(t, 10*time.Second, "the plan to place the three students", func() bool { return len(placed()) == 3 })

	if err := chromedp.Do(leaver.ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 15*time.Second, "the plan without "+leaver.name, func() bool {
		return len(placed()) == 2 && !eval[bool](teacher, fmt.Sprintf(`window.classroom.state.present().some((p) => p.id === %q)`, id))
	})

	if err := chromedp.Do(leaver.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	leaver.waitLive()
	if back := eval[string](leaver, `window.classroom.me`); back != id {
		t.Fatalf("%s came back as %s, was %s", leaver.name, back, id)
	}
	waitUntil(t, 15*time.Second, leaver.name+" placed in a group again", func() bool {
		got := placed()
		return len(got) == 3 && slices.Contains(got, id)
	})
}
