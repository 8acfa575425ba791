package timeline_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"classroom/domain"
	"classroom/domain/timeline"
)

// FuzzImport feeds the import decoder arbitrary bytes: it must never panic or
// hang, every refusal must be a CodeInvalid error, and whatever it accepts
// must export again to a file it reads back as the same events. Run it with
// a short -fuzzminimizetime (go test -fuzz FuzzImport -fuzztime 20s
// -fuzzminimizetime 2s): minimizing an input grown from the 12 KB seeds
// otherwise takes the first minute, and the fuzzer seems to stand still.
func FuzzImport(f *testing.F) {
	events := collect(f, generate(8, 40, 3))
	for i := range logFormats {
		file := export(f, i, events)
		f.Add(file)
		f.Add(file[:len(file)/2])
	}
	f.Add([]byte(`{"format":"classroom-lesson","version":1,"lesson":{"id":"x","title":"t","created":"2026-01-01T00:00:00Z"}}` + "\n" + `{"end":{"events":0,"last_seq":0,"state_hash":""}}`))
	f.Add([]byte(`{"format":"classroom-lesson","version":1,"lesson":{},"events":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := readAll(b, timeline.Limits{MaxBytes: 1 << 20, MaxEvents: 1000})
		if err != nil {
			if domain.ErrorCode(err) != domain.CodeInvalid {
				t.Fatalf("error %v is not invalid", err)
			}
			return
		}
		for i := range logFormats {
			var buf bytes.Buffer
			if _, err := logFormats[i].write(&buf, got); err != nil {
				t.Fatalf("accepted events do not export: %v", err)
			}
			again, err := readAll(buf.Bytes(), timeline.Limits{})
			if err != nil {
				t.Fatalf("re-exported file refused: %v", err)
			}
			if !slices.EqualFunc(got, again, func(a, b domain.Event) bool {
				ja, _ := a.MarshalJSON()
				jb, _ := b.MarshalJSON()
				return bytes.Equal(ja, jb)
			}) {
				t.Fatal("events changed on a second round")
			}
		}
	})
}

// readAll decodes an export whole, checking the state hash as Import does.
func readAll(b []byte, lim timeline.Limits) ([]domain.Event, error) {
	r, err := timeline.NewReader(bytes.NewReader(b), lim)
	if err != nil {
		return nil, err
	}
	var out []domain.Event
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	end, ok := r.End()
	if !ok || fold(out).Hash() != end.StateHash {
		return nil, domain.Errorf(domain.CodeInvalid, "hash differs")
	}
	return out, nil
}
