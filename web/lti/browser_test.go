package lti_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"classroom/realtime"
	"classroom/web"
	"classroom/web/internal/pagetest"
	"classroom/web/lti"
)

// TestLaunchInFrameInBrowser: a teacher and a student open the activity on
// the platform's course page (127.0.0.1), which frames the tool (localhost,
// another site) with camera and microphone allowed; the browser blocks
// third-party cookies. Each lands in the lesson inside the frame without a
// class link or a name to type, the teacher's camera and microphone run,
// and the student sees the teacher's video.
func TestLaunchInFrameInBrowser(t *testing.T) {
	r := startRig(t, "localhost", func(r *rig, tool *lti.Tool) http.Handler {
		rt, err := realtime.New(realtime.Config{Store: r.store, Tokens: r.tokens, Loopback: true, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rt.Close() })
		return web.NewHandler(web.Config{Store: r.store, Tokens: r.tokens, Live: rt, Logger: quiet(),
			LTI: tool.Handler(), FrameAncestors: []string{r.p.srv.URL}})
	})
	r.addUser("t-1", "Grace Hopper", roleInstructor)
	r.addUser("s-1", "Ada Lovelace", roleLearner)
	r.addMessage("rl", message{kind: "LtiResourceLinkRequest", resourceLink: "rl-1", title: "Photosynthesis"})

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(pagetest.Chromium(t)),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns,Translate"),
		// Third-party cookies blocked, as browsers do now or will.
		chromedp.Flag("test-third-party-cookie-phaseout", true),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	b, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if _, err := chromedp.Run(b, chromedp.Evaluate[bool](`true`)); err != nil {
		t.Fatalf("start the browser: %v", err)
	}

	teacher := openActivity(t, b, r, "t-1")
	student := openActivity(t, b, r, "s-1")

	media := frameEval[string](t, teacher, `(() => {
		const s = document.querySelector("#tile-self video").srcObject;
		return s ? s.getTracks().filter((t) => t.readyState === "live" && t.enabled).map((t) => t.kind).sort().join(",") : "none";
	})()`)
	if media != "audio,video" {
		t.Fatalf("the teacher's camera and microphone in the frame: %q live", media)
	}
	if c := frameEval[string](t, teacher, `document.cookie`); c != "" {
		t.Fatalf("the lesson page set cookies: %q", c)
	}
	who := lti.Participant(r.p.srv.URL, "t-1")
	deadline := time.Now().Add(45 * time.Second)
	for {
		stats := frameEval[map[string]struct {
			FramesDecoded float64
			Width         float64
		}](t, student, `window.classroom.videoStats()`)
		if s := stats[who]; s.FramesDecoded > 0 && s.Width > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the student never decoded the teacher's video: %v", stats)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// frameEval evaluates a JavaScript expression in a frame, awaiting a promise.
func frameEval[T any](t *testing.T, frame context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(frame, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// openActivity opens the platform's course page as userID in a tab of its
// own and returns a context attached to the activity's frame once the
// lesson page in it is live.
func openActivity(t *testing.T, b context.Context, r *rig, userID string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	course := fmt.Sprintf("%s/course?user=%s&hint=rl", r.p.srv.URL, userID)
	if err := chromedp.Do(tab, chromedp.Navigate(course)); err != nil {
		t.Fatalf("%s: open the course page: %v", userID, err)
	}
	var frame context.Context
	deadline := time.Now().Add(30 * time.Second)
	for frame == nil {
		infos, err := chromedp.Targets(tab)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, r.p.tool+"/lessons/") &&
				info.BrowserContextID == chromedp.FromContext(tab).BrowserContextID {
				f, cancel := chromedp.NewContext(tab, chromedp.WithTargetID(info.TargetID))
				t.Cleanup(cancel)
				frame = f
				break
			}
		}
		if frame == nil && time.Now().After(deadline) {
			var urls []string
			for _, info := range infos {
				urls = append(urls, info.Type+" "+info.URL)
			}
			t.Fatalf("%s: the activity's frame never reached a lesson page; targets: %v", userID, urls)
		}
		time.Sleep(100 * time.Millisecond)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(frame, chromedp.Evaluate[bool](`!!(window.classroom && window.classroom.ready && window.classroom.state)`))
		if err == nil && ok {
			return frame
		}
		if time.Now().After(deadline) {
			banner, _ := chromedp.Run(frame, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 500) : ""`))
			t.Fatalf("%s: the lesson page in the frame never went live (%v): %s", userID, err, banner)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
