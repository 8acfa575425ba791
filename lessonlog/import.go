package lessonlog

import (
	"context"

	"classroom/domain"
	"classroom/domain/timeline"
	"classroom/eventstore"
)

// ImportTarget lets timeline.Import write into store, saving a snapshot every
// domain.SnapshotEvery events as a live room does.
func ImportTarget(store eventstore.Store) timeline.Target {
	return timeline.Target{
		LastSeq: func(ctx context.Context, created domain.Event) (int64, error) {
			l, err := store.Lesson(ctx, created.Lesson)
			if domain.ErrorCode(err) == domain.CodeNotFound {
				return 0, nil
			}
			return l.LastSeq, err
		},
		Append: store.Append,
		SaveSnapshot: func(ctx context.Context, s *domain.State, encoded []byte) error {
			return store.SaveSnapshot(ctx, eventstore.Snapshot{Lesson: s.Lesson, Seq: s.Seq, State: encoded})
		},
		SnapshotEvery: domain.SnapshotEvery,
	}
}
