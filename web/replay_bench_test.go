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
// its middle (state ~13 MB of JSON). An op is two seeks:
//
//	back      from 1,000 events past the middle back to the middle: the
//	          page fetches the state there from the server (the baseline,
//	          and every seek before the page folded short steps itself)
//	forward   from the middle to 1,000 events on: the page folds those
//	          events from the log's pages it reads anyway
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
	// The time of the 1,000th event after the middle, read from the
	// page's queue once it stands at the middle.
	ahead, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf(`(async () => {
		await window.replay.seek(%f);
		const p = window.replay.player;
		while (p.queue.length < 1000 && p.more) await p.fill();
		return (Date.parse(p.queue[999].time) - p.start) / 1000;
	})()`, mid), chromedp.EvalAwaitPromise))
	if err != nil {
		b.Fatal(err)
	}
	var back, forward time.Duration
	var fetches, locals int
	b.ResetTimer()
	for b.Loop() {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
			Back, Forward           float64
			StateFetches, LocalSeek int
		}](fmt.Sprintf(`(async () => {
			const r = window.replay, f0 = r.stateFetches, l0 = r.localSeeks;
			await r.seek(%[2]f); // stand 1,000 events on (not timed)
			let t = performance.now();
			await r.seek(%[1]f);
			const back = performance.now() - t;
			t = performance.now();
			await r.seek(%[2]f);
			const forward = performance.now() - t;
			return {Back: back, Forward: forward, StateFetches: r.stateFetches - f0, LocalSeek: r.localSeeks - l0};
		})()`, mid, ahead), chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatal(err)
		}
		back += time.Duration(got.Back * float64(time.Millisecond))
		forward += time.Duration(got.Forward * float64(time.Millisecond))
		fetches += got.StateFetches
		locals += got.LocalSeek
	}
	b.StopTimer()
	if fetches != b.N || locals != 2*b.N {
		b.Fatalf("%d state fetches and %d local seeks in %d ops: not one fetch back and two local steps forward an op", fetches, locals, b.N)
	}
	b.ReportMetric(float64(back.Milliseconds())/float64(b.N), "back-ms/op")
	b.ReportMetric(float64(forward.Milliseconds())/float64(b.N), "forward-ms/op")
}
