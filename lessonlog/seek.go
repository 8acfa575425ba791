package lessonlog

import (
	"context"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/domain/timeline"
	"classroom/eventstore"
)

// Seek returns a stored lesson's state at a position, starting from the
// latest snapshot at or before it and folding the events after that snapshot
// (timeline.StateAt): never from the start when a snapshot is there. By time,
// it first looks for the sequence to start from (timeline.SeqAt), one
// indexed read of an event's time a probe, to the exact sequence: so a seek
// by time starts from the same snapshot, and folds the same events, as a
// seek to that sequence, up to domain.SnapshotEvery of them (the distance
// between the snapshots a live room and an import store). Stopping the
// search a few events short could start it a whole interval earlier, when
// a snapshot lies between.
func Seek(ctx context.Context, store eventstore.Store, lesson uuid.UUID, to timeline.Position) (*domain.State, error) {
	if err := to.Check(); err != nil {
		return nil, err
	}
	l, err := store.Lesson(ctx, lesson)
	if err != nil {
		return nil, err
	}
	before := to.Seq
	if to.ByTime {
		before, err = timeline.SeqAt(ctx, l.LastSeq, 0, l.Created, to.Offset,
			func(ctx context.Context, seq int64) (time.Time, error) { return store.EventTime(ctx, lesson, seq) })
		if err != nil {
			return nil, err
		}
	} else if before > l.LastSeq {
		return nil, domain.Errorf(domain.CodeNotFound, "lesson %s has %d events, not %d", lesson, l.LastSeq, to.Seq)
	}
	var snap []byte
	after := int64(0)
	s, err := store.LatestSnapshot(ctx, lesson, before)
	switch {
	case err == nil:
		snap, after = s.State, s.Seq
	case domain.ErrorCode(err) != domain.CodeNotFound:
		return nil, err
	}
	return timeline.StateAt(snap, store.Events(ctx, lesson, after), to)
}
