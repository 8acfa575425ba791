package lessonlog

import (
	"context"

	"classroom/domain"
	"classroom/eventstore"
)

// Recording says whether a stored lesson is being recorded after its event
// l.LastSeq, l being what store.Lesson returned: the State.Recording of the
// fold of the whole log up to l.LastSeq (what a Seek there gives, its
// snapshots being that fold's). It reads
// instead the lesson's last recording event up to l.LastSeq (one indexed
// read, however long the log) and whether it has ended (l.Ended, which the
// store sets in the transaction that appends the lesson.ended and moves
// l.LastSeq past it), and lets domain.IsRecording say what the fold would.
func Recording(ctx context.Context, store eventstore.Store, l eventstore.Lesson) (bool, error) {
	last, err := store.LastRecordingKind(ctx, l.ID, l.LastSeq)
	if err != nil {
		return false, err
	}
	return domain.IsRecording(last, !l.Ended.IsZero()), nil
}
