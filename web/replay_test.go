package web_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime/client"
)

// TestReplayInBrowser: a lesson taught by a Go client (strokes on three
// pages, slide changes, chat, a hand and the floor) plays back in headless
// Chromium. Seeking to the middle shows the lesson exactly as it was then
// (the page's state hash equals the server's fold up to that moment, and
// the board has ink), the scrubber marks every slide change, and playing on
// reaches the lesson's end state.
func TestReplayInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	teacher, err := client.Dial(ctx, client.Options{URL: site.ws(lesson.ID), Token: lesson.Teacher.Token, Name: "Ms Rivera", Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer teacher.Close()
	student, err := client.Dial(ctx, client.Options{URL: site.ws(lesson.ID), Token: lesson.Students.Token, Name: "Ana", Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer student.Close()
	send := func(c *client.Client, p domain.Payload) {
		t.Helper()
		if _, err := c.Send(ctx, p); err != nil {
			t.Fatalf("%s: %v", p.Kind(), err)
		}
	}
	send(teacher, &domain.LessonStarted{})
	changes := 0
	for page := 0; page < 3; page++ {
		if page > 0 {
			send(teacher, &domain.SlideChanged{Slide: domain.Slide{Page: page}})
			changes++
		}
		for i := 0; i < 4; i++ {
			pts := make(domain.Points, 0, 30)
			for k := 0; k < 30; k++ {
				x := 200 + float64(i)*250 + float64(k)*6
				pts = append(pts, domain.Point{X: x, Y: 300 + 80*math.Sin(float64(k)/5) + float64(page)*100, T: int64(k * 16), Pressure: 0.5})
			}
			send(teacher, &domain.StrokeDrawn{Object: uuid.New(), Slide: domain.Slide{Page: page}, Tool: domain.ToolPen,
				Color: "#dc2626", Width: 8, Points: pts})
			time.Sleep(60 * time.Millisecond)
		}
		send(student, &domain.ChatPosted{Text: fmt.Sprintf("page %d looks right <ok>", page+1)})
		time.Sleep(150 * time.Millisecond)
	}
	send(student, &domain.HandRaised{})
	send(teacher, &domain.FloorGranted{Participant: student.Participant()})
	time.Sleep(100 * time.Millisecond)
	send(teacher, &domain.FloorRevoked{Participant: student.Participant()})

	// The server's log, folded up to any moment.
	var events []domain.Event
	for e, err := range site.store.Events(ctx, mustUUID(t, lesson.ID), 0) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	start := events[0].Time
	at := func(seconds float64) *domain.State {
		st := domain.NewState()
		for _, e := range events {
			if e.Time.After(start.Add(time.Duration(seconds * float64(time.Second)))) {
				break
			}
			st.Apply(e)
		}
		return st
	}
	end := events[len(events)-1].Time.Sub(start).Seconds()
	// The middle: right after the second slide change, with ink on page 2.
	var mid float64
	for _, e := range events {
		if e.Payload.Kind() == domain.KindStrokeDrawn && e.Payload.(*domain.StrokeDrawn).Slide.Page == 1 {
			mid = e.Time.Sub(start).Seconds() + 0.001
			break
		}
	}

	b := browser(t)
	page := &tab{t: t, name: "replay", ctx: b}
	if err := chromedp.Do(b, chromedp.Navigate(site.srv.URL+"/lessons/"+lesson.ID+"/replay#token="+lesson.Teacher.Token)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the replay page to load", func() bool {
		ok, err := try[bool](page, `!!(window.replay && window.replay.ready)`)
		return err == nil && ok
	})
	if d := eval[float64](page, `window.replay.duration`); math.Abs(d-end) > 0.01 {
		t.Errorf("the replay lasts %.3f s, the lesson %.3f s", d, end)
	}
	// The marks come from reading the whole log, after the page is ready.
	waitUntil(t, 10*time.Second, fmt.Sprintf("the scrubber to mark the %d slide changes", changes), func() bool {
		return eval[int](page, `document.querySelectorAll("#marks .slide").length`) == changes
	})

	// A step forward over a few events folds the log in the page; the
	// first load fetched the state.
	eval[bool](page, fmt.Sprintf(`window.replay.seek(%f).then(() => true)`, mid))
	want := at(mid)
	if got := eval[string](page, `window.replay.hash()`); got != want.Hash() {
		t.Fatalf("at %.3f s the replay's state hash is %s, the lesson's was %s (seq %d)", mid, got, want.Hash(), want.Seq)
	}
	if f, l := eval[int](page, `window.replay.stateFetches`), eval[int](page, `window.replay.localSeeks`); f != 1 || l != 1 {
		t.Errorf("after loading and one step forward: %d state fetches and %d local seeks, want 1 and 1", f, l)
	}
	if p := eval[int](page, `window.replay.state.slide.page`); p != 1 {
		t.Fatalf("at the middle the replay shows page %d, want 1", p)
	}
	ink := eval[[]float64](page, `(() => {
		const st = window.replay.state, o = st.visible(st.slide)[0];
		const p = o.points[Math.floor(o.points.length / 2)];
		return Array.from(window.replay.board.pixel(p[0], p[1]));
	})()`)
	if len(ink) < 3 || ink[0] < 150 || ink[1] > 120 {
		t.Errorf("the board under the replayed stroke is %v, not red ink", ink)
	}

	// Playing on at 2× reaches the end of the lesson.
	eval[bool](page, `(window.replay.setRate(2), true)`)
	eval[bool](page, `(window.replay.play(), true)`)
	waitUntil(t, 30*time.Second, "the replay to reach the end", func() bool {
		return eval[float64](page, `window.replay.position`) >= end-0.001
	})
	if got, want := eval[string](page, `window.replay.hash()`), at(end+1).Hash(); got != want {
		t.Fatalf("at the end the replay's hash is %s, the lesson's %s", got, want)
	}
	if n := eval[int](page, `document.querySelectorAll("#messages li").length`); n != 3 {
		t.Errorf("the replay shows %d chat messages, want 3", n)
	}

	// Two seeks back in a row, the second before the first's state has
	// come: the page shows the second moment, not the end it stood at.
	var later float64
	for _, e := range events {
		if e.Payload.Kind() == domain.KindStrokeDrawn && e.Payload.(*domain.StrokeDrawn).Slide.Page == 2 {
			later = e.Time.Sub(start).Seconds() + 0.001
			break
		}
	}
	eval[bool](page, fmt.Sprintf(`(async () => {
		const first = window.replay.seek(%f);
		await window.replay.seek(%f);
		await first;
		return true;
	})()`, mid, later))
	if got, want := eval[string](page, `window.replay.hash()`), at(later).Hash(); got != want {
		t.Fatalf("after seeking back twice quickly the replay's hash is %s, the lesson's at %.3f s %s", got, later, want)
	}
	if p := eval[int](page, `window.replay.state.slide.page`); p != 2 {
		t.Fatalf("after seeking back twice quickly the replay shows page %d, want 2", p)
	}

	// Back to the middle: from the state the page fetched first (it keeps
	// the last one), folding the log on from there.
	eval[bool](page, fmt.Sprintf(`window.replay.seek(%f).then(() => true)`, mid))
	if got := eval[string](page, `window.replay.hash()`); got != want.Hash() {
		t.Fatalf("back at %.3f s the replay's state hash is %s, the lesson's was %s", mid, got, want.Hash())
	}
	if f, c := eval[int](page, `window.replay.stateFetches`), eval[int](page, `window.replay.checkpointSeeks`); f != 1 || c != 1 {
		t.Errorf("%d state fetches and %d seeks from the kept state, want 1 and 1", f, c)
	}
	if n := eval[int](page, `document.querySelectorAll("#messages li").length`); n != 1 {
		t.Errorf("back at the middle the replay shows %d chat messages, want 1", n)
	}

	// Without a kept state, a seek back asks the server for the state.
	eval[bool](page, fmt.Sprintf(`window.replay.seek(%f).then(() => { window.replay.player.checkpoint = null; return window.replay.seek(%f); }).then(() => true)`, end, mid))
	if got := eval[string](page, `window.replay.hash()`); got != want.Hash() {
		t.Fatalf("back at %.3f s from the server the replay's state hash is %s, the lesson's was %s", mid, got, want.Hash())
	}
	if f := eval[int](page, `window.replay.stateFetches`); f != 2 {
		t.Errorf("%d state fetches in all, want 2", f)
	}
	if n := eval[int](page, `document.querySelectorAll("#messages li").length`); n != 1 {
		t.Errorf("back at the middle from the server the replay shows %d chat messages, want 1", n)
	}

	// A seek whose state cannot be fetched says so and leaves the page at
	// the moment it shows, its clock with it.
	eval[bool](page, `(async () => {
		const f = window.fetch;
		window.fetch = (u, o) => String(u).includes("/state") ? Promise.reject(new TypeError("the network is down")) : f(u, o);
		window.replay.player.checkpoint = null;
		try { await window.replay.seek(0); } finally { window.fetch = f; }
		return true;
	})()`)
	if b := eval[string](page, `document.getElementById("banner").textContent`); !strings.Contains(b, "Seeking failed") {
		t.Errorf("after a failed seek the banner says %q", b)
	}
	if got := eval[string](page, `window.replay.hash()`); got != want.Hash() {
		t.Errorf("after a failed seek the replay's hash is %s, want the middle's %s", got, want.Hash())
	}
	if p := eval[float64](page, `window.replay.position`); math.Abs(p-mid) > 0.002 {
		t.Errorf("after a failed seek the clock shows %.3f s, the page the lesson at %.3f s", p, mid)
	}
}

// TestRecordedReplayInBrowser: a teacher in Chromium records part of a
// lesson with the page's button; the replay page then plays the recorded
// camera in step with the board: seeking into the recording shows the
// teacher's video at the matching offset, and it keeps in step while playing.
func TestRecordedReplayInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	b := browser(t)
	teacher := newTab(t, b, "teacher")
	teacher.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Teacher.Token, "Ms Rivera")
	teacher.click("#lifecycle")
	time.Sleep(500 * time.Millisecond)
	teacher.click("#record")
	waitUntil(t, 10*time.Second, "recording to start", func() bool {
		return eval[bool](teacher, `window.classroom.state.recording`)
	})
	time.Sleep(1500 * time.Millisecond)
	teacher.stroke(0.2, 0.2, 0.8, 0.8, 20)
	time.Sleep(1500 * time.Millisecond)
	teacher.click("#record")
	waitUntil(t, 10*time.Second, "recording to stop", func() bool {
		return !eval[bool](teacher, `window.classroom.state.recording`)
	})

	// The recording is listed, finished, as soon as it stops.
	type recording struct {
		Participant, Kind string
		Start             time.Time
		End               *time.Time
	}
	var video recording
	waitUntil(t, 10*time.Second, "the teacher's camera recording to be listed, finished", func() bool {
		list, _ := listRecordings[recording](site, lesson.ID, lesson.Teacher.Token)
		for _, r := range list {
			if r.Kind == "video" && r.Participant == "teacher" && r.End != nil {
				video = r
				return true
			}
		}
		return false
	})
	if span := video.End.Sub(video.Start); span < 2*time.Second {
		t.Fatalf("the camera recording spans %v, the lesson recorded ~3 s", span)
	}

	created := eval[string](teacher, `window.classroom.state.created`)
	start, err := time.Parse(time.RFC3339Nano, created)
	if err != nil {
		t.Fatal(err)
	}
	into := 0.8 // seconds into the recording
	at := video.Start.Sub(start).Seconds() + into

	viewer := newTab(t, b, "replay")
	if err := chromedp.Do(viewer.ctx, chromedp.Navigate(site.srv.URL+"/lessons/"+lesson.ID+"/replay#token="+lesson.Teacher.Token)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the replay page to load", func() bool {
		ok, err := try[bool](viewer, `!!(window.replay && window.replay.ready)`)
		return err == nil && ok
	})
	// The scrubber shows the recorded span, which the events bound.
	waitUntil(t, 10*time.Second, "the scrubber to show the recorded span", func() bool {
		return eval[int](viewer, `window.replay.recorded.length`) == 1 &&
			eval[int](viewer, `document.querySelectorAll("#marks span.recorded").length`) == 1
	})
	eval[bool](viewer, fmt.Sprintf(`window.replay.seek(%f).then(() => true)`, at))
	type shown struct {
		Width   float64
		Time    float64
		Offset  float64
		Playing bool
	}
	look := func() shown {
		return eval[shown](viewer, `(() => {
			const v = document.querySelector("#tile-teacher video");
			const p = window.replay.player, r = p.current("teacher");
			return {width: v.videoWidth, time: v.currentTime, offset: r ? (p.start + p.position * 1000 - r.start) / 1000 : -1, playing: !v.paused};
		})()`)
	}
	waitUntil(t, 15*time.Second, "the recorded camera to show at the seek", func() bool {
		s := look()
		return s.Width > 0 && math.Abs(s.Time-into) < 0.3
	})
	eval[bool](viewer, `(window.replay.play(), true)`)
	time.Sleep(time.Second)
	s := look()
	if !s.Playing || s.Offset < 0 || math.Abs(s.Time-s.Offset) > 0.4 {
		t.Fatalf("playing, the video is at %.2f s of its file and the replay at %.2f s (playing %v)", s.Time, s.Offset, s.Playing)
	}
	if s.Time < into+0.5 {
		t.Fatalf("after a second of play the video is at %.2f s, it started at %.2f s", s.Time, into)
	}
}

