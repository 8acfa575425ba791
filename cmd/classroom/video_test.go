package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/lessonvideo/videotest"
	"classroom/realtime/token"
)

// TestVideoCommandSurvivesKill: 'classroom video -start' asks a server for
// a lesson's video; the server is killed (SIGKILL) while it renders, and
// offers no file then; restarted, it renders the lesson again, and
// 'classroom video -o' follows the render and saves a complete file.
func TestVideoCommandSurvivesKill(t *testing.T) {
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	store, err := eventstore.OpenSQLite(context.Background(), data, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := videotest.Script(t, store, filepath.Join(data, "recordings"), time.Now().Add(-time.Hour))
	store.Close()
	key, err := token.LoadOrCreateKey(filepath.Join(data, "token.key"))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := token.NewKeeper(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	teacher, err := tokens.Issue(token.Claims{Lesson: l.ID, Role: domain.RoleTeacher, Participant: "t-ada", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	video := func(addr string, args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"video", "-server", "http://" + addr, "-lesson", l.ID.String(),
			"-token", teacher, "-every", "100ms"}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	addr := freeAddr(t)
	srv := start(t, addr, "-data", data)
	if out, err := video(addr, "-start"); err != nil || !strings.Contains(out, "queued") && !strings.Contains(out, "rendering") {
		t.Fatalf("classroom video -start: %v\n%s", err, out)
	}
	part := filepath.Join(data, "videos", l.ID.String()+".mp4.part")
	final := filepath.Join(data, "videos", l.ID.String()+".mp4")
	deadline := time.Now().Add(time.Minute)
	for {
		if fi, err := os.Stat(part); err == nil && fi.Size() > 0 {
			break
		}
		if _, err := os.Stat(final); err == nil || time.Now().After(deadline) {
			t.Fatal("the server never was seen writing the video, to kill it then")
		}
		time.Sleep(2 * time.Millisecond)
	}
	srv.cmd.Process.Kill()
	<-srv.exited
	if _, err := os.Stat(final); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after the kill a video is there to offer: %v", err)
	}

	srv = start(t, addr, "-data", data)
	out := filepath.Join(t.TempDir(), "lesson.mp4")
	if log, err := video(addr, "-o", out); err != nil {
		t.Fatalf("classroom video -o after the restart: %v\n%s", err, log)
	}
	probe, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name", "-of", "csv=p=0", out).Output()
	if err != nil {
		t.Fatalf("ffprobe of the saved video: %v", err)
	}
	if s := string(probe); !strings.Contains(s, "h264") || !strings.Contains(s, "aac") || !strings.Contains(s, "8.0") {
		t.Fatalf("the saved video: %s", s)
	}
}
