package lessonvideo_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/lessonvideo"
	"classroom/lessonvideo/videotest"
)

// childDir, when set, makes TestRendererChild a render server that the
// kill test kills.
const childDir = "LESSONVIDEO_RENDERER_CHILD"

// TestRendererChild renders the lesson named by the environment until it is
// killed; it is the server TestRendererSurvivesKill kills.
func TestRendererChild(t *testing.T) {
	dir := os.Getenv(childDir)
	if dir == "" {
		t.Skip("run by TestRendererSurvivesKill") // not a test on its own
	}
	store, err := eventstore.OpenSQLite(context.Background(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r, err := lessonvideo.NewRenderer(rendererConfig(store, dir, "veryslow"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start(uuid.MustParse(os.Getenv(childDir+"_LESSON")), lessonvideo.FormatMP4); err != nil {
		t.Fatal(err)
	}
	r.Run(context.Background()) // until killed
}

func rendererConfig(store *eventstore.SQLite, dir, preset string) lessonvideo.RendererConfig {
	return lessonvideo.RendererConfig{
		Source:  lessonvideo.Source{Store: store, Decks: store, Recordings: filepath.Join(dir, "recordings")},
		Dir:     filepath.Join(dir, "videos"),
		Options: lessonvideo.Options{Width: 640, Height: 360, Preset: preset},
		Scan:    -1,
		Logger:  slog.New(slog.DiscardHandler),
	}
}

// TestRendererSurvivesKill kills a server (a child process) while it
// renders: no video is offered then, and the next renderer over the same
// directory takes the render up again and finishes a complete file.
func TestRendererSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	store, err := eventstore.OpenSQLite(context.Background(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	l := videotest.Script(t, store, filepath.Join(dir, "recordings"), time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	store.Close()

	child := exec.Command(os.Args[0], "-test.run=^TestRendererChild$", "-test.count=1")
	child.Env = append(os.Environ(), childDir+"="+dir, childDir+"_LESSON="+l.ID.String())
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(dir, "videos", l.ID.String()+".mp4.part")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if fi, err := os.Stat(part); err == nil && fi.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatal("the child never began writing the video")
		}
		time.Sleep(5 * time.Millisecond)
	}
	child.Process.Kill()
	child.Wait()

	store, err = eventstore.OpenSQLite(context.Background(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	r, err := lessonvideo.NewRenderer(rendererConfig(store, dir, "veryfast"))
	if err != nil {
		t.Fatal(err)
	}
	if st := r.Status(l.ID, lessonvideo.FormatMP4); st.State != lessonvideo.StateQueued {
		t.Fatalf("after the kill the render is %q, want queued again", st.State)
	}
	if _, err := r.File(l.ID, lessonvideo.FormatMP4); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("after the kill a video is offered: %v", err)
	}
	if _, err := os.Stat(part); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the interrupted part is still there: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for r.Status(l.ID, lessonvideo.FormatMP4).State != lessonvideo.StateDone {
		if st := r.Status(l.ID, lessonvideo.FormatMP4); st.State == lessonvideo.StateFailed || time.Now().After(deadline) {
			t.Fatalf("the render again: %+v", st)
		}
		// The render may finish between the status and File: a video
		// offered is then one whose status, asked afterwards, is done.
		if _, err := r.File(l.ID, lessonvideo.FormatMP4); err == nil {
			if after := r.Status(l.ID, lessonvideo.FormatMP4); after.State != lessonvideo.StateDone {
				t.Fatalf("a video is offered while it is rendered (status afterwards %+v)", after)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	path, err := r.File(l.ID, lessonvideo.FormatMP4)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe of the finished video: %v", err)
	}
	t.Logf("the video after the kill: %s s", out)
}

// TestRendererDeleteStopsRender deletes a lesson (lessonvideo.Remove, as
// retention.Delete does) while its video renders: the render stops within
// seconds, long before it would have finished, and leaves no file of the
// lesson behind, neither a video nor a part nor a failure.
func TestRendererDeleteStopsRender(t *testing.T) {
	dir := t.TempDir()
	store, err := eventstore.OpenSQLite(context.Background(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	l := videotest.Script(t, store, filepath.Join(dir, "recordings"), time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	r, err := lessonvideo.NewRenderer(rendererConfig(store, dir, "veryslow"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if _, err := r.Start(l.ID, lessonvideo.FormatMP4); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for st := r.Status(l.ID, lessonvideo.FormatMP4); st.State != lessonvideo.StateRendering || st.Percent == 0; st = r.Status(l.ID, lessonvideo.FormatMP4) {
		if st.State == lessonvideo.StateDone || st.State == lessonvideo.StateFailed || time.Now().After(deadline) {
			t.Fatalf("waiting for the render to be under way: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	videos := filepath.Join(dir, "videos")
	if err := lessonvideo.Remove(videos, l.ID); err != nil {
		t.Fatal(err)
	}
	removed := time.Now()
	for st := r.Status(l.ID, lessonvideo.FormatMP4); st.State != lessonvideo.StateNone; st = r.Status(l.ID, lessonvideo.FormatMP4) {
		if time.Since(removed) > 20*time.Second {
			t.Fatalf("20 s after the lesson's deletion its render is %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("the render stopped %v after the deletion", time.Since(removed).Round(time.Millisecond))
	left, err := filepath.Glob(filepath.Join(videos, l.ID.String()+"*"))
	if err != nil || len(left) > 0 {
		t.Fatalf("after the deletion the lesson's files are still there: %v %v", left, err)
	}
}

// TestRendererTakesUpALongQueue starts a renderer over a directory in which
// a previous one left more videos queued than a queue takes from Start:
// all of them are queued again, and starting does not wait for a render.
// Every tenth was queued as older servers named an MP4's (<lesson>.queued):
// it is renamed as the renderer names it.
func TestRendererTakesUpALongQueue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "videos")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	left := make([]uuid.UUID, 1100)
	for i := range left {
		left[i] = uuid.New()
		name := left[i].String() + ".mp4.queued"
		if i%10 == 0 {
			name = left[i].String() + ".queued"
		}
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	made := make(chan *lessonvideo.Renderer, 1)
	go func() {
		r, err := lessonvideo.NewRenderer(lessonvideo.RendererConfig{Dir: dir, Scan: -1, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Error(err)
		}
		made <- r
	}()
	var r *lessonvideo.Renderer
	select {
	case r = <-made:
	case <-time.After(10 * time.Second):
		t.Fatal("NewRenderer did not return with 1,100 videos left queued")
	}
	if r == nil {
		return
	}
	for _, id := range left {
		if st := r.Status(id, lessonvideo.FormatMP4); st.State != lessonvideo.StateQueued {
			t.Fatalf("video of %s left queued: %+v after a restart", id, st)
		}
		if _, err := os.Stat(filepath.Join(dir, id.String()+".mp4.queued")); err != nil {
			t.Fatalf("video of %s left queued: %v", id, err)
		}
	}
	if old, _ := filepath.Glob(filepath.Join(dir, "*-*-*-*-????????????.queued")); len(old) > 0 {
		t.Fatalf("%d files keep the older name, such as %s", len(old), filepath.Base(old[0]))
	}
	_, err := r.Start(uuid.New(), lessonvideo.FormatMP4)
	var derr *domain.Error
	if !errors.As(err, &derr) || derr.Code != domain.CodeRateLimited {
		t.Fatalf("one more video with 1,100 waiting: %v, want rate_limited", err)
	}
}