// TestReplayReadRetried: when reading the log fails during playback, the
// replay page says so, waits at the last event it holds, tries again every
// few seconds without hammering the server, and plays on once the server
// answers, with no event lost or applied twice.
func TestReplayReadRetried(t *testing.T) {
	a := newAPI(t)
	importLesson(t, a.store, 16, 9000, 4)
	lessons, err := a.store.Lessons(context.Background(), eventstore.ListOptions{})
	if err != nil || len(lessons) != 1 {
		t.Fatalf("the imported lesson: %v, %v", lessons, err)
	}
	lesson := lessons[0].ID
	var events []domain.Event
	for e, err := range a.store.Events(context.Background(), lesson, 0) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	start := events[0].Time
	secs := func(i int) float64 { return events[i].Time.Sub(start).Seconds() }

	b := browser(t)
	page := &tab{t: t, name: "replay", ctx: b}
	if err := chromedp.Do(b, chromedp.Navigate(a.srv.URL+"/lessons/"+lesson.String()+"/replay#token="+a.token(lesson, domain.RoleTeacher))); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the replay page to load", func() bool {
		ok, err := try[bool](page, `!!(window.replay && window.replay.ready)`)
		return err == nil && ok
	})
	// From here every read of the log fails, and is counted. A step to
	// 50 events before the end of the first page read folds the queue
	// there, which starts the read of the next page: it fails.
	eval[bool](page, fmt.Sprintf(`(async () => {
		const f = window.fetch;
		window.readsFailed = 0;
		window.restoreFetch = () => { window.fetch = f; };
		window.fetch = (u, o) => {
			if (!String(u).includes("/events?")) return f(u, o);
			window.readsFailed++;
			return Promise.reject(new TypeError("the network is down"));
		};
		await window.replay.seek(%f);
		window.replay.setRate(16);
		window.replay.play();
		return true;
	})()`, secs(1950)+0.0005))
	held := eval[int](page, `window.replay.player.after`)
	// The clock stops once the queue is empty, and says so on the next
	// frame (recordings stop with it).
	waitUntil(t, 15*time.Second, "the clock to wait at the last event held", func() bool {
		return eval[bool](page, `window.replay.player.queue.length === 0 && window.replay.player.waiting`)
	})
	if b := eval[string](page, `document.getElementById("banner").textContent`); !strings.Contains(b, "Reading the lesson failed") {
		t.Errorf("with reads failing the banner says %q", b)
	}
	wait := eval[float64](page, `window.replay.position`)
	last := secs(held - 1) // seqs count from 1
	if math.Abs(wait-last) > 0.002 {
		t.Errorf("the clock waits at %.3f s; the last event held (seq %d) is at %.3f s", wait, held, last)
	}
	time.Sleep(3500 * time.Millisecond)
	if n := eval[int](page, `window.readsFailed`); n < 2 || n > 4 {
		t.Errorf("%d failed reads in about 4 s: want the first and a retry every 3 s", n)
	}
	if p := eval[float64](page, `window.replay.position`); p != wait {
		t.Errorf("the clock moved from %.3f to %.3f s with no events to play", wait, p)
	}

	// The server answers again: play resumes by itself.
	eval[bool](page, `(window.restoreFetch(), true)`)
	waitUntil(t, 15*time.Second, "playing on past the failed read", func() bool {
		return eval[float64](page, `window.replay.position`) > secs(2100)
	})
	if eval[bool](page, `window.replay.player.waiting`) {
		t.Error("playing on, the page still says it waits, so its recordings would not play")
	}
	eval[bool](page, `(window.replay.pause(), true)`)
	if !eval[bool](page, `document.getElementById("banner").hidden`) {
		t.Errorf("once reads succeed again the banner still shows %q", eval[string](page, `document.getElementById("banner").textContent`))
	}
	seq := eval[int](page, `window.replay.player.state.seq`)
	if seq <= held {
		t.Fatalf("the state is at seq %d, not past the %d held before the failure", seq, held)
	}
	want := domain.NewState()
	for _, e := range events[:seq] {
		want.Apply(e)
	}
	if got := eval[string](page, `window.replay.hash()`); got != want.Hash() {
		t.Errorf("after the retried read the replay's state hash at seq %d is %s, the lesson's %s", seq, got, want.Hash())
	}

	// Paused with a few events still queued while reads fail, the page
	// keeps trying every few seconds too, and reads on once the server
	// answers.
	eval[bool](page, `(async () => {
		const f = window.fetch, p = window.replay.player;
		window.restoreFetch = () => { window.fetch = f; };
		window.fetch = (u, o) => String(u).includes("/events?") ? Promise.reject(new TypeError("the network is down")) : f(u, o);
		while (p.more && p.queue.length >= 100) await window.replay.seek((Date.parse(p.queue[p.queue.length - 50].time) - p.start) / 1000);
		return true;
	})()`)
	if b := eval[string](page, `document.getElementById("banner").textContent`); !strings.Contains(b, "Reading the lesson failed") {
		t.Errorf("paused, with reads failing, the banner says %q", b)
	}
	eval[bool](page, `(window.restoreFetch(), true)`)
	waitUntil(t, 10*time.Second, "the paused page to read on once the server answers", func() bool {
		return eval[bool](page, `window.replay.player.queue.length > 100 && document.getElementById("banner").hidden`)
	})
	if eval[bool](page, `window.replay.player.playing`) {
		t.Error("reading on started playing")
	}

	// A read refused because the link expired is not tried again: the
	// page says why, and waits.
	eval[bool](page, `(async () => {
		const f = window.fetch, p = window.replay.player;
		window.readsFailed = 0;
		window.fetch = (u, o) => {
			if (!String(u).includes("/events?")) return f(u, o);
			window.readsFailed++;
			return Promise.resolve(new Response(JSON.stringify({ error: { code: "unauthorized", message: "the token has expired" } }),
				{ status: 401, headers: { "Content-Type": "application/json" } }));
		};
		while (p.more && p.queue.length >= 100) await window.replay.seek((Date.parse(p.queue[p.queue.length - 50].time) - p.start) / 1000);
		window.replay.play();
		return true;
	})()`)
	waitUntil(t, 15*time.Second, "the clock to wait after the refused read", func() bool {
		return eval[bool](page, `window.replay.player.waiting`)
	})
	time.Sleep(3500 * time.Millisecond)
	if n := eval[int](page, `window.readsFailed`); n != 1 {
		t.Errorf("%d reads refused with 401: want one, not tried again", n)
	}
	if b := eval[string](page, `document.getElementById("banner").textContent`); !strings.Contains(b, "expired") {
		t.Errorf("after a read refused with 401 the banner says %q", b)
	}
}
