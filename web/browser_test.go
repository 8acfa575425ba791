package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/internal/syncbuf"
	"classroom/media/mediatest"
	"classroom/realtime"
	"classroom/realtime/client"
	"classroom/realtime/token"
	"classroom/web"
	"classroom/web/internal/pagetest"
)

// chromium finds Debian's chromium; the browser tests fail, not skip, without it.
func chromium(t testing.TB) string { return pagetest.Chromium(t) }

// browser starts a headless Chromium with a fake camera and microphone,
// which pages are allowed to use.
func browser(t testing.TB) context.Context { return newBrowser(t, true) }

// newBrowser starts a headless Chromium with a fake camera and microphone.
// Without allowMedia, pages are refused them, as when a person says no to
// the browser's prompt. extra adds to its options (a language, say).
func newBrowser(t testing.TB, allowMedia bool, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", allowMedia),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns,Translate"),
	)
	return pagetest.Start(t, append(opts, extra...)...)
}

// liveSite is the whole HTTP surface with live lessons, on loopback.
type liveSite struct {
	srv        *httptest.Server
	rt         *realtime.Server
	streams    *realtime.Streams
	store      eventstore.Store
	metrics    *prometheus.Registry
	recordings string
}

// siteMaxViewers is the WHEP viewers a test site admits to a lesson.
const siteMaxViewers = 2

func startSite(t *testing.T) *liveSite { return startSiteWith(t, nil) }

