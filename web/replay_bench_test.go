package web_test

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime/token"
	"classroom/web"
)

// BenchmarkReplaySeekInBrowser times seeks on the playback page, in
// headless Chromium, in the 100,000-event lesson of BenchmarkSeek, around
// its middle (state ~13 MB of JSON). An op is three timed seeks:
//
//	back        from 1,000 events past the middle back to it, with no state
//	            kept in the page: it fetches the state there from the
//	            server (the baseline: every seek did this once)
//	forward     from the middle 1,000 events on: the page folds those
//	            events from the log's pages it reads anyway
//	back-kept   from there back to 500 events past the middle: the page
//	            restores the state it fetched last (at the middle) and folds
//	            500 events on from it
//
// Each figure is the time `await window.replay.seek(t)` takes in the page,
// fetching, decoding, folding and drawing; the server runs in the test's
// process, on loopback, answering compressed (Chromium takes zstd).
//
// Run it with: go test -run '^$' -bench ReplaySeekInBrowser -benchtime 5x ./web/
func BenchmarkReplaySeekInBrowser(b *testing.B) {
	store, err := eventstore.OpenSQLite(b.Context(), b.TempDir(), quietLog())
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	l := countOnly(b, store)
	tokens, err := token.NewKeeper(bytes.Repeat([]byte("k"), 32), nil)
	if err != nil {
		b.Fatal(err)
	}
	teacher, err := tokens.Issue(token.Claims{Lesson: l.lesson, Role: domain.RoleTeacher, Participant: "teacher",
		Expires: time.Now().Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(web.NewHandler(web.Config{Store: store, Tokens: tokens, Logger: quietLog()}))
	defer srv.Close()

	ctx := browser(b)
	mid := l.mid.Sub(l.created).Seconds()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 800),
		chromedp.Navigate(fmt.Sprintf("%s/lessons/%s/replay#token=%s", srv.URL, l.lesson, teacher)),
		chromedp.Poll[chromedp.Void](`window.replay && window.replay.ready === true`, chromedp.WithPollingTimeout(2*time.Minute))); err != nil {
		b.Fatal(err)
	}
	// The times of the 500th and 1,000th events after the middle, read
	// from the page's queue once it stands at the middle.
	marks, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(`(async () => {
		await window.replay.seek(%f);
		const p = window.replay.player;
		while (p.queue.length < 1000 && p.more) await p.fill();
		return [499, 999].map((i) => (Date.parse(p.queue[i].time) - p.start) / 1000);
	})()`, mid), chromedp.EvalAwaitPromise))
	if err != nil {
		b.Fatal(err)
	}
	half, ahead := marks[0], marks[1]
	var back, forward, kept time.Duration
	var fetches, locals, restores int
	b.ResetTimer()
	for b.Loop() {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
			Back, Forward, Kept                       float64
			StateFetches, LocalSeeks, CheckpointSeeks int
		}](fmt.Sprintf(`(async () => {
			const r = window.replay, f0 = r.stateFetches, l0 = r.localSeeks, c0 = r.checkpointSeeks;
			await r.seek(%[2]f); // stand 1,000 events on (not timed)
			r.player.checkpoint = null;
			let t = performance.now();
			await r.seek(%[1]f);
			const back = performance.now() - t;
			t = performance.now();
			await r.seek(%[2]f);
			const forward = performance.now() - t;
			t = performance.now();
			await r.seek(%[3]f);
			const kept = performance.now() - t;
			return {Back: back, Forward: forward, Kept: kept, StateFetches: r.stateFetches - f0,
				LocalSeeks: r.localSeeks - l0, CheckpointSeeks: r.checkpointSeeks - c0};
		})()`, mid, ahead, half), chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatal(err)
		}
		back += time.Duration(got.Back * float64(time.Millisecond))
		forward += time.Duration(got.Forward * float64(time.Millisecond))
		kept += time.Duration(got.Kept * float64(time.Millisecond))
		fetches += got.StateFetches
		locals += got.LocalSeeks
		restores += got.CheckpointSeeks
	}
	b.StopTimer()
	if fetches != b.N || locals != 2*b.N || restores != b.N {
		b.Fatalf("%d state fetches, %d local seeks and %d from the kept state in %d ops, want one, two and one an op",
			fetches, locals, restores, b.N)
	}
	b.ReportMetric(float64(back.Milliseconds())/float64(b.N), "back-ms/op")
	b.ReportMetric(float64(forward.Milliseconds())/float64(b.N), "forward-ms/op")
	b.ReportMetric(float64(kept.Milliseconds())/float64(b.N), "back-kept-ms/op")
}
