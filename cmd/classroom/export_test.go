package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/domain/timeline"
	"classroom/domain/timeline/timelinetest"
	"classroom/eventstore"
	"classroom/lessonlog"
)

// runBinary runs the built classroom with args and the environment given,
// and returns its exit code, stdout and stderr.
func runBinary(t *testing.T, stdin []byte, env []string, args ...string) (int, string, string) {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// storeHash folds a stored lesson.
func storeHash(t *testing.T, cfg eventstore.Config, lesson string) string {
	t.Helper()
	s, err := eventstore.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id, err := uuid.Parse(lesson)
	if err != nil {
		t.Fatal(err)
	}
	st := domain.NewState()
	for e, err := range s.Events(context.Background(), id, 0) {
		if err != nil {
			t.Fatal(err)
		}
		st.Apply(e)
	}
	return st.Hash()
}

// TestExportImportCommands exports a lesson from an embedded store with the
// built binary in every format, and imports it into another embedded store
// and into PostgreSQL, from a file and from standard input.
func TestExportImportCommands(t *testing.T) {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal("DATABASE_URL is not set: run the tests through scripts/test, which starts a throwaway PostgreSQL, or point DATABASE_URL at one")
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	src := t.TempDir()
	store, err := eventstore.OpenSQLite(context.Background(), src, quiet)
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if _, err := timeline.WriteNDJSON(&file, timelinetest.Lesson(21, 3000, 6)); err != nil {
		t.Fatal(err)
	}
	res, err := timeline.Import(context.Background(), bytes.NewReader(file.Bytes()), lessonlog.ImportTarget(store), timeline.Limits{})
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	lesson := res.Lesson
	noPG := []string{"DATABASE_URL="}
	out := t.TempDir()

	for _, format := range []string{"json", "ndjson", "csv", "chapters.vtt", "chat.vtt"} {
		path := filepath.Join(out, "lesson."+format)
		code, _, stderr := runBinary(t, nil, noPG, "export", "-data", src, "-lesson", lesson, "-format", format, "-o", path)
		if code != 0 || !strings.Contains(stderr, "exported 3000 / 3000 events") {
			t.Fatalf("export %s: exit %d\n%s", format, code, stderr)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
			t.Fatalf("export %s wrote nothing: %v", format, err)
		}
	}
	code, stdout, stderr := runBinary(t, nil, noPG, "export", "-data", src, "-lesson", lesson, "-format", "csv", "-o", "-")
	if code != 0 || strings.Count(stdout, "\n") < 3001 || !strings.HasPrefix(stdout, "offset,time,seq,") {
		t.Fatalf("export to stdout: exit %d, %d lines\n%s", code, strings.Count(stdout, "\n"), stderr)
	}
	code, stdout, stderr = runBinary(t, nil, noPG, "export", "-data", src, "-lesson", lesson, "-format", "attendance.csv", "-o", "-")
	if code != 0 || !strings.HasPrefix(stdout, strings.Join(timeline.AttendanceColumns, ",")+"\n") || strings.Count(stdout, "\n") < 2 {
		t.Fatalf("attendance to stdout: exit %d\n%s\n%s", code, stdout, stderr)
	}
	svgDir := filepath.Join(out, "boards")
	if code, _, stderr := runBinary(t, nil, noPG, "export", "-data", src, "-lesson", lesson, "-format", "svg", "-o", svgDir); code != 0 {
		t.Fatalf("export svg: exit %d\n%s", code, stderr)
	}
	if svgs, _ := filepath.Glob(filepath.Join(svgDir, "*.svg")); len(svgs) < 3 {
		t.Fatalf("%d SVG files", len(svgs))
	}

	// Into another embedded store, from a file; then again: a conflict.
	dst := t.TempDir()
	for _, format := range []string{"json", "ndjson"} {
		dst := filepath.Join(dst, format)
		code, stdout, stderr := runBinary(t, nil, noPG, "import", "-data", dst, "-i", filepath.Join(out, "lesson."+format))
		if code != 0 || !strings.Contains(stdout, "imported lesson "+lesson) || !strings.Contains(stderr, "imported 3000 / 3000 events") {
			t.Fatalf("import %s: exit %d\n%s\n%s", format, code, stdout, stderr)
		}
		if got := storeHash(t, eventstore.Config{DataDir: dst, Logger: quiet}, lesson); got != res.StateHash {
			t.Fatalf("import %s: state %s, want %s", format, got, res.StateHash)
		}
		code, _, stderr = runBinary(t, nil, noPG, "import", "-data", dst, "-i", filepath.Join(out, "lesson."+format))
		if code != 1 || !strings.Contains(stderr, "exists already") {
			t.Fatalf("second import %s: exit %d\n%s", format, code, stderr)
		}
	}

	// Into PostgreSQL, from standard input.
	json, err := os.ReadFile(filepath.Join(out, "lesson.json"))
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runBinary(t, json, []string{"DATABASE_URL=" + url}, "import", "-i", "-")
	if code != 0 || !strings.Contains(stdout, "imported lesson "+lesson) {
		t.Fatalf("import from stdin into PostgreSQL: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := storeHash(t, eventstore.Config{DatabaseURL: url, Logger: quiet}, lesson); got != res.StateHash {
		t.Fatalf("PostgreSQL import: state %s, want %s", got, res.StateHash)
	}

	// Bad input: a clear error and exit 1.
	code, _, stderr = runBinary(t, json[:len(json)/3], noPG, "import", "-data", t.TempDir(), "-i", "-")
	if code != 1 || !strings.Contains(stderr, "truncated") {
		t.Fatalf("truncated import: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := runBinary(t, nil, noPG, "export", "-data", src, "-lesson", lesson, "-format", "pdf", "-o", "-"); code != 1 || !strings.Contains(stderr, "unknown export format") {
		t.Fatalf("unknown format: exit %d\n%s", code, stderr)
	}

	// Deleted: refused while the lesson goes on, then gone with its
	// recordings once it has ended.
	if code, _, stderr := runBinary(t, nil, noPG, "delete", "-data", src, "-lesson", lesson); code != 1 || !strings.Contains(stderr, "end the lesson before deleting it") {
		t.Fatalf("deleting a lesson not ended: exit %d\n%s", code, stderr)
	}
	store, err = eventstore.OpenSQLite(context.Background(), src, quiet)
	if err != nil {
		t.Fatal(err)
	}
	end := domain.Event{ID: uuid.New(), Lesson: uuid.MustParse(lesson), Version: domain.EventVersion, Actor: "teacher",
		Role: domain.RoleTeacher, Time: time.Now().UTC().Truncate(time.Microsecond), Payload: &domain.LessonEnded{}}
	if _, errs, err := store.Append(context.Background(), end); err != nil || errs[0] != nil {
		t.Fatalf("end the lesson: %v %v", err, errs)
	}
	store.Close()
	recordings := filepath.Join(src, "recordings", lesson)
	if err := os.MkdirAll(recordings, 0o750); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runBinary(t, nil, noPG, "delete", "-data", src, "-lesson", lesson); code != 0 || !strings.Contains(stdout, "deleted lesson "+lesson) {
		t.Fatalf("delete: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(recordings); !os.IsNotExist(err) {
		t.Fatalf("the lesson's recordings after delete: %v", err)
	}
	if code, _, stderr := runBinary(t, nil, noPG, "export", "-data", src, "-lesson", lesson, "-format", "json", "-o", "-"); code != 1 || !strings.Contains(stderr, "no lesson") {
		t.Fatalf("export of a deleted lesson: exit %d\n%s", code, stderr)
	}
}
