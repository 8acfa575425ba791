// Package atomicfile replaces a file whole: written beside it, synced, then
// renamed over it, so that a reader (a server starting, a player, a script)
// finds the old file or the new one, never a part, and a failed write
// leaves the old file as it was and no file that looks complete. It owns
// nothing but that one step; it never decides where files go.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write replaces the file at path with what write writes, with mode perm.
// The directory must exist. On an error the file at path is untouched and
// the temporary file is gone.
func Write(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	err = write(f)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}

// WriteBytes replaces the file at path with b, as Write does.
func WriteBytes(path string, perm os.FileMode, b []byte) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