// startSiteWith starts a site whose realtime configuration configure
// changes first, when not nil.
func startSiteWith(t *testing.T, configure func(*realtime.Config)) *liveSite {
	t.Helper()
	store, err := eventstore.OpenSQLite(context.Background(), t.TempDir(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := token.NewKeeper([]byte(strings.Repeat("k", 32)), nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	recordings := t.TempDir()
	// One media port for every connection, on every interface, as the
	// server runs by default, so that the browsers get their media as it
	// is sent then (past pion's write chain, media.Direct). Not loopback
	// alone: a WHIP encoder's ICE (libnice's) offers no loopback
	// candidates.
	cfg := realtime.Config{Store: store, Tokens: tokens, Loopback: true, Metrics: reg,
		Logger: quietLog(), RecordingsDir: recordings, MediaUDPAddr: ":0"}
	if configure != nil {
		configure(&cfg)
	}
	rt, err := realtime.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	streams := realtime.NewStreams(rt, realtime.StreamsConfig{MaxViewers: siteMaxViewers})
	mux := http.NewServeMux()
	mux.Handle("/", web.NewHandler(web.Config{Store: store, Tokens: tokens, Live: rt, Logger: quietLog(),
		Recordings: recordings, Streams: streams, OperatorKey: operatorKey}))
	mux.Handle("GET /test/", http.StripPrefix("/test/", http.FileServer(http.Dir("testdata"))))
	s := &liveSite{srv: httptest.NewServer(mux), rt: rt, streams: streams, store: store, metrics: reg, recordings: recordings}
	t.Cleanup(func() {
		s.srv.Close()
		rt.Close()
		store.Close()
	})
	return s
}

type lessonLinks struct {
	ID       string
	Teacher  struct{ Token string }
	Students struct{ Token string }
}

func (s *liveSite) createLesson(t *testing.T) lessonLinks {
	t.Helper()
	resp, err := http.Post(s.srv.URL+"/api/lessons", "application/json", strings.NewReader(`{"title":"Glare"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l lessonLinks
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create a lesson: %d %v", resp.StatusCode, err)
	}
	return l
}

func (s *liveSite) ws(lesson string) string {
	return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/api/lessons/" + lesson + "/ws"
}

// listRecordings reads the lesson's recordings list with token, each entry
// into a T; false when the list cannot be read (yet).
func listRecordings[T any](site *liveSite, lesson, token string) ([]T, bool) {
	req, _ := http.NewRequest("GET", site.srv.URL+"/api/lessons/"+lesson+"/recordings", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	var list struct{ Recordings []T }
	if json.NewDecoder(resp.Body).Decode(&list) != nil {
		return nil, false
	}
	return list.Recordings, true
}

// counter reads a counter of the server's metrics by its labels.
func (s *liveSite) counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := s.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestGlareInBrowser: a browser student publishes a camera at the moment the
// server brings the teacher's new tracks to it, so that both ends offer at
// once. The browser is the polite peer and the server the impolite one: the
// collisions resolve, the connection stays up, and media flows both ways.
// The page holds its offer until the server's arrives and sends it just
// before it reads the server's (glare.html, holdNextOffer), so the offers
// cross in every round whatever the load: the server ignores the browser's
// offer and the browser rolls its own back, answers, and offers again.
// (Left to chance, they once did not cross for 30 rounds under load, and
// each round's new tracks grew the offers past the server's limit of one
// signal, protocol.MaxSignalBytes, then 64 KiB, which ends a session: the
// browser's after about 15 rounds, the teacher's after 30.)
func TestGlareInBrowser(t *testing.T) {
	var serverLog syncbuf.Buffer
	site := startSiteWith(t, func(c *realtime.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&serverLog, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the server's log:\n%s", serverLog.String())
		}
	})
	lesson := site.createLesson(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var fromStudent sync.Map // the student's tracks the teacher receives
	teacher, err := client.Dial(ctx, client.Options{URL: site.ws(lesson.ID), Token: lesson.Teacher.Token, Loopback: true,
		OnTrack: func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				fromStudent.Store(tr.StreamID(), true)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer teacher.Close()
	if _, err := teacher.Send(ctx, &domain.LessonStarted{}); err != nil {
		t.Fatal(err)
	}
	mediatest.Start(t, teacher.AddTrack, "teacher", 30, 1200)

	b := browser(t)
	page := site.srv.URL + "/test/glare.html?" + url.Values{"ws": {site.ws(lesson.ID)}, "token": {lesson.Students.Token}}.Encode()
	if err := chromedp.Do(b, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(b, chromedp.Evaluate[bool](`window.joining`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("the browser joins: %v", err)
	}
	js := func(expr string) float64 {
		t.Helper()
		v, err := chromedp.Run(b, chromedp.Evaluate[float64](expr, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	ignored := func() float64 { // the browser's offers the server ignored
		return site.counter(t, "classroom_sdp_offers_total", map[string]string{"from": "client", "outcome": "collided"})
	}
	t.Cleanup(func() {
		if t.Failed() {
			st, err := chromedp.Run(b, chromedp.Evaluate[any](`({state: report.state, signaling: conn.pc.signalingState,
				collisions: conn.collisions, held: held(), problems: report.problems, bye: report.bye})`))
			t.Logf("the browser's connection: %v %v", st, err)
		}
	})
	const rounds = 2
	screens := []string{} // the tracks of the teacher's screens, by id
	for round := range rounds {
		// Each round starts with nothing to negotiate: the first offer
		// answered, and the last round's renegotiations done.
		waitUntil(t, 30*time.Second, fmt.Sprintf("round %d: the browser's connection settled", round), func() bool {
			ids, _ := json.Marshal(screens)
			return js(fmt.Sprintf(`report.state === "connected" && settled(%s) ? 1 : 0`, ids)) == 1
		})
		// The browser adds a camera: its offer waits. The teacher shares a
		// screen, which the server brings to the browser with an offer of
		// its own: the browser's goes out just before the server's is read.
		js(`holdNextOffer() && addCamera().then(() => 1)`)
		waitUntil(t, 30*time.Second, fmt.Sprintf("round %d: the browser's offer made and held", round), func() bool { return js(`held() ? 1 : 0`) == 1 })
		screen := mediatest.Start(t, teacher.AddTrack, fmt.Sprint("screen-", round), 30, 1200)
		screens = append(screens, screen.Video.ID(), screen.Audio.ID())
		waitUntil(t, 30*time.Second, fmt.Sprintf("round %d: the offers to cross at both ends", round), func() bool {
			return js(`held() ? 0 : conn.collisions`) > float64(round) && ignored() > float64(round)
		})
	}
	t.Logf("offers crossed: the browser rolled back %v, the server ignored %v", js(`conn.collisions`), ignored())

	// The browser receives the teacher, and the screens offered while its
	// own offers crossed...
	for _, id := range screens {
		waitUntil(t, 30*time.Second, "the browser to receive the teacher's "+id, func() bool { return js(fmt.Sprintf(`trackPackets(%q)`, id)) > 0 })
	}
	waitUntil(t, 30*time.Second, "the browser to receive the teacher's video", func() bool {
		got, err := chromedp.Run(b, chromedp.Evaluate[map[string]map[string]float64](`received()`, chromedp.EvalAwaitPromise))
		return err == nil && got["teacher"]["video"] > 0
	})
	// ...and, given the floor, is received by the teacher: the cameras it
	// offered again after rolling back were negotiated.
	report, err := chromedp.Run(b, chromedp.Evaluate[struct {
		State string
		Bye   *struct{ Code, Message string }
	}](`({state: report.state, bye: report.bye})`))
	if err != nil || report.State != "connected" || report.Bye != nil {
		t.Fatalf("the browser's connection: %+v %v", report, err)
	}
	var student string
	for id, p := range teacher.State().Participants {
		if p.Role == domain.RoleStudent {
			student = id
		}
	}
	if _, err := teacher.Send(ctx, &domain.FloorGranted{Participant: student}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the teacher to receive the browser's camera", func() bool {
		if problems, _ := chromedp.Run(b, chromedp.Evaluate[[]map[string]string](`report.problems`)); len(problems) > 0 {
			t.Fatalf("the browser had problems: %v", problems)
		}
		_, ok := fromStudent.Load(student)
		return ok
	})
	if st := teacher.ConnectionState(); st != webrtc.PeerConnectionStateConnected {
		t.Fatalf("the teacher's connection is %s", st)
	}
	if err := teacher.Err(); err != nil {
		t.Fatalf("the teacher's client: %v", err)
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func quietLog() *slog.Logger {
	if os.Getenv("CLASSROOM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
