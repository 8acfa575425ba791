package domain_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"classroom/domain"
	"classroom/domain/timeline/timelinetest"
)

// generated folds a generated lesson of n events with strokes of 12 points
// a part and returns its snapshot.
func generated(tb testing.TB, n int) []byte {
	tb.Helper()
	s := domain.NewState()
	for e, err := range timelinetest.Lesson(42, n, 12) {
		if err != nil {
			tb.Fatal(err)
		}
		s.Apply(e)
	}
	b, err := s.MarshalSnapshot()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestRestoreSnapshotLarge restores a generated lesson's snapshot and
// encodes it again: the same bytes, the same as encoding/json's decoding of
// it gives, and the same as json.Marshal of the state.
func TestRestoreSnapshotLarge(t *testing.T) {
	n := 30000
	if testing.Short() {
		n = 3000
	}
	snap := generated(t, n)
	s, err := domain.RestoreSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.MarshalSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, snap) {
		t.Fatalf("a %d-byte snapshot does not survive a restore", len(snap))
	}
	ref := domain.NewState()
	if err := json.Unmarshal(snap, ref); err != nil {
		t.Fatal(err)
	}
	if ref.Hash() != s.Hash() {
		t.Fatal("RestoreSnapshot and encoding/json restore different states")
	}
	viaJSON, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(viaJSON, snap) {
		t.Fatal("MarshalSnapshot differs from json.Marshal")
	}
	// Boards encode by hand, json.Marshal(s) included: hold each to
	// encoding/json's reflection.
	type plainObject domain.Object
	type plainBoard struct {
		Objects []*plainObject             `json:"objects"`
		History map[string]*domain.History `json:"history"`
	}
	for k, bd := range s.Boards {
		ref := plainBoard{History: bd.History}
		for _, o := range bd.Objects {
			ref.Objects = append(ref.Objects, (*plainObject)(o))
		}
		want, err := json.Marshal(ref)
		if err != nil {
			t.Fatal(err)
		}
		got, err := bd.MarshalJSON()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("board %s encodes unlike encoding/json (%v)", k, err)
		}
	}
	t.Logf("%d events: a %d-byte snapshot", n, len(snap))
}

// BenchmarkRestoreSnapshot decodes the snapshot of a generated lesson of
// 100,000 events (about 25 MB, as in web's BenchmarkSeek), with
// RestoreSnapshot and, as the baseline, with encoding/json alone.
func BenchmarkRestoreSnapshot(b *testing.B) {
	snap := generated(b, 100000)
	b.Logf("a %d-byte snapshot", len(snap))
	b.Run("RestoreSnapshot", func(b *testing.B) {
		b.SetBytes(int64(len(snap)))
		for b.Loop() {
			if _, err := domain.RestoreSnapshot(snap); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(snap)))
		for b.Loop() {
			if err := json.Unmarshal(snap, domain.NewState()); err != nil {
				b.Fatal(err)
			}
		}
	})
	s, err := domain.RestoreSnapshot(snap)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("MarshalSnapshot", func(b *testing.B) {
		b.SetBytes(int64(len(snap)))
		for b.Loop() {
			if _, err := s.MarshalSnapshot(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
