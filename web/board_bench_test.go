package web_test

import (
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// BenchmarkBoardRedraw measures the whiteboard with 5,000 strokes of 50 to
// 200 points (web/testdata/board-bench.html) in headless Chromium, which
// renders in software. One operation is one animation frame; fps counts the
// frames Chromium delivered, frame-ms and p95-ms are the intervals between
// them, script-ms the renderer's own script time a frame. Scenarios:
//
//	board/resize   the container changes size every frame: full composes
//	board/draw     a new stroke is drawn on top, two samples a frame
//	board/rebuild  the cache re-rasterised a slice a frame, all the time (as after a resize)
//	naive/resize   baseline: every path re-stroked every frame, resizing
//	naive/draw     baseline: every path re-stroked every frame, drawing on top
//
// Run it with: go test -run '^$' -bench BoardRedraw -benchtime 120x ./web/
func BenchmarkBoardRedraw(b *testing.B) {
	srv := httptest.NewServer(boardMux())
	defer srv.Close()
	ctx := browser(b)
	// Room for a 1280×720 board.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1400, 1000), chromedp.Navigate(srv.URL+"/test/board-bench.html"),
		chromedp.Poll[chromedp.Void](`window.ready === true`)); err != nil {
		b.Fatal(err)
	}
	version, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	if err != nil {
		b.Fatal(err)
	}
	setup, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Points  int     `json:"points"`
		FirstMs float64 `json:"firstMs"`
	}](`setup(5000)`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s; 5,000 strokes, %d points; one full rasterisation at once %.0f ms", version, setup.Points, setup.FirstMs)

	for _, scenario := range []string{"board/resize", "board/draw", "board/rebuild", "naive/resize", "naive/draw"} {
		b.Run(scenario, func(b *testing.B) {
			b.ResetTimer()
			got, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
				FPS      float64 `json:"fps"`
				FrameMs  float64 `json:"frameMs"`
				P95Ms    float64 `json:"p95Ms"`
				ScriptMs float64 `json:"scriptMs"`
			}](`measure("`+scenario+`", `+strconv.Itoa(b.N)+`)`, chromedp.EvalAwaitPromise))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(got.FPS, "fps")
			b.ReportMetric(got.FrameMs, "frame-ms")
			b.ReportMetric(got.P95Ms, "p95-ms")
			b.ReportMetric(got.ScriptMs, "script-ms")
		})
	}
}
