package recorder

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ListRecordings returns the recordings in a lesson's directory, by start
// time, with their sizes. A directory that does not exist holds none.
// Manifests that cannot be read, or whose file is missing, are left out,
// and said so in the error returned beside the others.
func ListRecordings(dir string) ([]Recording, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("recorder: list recordings: %w", err)
	}
	var (
		out  []Recording
		errs []error
	)
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, fmt.Errorf("recorder: manifest %s: %w", e.Name(), err))
			continue
		}
		var r Recording
		if err := json.Unmarshal(b, &r); err != nil {
			errs = append(errs, fmt.Errorf("recorder: manifest %s: %w", e.Name(), err))
			continue
		}
		if base := strings.TrimSuffix(e.Name(), ".json"); r.File != base+".webm" && r.File != base+".mkv" {
			errs = append(errs, fmt.Errorf("recorder: manifest %s names another file, %q", e.Name(), r.File))
			continue
		}
		st, err := os.Stat(filepath.Join(dir, r.File))
		if err != nil {
			errs = append(errs, fmt.Errorf("recorder: recording %s: %w", r.File, err))
			continue
		}
		r.Size = st.Size()
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Recording) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.File, b.File)
	})
	return out, errors.Join(errs...)
}
