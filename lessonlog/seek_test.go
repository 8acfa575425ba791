package lessonlog_test

import (
	"bytes"
	"context"
	"io"
	"iter"
	"log/slog"
	"testing"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/domain/timeline"
	"classroom/domain/timeline/timelinetest"
	"classroom/eventstore"
	"classroom/lessonlog"
)

// readCounter counts the events a store's readers take from Events.
type readCounter struct {
	eventstore.Store
	read int
}

func (s *readCounter) Events(ctx context.Context, lesson uuid.UUID, after int64) iter.Seq2[domain.Event, error] {
	return func(yield func(domain.Event, error) bool) {
		for e, err := range s.Store.Events(ctx, lesson, after) {
			s.read++
			if !yield(e, err) {
				return
			}
		}
	}
}

// TestSeekByTimeFoldsLittle: a seek by time reaches the state a seek to the
// same sequence does, and reads the same events (and the one after, that
// shows the position is passed), even just after a snapshot, where a search
// that stopped a few events short could start a whole interval earlier.
func TestSeekByTimeFoldsLittle(t *testing.T) {
	ctx := context.Background()
	store, err := eventstore.OpenSQLite(ctx, t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	every := domain.SnapshotEvery
	var events []domain.Event
	for e, err := range timelinetest.Lesson(3, 2*every+every/2, 4) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	var file bytes.Buffer
	if _, err := timeline.WriteNDJSON(&file, func(yield func(domain.Event, error) bool) {
		for _, e := range events {
			if !yield(e, nil) {
				return
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := timeline.Import(ctx, bytes.NewReader(file.Bytes()), lessonlog.ImportTarget(store), timeline.Limits{}); err != nil {
		t.Fatal(err)
	}
	lesson, start := events[0].Lesson, events[0].Time
	counter := &readCounter{Store: store}
	for _, seq := range []int{2, every - 1, every + 1, every + 50, 2*every - 1, 2*every + 30, len(events) - 1} {
		counter.read = 0
		bySeq, err := lessonlog.Seek(ctx, counter, lesson, timeline.AtSeq(int64(seq)))
		if err != nil {
			t.Fatal(err)
		}
		folded := counter.read
		counter.read = 0
		byTime, err := lessonlog.Seek(ctx, counter, lesson, timeline.AtOffset(events[seq-1].Time.Sub(start)))
		if err != nil {
			t.Fatal(err)
		}
		if byTime.Seq != int64(seq) || byTime.Hash() != bySeq.Hash() {
			t.Fatalf("seek to the time of event %d: state at %d, hash %s; by sequence %s", seq, byTime.Seq, byTime.Hash(), bySeq.Hash())
		}
		if counter.read > folded+1 {
			t.Errorf("seek to the time of event %d read %d events, by sequence %d", seq, counter.read, folded)
		}
	}
}
