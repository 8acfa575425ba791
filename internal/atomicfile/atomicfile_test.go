package atomicfile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"classroom/internal/atomicfile"
)

// TestWrite: a write replaces the file whole with its mode; a failed one
// leaves the old file and no temporary file beside it.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "platforms.json")
	if err := atomicfile.WriteBytes(path, 0o600, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteBytes(path, 0o640, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "new" {
		t.Fatalf("the file holds %q (%v), want new", b, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("the file's mode: %v (%v), want 0640", fi.Mode(), err)
	}
	broken := errors.New("the disk is full")
	err := atomicfile.Write(path, 0o640, func(w io.Writer) error {
		w.Write([]byte("half"))
		return broken
	})
	if !errors.Is(err, broken) {
		t.Fatalf("a failed write returned %v, want %v", err, broken)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Fatalf("a failed write left %q, want the old file", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("a failed write left %d files, want the one", len(entries))
	}
}
