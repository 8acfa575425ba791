package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"classroom/domain"
	"classroom/domain/timeline"
	"classroom/eventstore"
	"classroom/lessonlog"
	"classroom/lessonvideo"
	"classroom/lessonvideo/videotest"
	"classroom/realtime/token"
	"classroom/web"
)

// videoSite serves a scripted, recorded lesson with a video renderer.
type videoSite struct {
	srv              *httptest.Server
	lesson           videotest.Lesson
	teacher, student string // tokens
	store            *eventstore.SQLite
}

func startVideoSite(t *testing.T) *videoSite {
	t.Helper()
	dir := t.TempDir()
	store, err := eventstore.OpenSQLite(context.Background(), dir, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := token.NewKeeper([]byte(strings.Repeat("k", 32)), nil)
	if err != nil {
		t.Fatal(err)
	}
	recordings := filepath.Join(dir, "recordings")
	l := videotest.Script(t, store, recordings, time.Now().Add(-time.Hour))
	videos, err := lessonvideo.NewRenderer(lessonvideo.RendererConfig{
		Source: lessonvideo.Source{Store: store, Decks: store, Recordings: recordings},
		Dir:    filepath.Join(dir, "videos"), Scan: -1, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { videos.Run(ctx); close(done) }()
	s := &videoSite{lesson: l, store: store, srv: httptest.NewServer(web.NewHandler(web.Config{Store: store, Tokens: tokens,
		Logger: quietLog(), Recordings: recordings, Videos: videos}))}
	t.Cleanup(func() {
		s.srv.Close()
		cancel()
		<-done
		store.Close()
	})
	issue := func(role domain.Role, who string) string {
		tok, err := tokens.Issue(token.Claims{Lesson: l.ID, Role: role, Participant: who, Expires: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	s.teacher, s.student = issue(domain.RoleTeacher, "t-ada"), issue(domain.RoleStudent, "s-ben")
	return s
}

func (s *videoSite) call(t *testing.T, method, path, tok string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+"/api/lessons/"+s.lesson.ID.String()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func (s *videoSite) status(t *testing.T, tok string) lessonvideo.Status {
	t.Helper()
	return s.statusOf(t, tok, "")
}

// statusOf asks for the status of the video in a format ("" for the
// default, MP4).
func (s *videoSite) statusOf(t *testing.T, tok, format string) lessonvideo.Status {
	t.Helper()
	path := "/video/status"
	if format != "" {
		path += "?format=" + format
	}
	resp, b := s.call(t, http.MethodGet, path, tok)
	var st lessonvideo.Status
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &st) != nil {
		t.Fatalf("video status: %s %s", resp.Status, b)
	}
	return st
}

// TestLessonVideoHTTP starts a lesson's video as the teacher, follows its
// progress and fetches it as a student; nothing is offered before it is
// complete, and a student cannot start one.
func TestLessonVideoHTTP(t *testing.T) {
	s := startVideoSite(t)
	if st := s.status(t, s.teacher); st.State != lessonvideo.StateNone {
		t.Fatalf("before any render the status is %+v", st)
	}
	if resp, b := s.call(t, http.MethodGet, "/video", s.student); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the video before any render: %s %s", resp.Status, b)
	}
	if resp, b := s.call(t, http.MethodPost, "/video", s.student); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a student starts a render: %s %s", resp.Status, b)
	}
	if resp, b := s.call(t, http.MethodPost, "/video", s.teacher); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("the teacher starts a render: %s %s", resp.Status, b)
	}
	deadline := time.Now().Add(4 * time.Minute)
	sawProgress := false
	for {
		st := s.status(t, s.student)
		if st.State == lessonvideo.StateDone {
			break
		}
		if st.State != lessonvideo.StateQueued && st.State != lessonvideo.StateRendering || time.Now().After(deadline) {
			t.Fatalf("the render: %+v", st)
		}
		if st.State == lessonvideo.StateRendering && st.Percent > 0 && st.Percent < 100 {
			sawProgress = true
		}
		// The render may finish between the status and this request: a
		// video offered is then one whose status, asked afterwards, is done.
		if resp, _ := s.call(t, http.MethodGet, "/video", s.student); resp.StatusCode != http.StatusNotFound {
			if after := s.status(t, s.student); resp.StatusCode != http.StatusOK || after.State != lessonvideo.StateDone {
				t.Fatalf("while %s at %.0f%% the video is offered: %s (status afterwards %+v)", st.State, st.Percent, resp.Status, after)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !sawProgress {
		t.Error("the status never showed a render part done")
	}
	resp, b := s.call(t, http.MethodGet, "/video", s.student)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/mp4" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "fractions-week-3-") {
		t.Fatalf("the video: %s %v", resp.Status, resp.Header)
	}
	path := filepath.Join(t.TempDir(), "v.mp4")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", path).Output(); err != nil ||
		!strings.Contains(string(out), "h264") || !strings.Contains(string(out), "aac") {
		t.Fatalf("ffprobe of the download: %q %v", out, err)
	}

	// The WebM as well, asked for on its own, with a status of its own.
	if st := s.statusOf(t, s.student, "webm"); st.State != lessonvideo.StateNone {
		t.Fatalf("the WebM before it was asked for: %+v", st)
	}
	if resp, b := s.call(t, http.MethodPost, "/video?format=avi", s.teacher); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("an unknown format: %s %s", resp.Status, b)
	}
	if resp, b := s.call(t, http.MethodPost, "/video?format=webm", s.teacher); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("the teacher starts a WebM render: %s %s", resp.Status, b)
	}
	for st := s.statusOf(t, s.student, "webm"); st.State != lessonvideo.StateDone; st = s.statusOf(t, s.student, "webm") {
		if st.State != lessonvideo.StateQueued && st.State != lessonvideo.StateRendering || time.Now().After(deadline) {
			t.Fatalf("the WebM render: %+v", st)
		}
		if mp4 := s.status(t, s.student); mp4.State != lessonvideo.StateDone {
			t.Fatalf("while the WebM renders the MP4 is %+v", mp4)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, b = s.call(t, http.MethodGet, "/video?format=webm", s.student)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/webm" ||
		!strings.HasSuffix(strings.TrimSuffix(resp.Header.Get("Content-Disposition"), `"`), ".webm") {
		t.Fatalf("the WebM: %s %v", resp.Status, resp.Header)
	}
	path = filepath.Join(t.TempDir(), "v.webm")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", path).Output(); err != nil ||
		!strings.Contains(string(out), "vp9") || !strings.Contains(string(out), "opus") {
		t.Fatalf("ffprobe of the WebM download: %q %v", out, err)
	}
}

// TestVideoMatchesReplayCanvas renders the scripted lesson and compares the
// board of the video with the replay page's board canvas in Chromium at two
// moments: the replay and the video must agree on what the board looked
// like (tolerances: lessonvideo.Compare).
func TestVideoMatchesReplayCanvas(t *testing.T) {
	s := startVideoSite(t)
	if resp, b := s.call(t, http.MethodPost, "/video", s.teacher); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start the render: %s %s", resp.Status, b)
	}
	for st := s.status(t, s.teacher); st.State != lessonvideo.StateDone; st = s.status(t, s.teacher) {
		if st.State == lessonvideo.StateFailed {
			t.Fatalf("the render: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, mp4 := s.call(t, http.MethodGet, "/video", s.teacher)
	path := filepath.Join(t.TempDir(), "v.mp4")
	if err := os.WriteFile(path, mp4, 0o600); err != nil {
		t.Fatal(err)
	}
	layout := lessonvideo.NewLayout(1280, 720) // the renderer's default
	board := layout.Board

	b := browser(t)
	page := newTab(t, b, "replay")
	if err := chromedp.Do(page.ctx, chromedp.EmulateViewport(1920, 1080),
		chromedp.Navigate(s.srv.URL+"/lessons/"+s.lesson.ID.String()+"/replay#token="+s.teacher)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the replay page to load", func() bool {
		ok, err := try[bool](page, `!!(window.replay && window.replay.ready)`)
		return err == nil && ok
	})
	for _, m := range []time.Time{s.lesson.Moments[3], s.lesson.Moments[4]} {
		eval[bool](page, fmt.Sprintf(`window.replay.seek(%f).then(() => true)`, m.Sub(s.lesson.Created).Seconds()))
		waitUntil(t, 10*time.Second, "the slide's image to load", func() bool {
			return eval[bool](page, `!!window.replay.board.raster.background?.ready`)
		})
		// The replay's board at the size of the video's board, so that
		// neither picture is resampled.
		w, h := board.Dx(), board.Dy()
		eval[bool](page, fmt.Sprintf(`(() => {
			const b = document.getElementById("board");
			b.style.flex = "none";
			b.style.width = (%d + b.offsetWidth - b.clientWidth) + "px";
			b.style.height = (%d + b.offsetHeight - b.clientHeight) + "px";
			return true;
		})()`, w, h))
		waitUntil(t, 10*time.Second, "the board's canvas to take the video's size", func() bool {
			size := eval[[]int](page, `(() => { const r = window.replay.board.raster; r.pixel(0, 0); return [r.canvas.width, r.canvas.height, r.cache.canvas.width]; })()`)
			return size[0] == w && size[1] == h && size[2] == w
		})
		canvas := canvasImage(t, page, `window.replay.board.raster.canvas`, w, h)
		at := m.Sub(s.lesson.RecordingStart)

		// The video's frame.
		frame := videotest.Frame(t, path, at, layout.Width, layout.Height)
		inFrame := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(inFrame, inFrame.Bounds(), frame, board.Min, draw.Src)
		diff := lessonvideo.Compare(canvas, inFrame, inFrame.Bounds())
		t.Logf("at %v the replay's canvas and the video: %s", at, diff)
		if !diff.Within() {
			t.Errorf("at %v the replay's board and the video's differ: %s", at, diff)
		}

		// The fold's state at that moment painted by the video's rasterizer.
		st, err := lessonlog.Seek(context.Background(), s.store, s.lesson.ID, timeline.AtOffset(m.Sub(s.lesson.Created)))
		if err != nil {
			t.Fatal(err)
		}
		pg, err := s.store.Page(context.Background(), s.lesson.ID, st.Slide.Deck, st.Slide.Page)
		if err != nil {
			t.Fatal(err)
		}
		slide, _, err := image.Decode(bytes.NewReader(pg.Data))
		if err != nil {
			t.Fatal(err)
		}
		painter, err := lessonvideo.NewBoardPainter()
		if err != nil {
			t.Fatal(err)
		}
		painted := image.NewRGBA(image.Rect(0, 0, w, h))
		painter.Paint(painted, painted.Bounds(), st.Board(st.Slide), lessonvideo.FitSlide(slide, w, h))
		diff = lessonvideo.Compare(canvas, painted, painted.Bounds())
		t.Logf("at %v the replay's canvas and the video's rasterizer: %s", at, diff)
		if !diff.Within() {
			t.Errorf("at %v the replay's board and the video's rasterizer differ: %s", at, diff)
		}
	}
}

// canvasImage reads a canvas of the page, drawn at w × h.
func canvasImage(t *testing.T, page *tab, canvas string, w, h int) *image.RGBA {
	t.Helper()
	data := eval[string](page, fmt.Sprintf(`(() => {
		const src = %s;
		const c = document.createElement("canvas");
		c.width = %d; c.height = %d;
		const x = c.getContext("2d");
		x.imageSmoothingQuality = "high";
		x.drawImage(src, 0, 0, c.width, c.height);
		const d = x.getImageData(0, 0, c.width, c.height).data;
		let s = "";
		for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode.apply(null, d.subarray(i, i + 8192));
		return btoa(s);
	})()`, canvas, w, h))
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	if len(raw) != len(img.Pix) {
		t.Fatalf("the canvas has %d bytes, want %d", len(raw), len(img.Pix))
	}
	copy(img.Pix, raw)
	return img
}

// TestLessonVideoPages: the teacher asks for the video on the replay page,
// which shows the render's progress and then a download link; "Your
// lessons" on the home page shows the same link.
func TestLessonVideoPages(t *testing.T) {
	s := startVideoSite(t)
	b := browser(t)
	page := newTab(t, b, "replay")
	if err := chromedp.Do(page.ctx, chromedp.Navigate(s.srv.URL+"/lessons/"+s.lesson.ID.String()+"/replay#token="+s.teacher)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the replay page to offer to make a video", func() bool {
		v, err := try[string](page, `document.querySelector("#video button")?.textContent || ""`)
		return err == nil && v == "Make a video"
	})
	eval[bool](page, `(document.querySelector("#video button").click(), true)`)
	var states []string
	waitUntil(t, 2*time.Minute, "the replay page to offer the video", func() bool {
		st := eval[string](page, `document.getElementById("video").dataset.state || ""`)
		shown := st + ": " + eval[string](page, `document.getElementById("video").textContent`)
		if len(states) == 0 || states[len(states)-1] != shown {
			states = append(states, shown)
		}
		return st == "done"
	})
	t.Logf("the replay page showed %q", states)
	rendering := false
	for _, st := range states {
		if strings.HasPrefix(st, "rendering: Video: ") && strings.Contains(st, "%") {
			rendering = true
		}
	}
	if !rendering {
		t.Errorf("the replay page never showed the render's percent: %q", states)
	}
	href := eval[string](page, `document.querySelector("#video a").href`)
	if link := eval[string](page, `document.querySelector("#video a").textContent`); !strings.HasPrefix(link, "Download video (") {
		t.Errorf("the download link says %q", link)
	}
	resp, err := http.Get(href)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("the page's download link: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}

	// "Your lessons" on a device that joined as the student.
	home := newTab(t, b, "home")
	entry, _ := json.Marshal(map[string]string{"id": s.lesson.ID.String(), "title": "Fractions, week 3",
		"created": s.lesson.Created.Format(time.RFC3339), "url": "/lessons/" + s.lesson.ID.String() + "#token=" + s.student,
		"expires": time.Now().Add(time.Hour).Format(time.RFC3339), "role": "student"})
	if err := chromedp.Do(home.ctx, chromedp.Navigate(s.srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	eval[bool](home, fmt.Sprintf(`(localStorage.setItem("classroom:my-lessons", JSON.stringify([%s])), location.reload(), true)`, entry))
	waitUntil(t, 30*time.Second, "Your lessons to offer the video", func() bool {
		v, err := try[string](home, `document.querySelector("#mine .videofile a")?.textContent || ""`)
		return err == nil && strings.HasPrefix(v, "Download video (")
	})
}
