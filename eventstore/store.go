// Package eventstore persists lessons' event logs: it appends events with a
// gap-free per-lesson sequence number, reads them back as a stream, keeps
// snapshots of lesson state and uploaded slide decks, and wakes waiters when
// a lesson's log grows. It knows the event envelope and the payload encoding
// from domain, but never the lesson rules: it checks that what it stores is
// well formed, not that it is allowed, and it must never call back into
// realtime, web or lessonlog.
//
// Two implementations share one contract and one conformance suite: Postgres
// (jackc/pgx, for one or many server nodes on a shared database) and SQLite
// (modernc.org/sqlite, the zero-set-up default for a single process). Both
// batch concurrent appends into one transaction (group commit) and return from
// Append only after that transaction has committed.
package eventstore

import (
	"context"
	"iter"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
)

// Lesson is a lesson's entry in the store.
type Lesson struct {
	ID      uuid.UUID
	Title   string
	Created time.Time
	Ended   time.Time // zero while the lesson has not ended
	LastSeq int64
	// Invitation is the students' link the teacher was given last (see
	// SetInvitation); uuid.Nil while none was recorded.
	Invitation uuid.UUID
}

// Snapshot is an encoded lesson state after the event of sequence Seq.
type Snapshot struct {
	Lesson uuid.UUID
	Seq    int64
	State  []byte
}

// ListOptions pages through lessons, newest first.
type ListOptions struct {
	Limit  int       // at most this many; 0 or more than MaxList means MaxList
	Before time.Time // only lessons created before this time, when not zero
}

// MaxList is the most lessons one List call returns.
const MaxList = 500

// ReadPage is the number of events one keyset-bounded query reads.
const ReadPage = 2000

// Store is an event store. Every method is safe for concurrent use.
type Store interface {
	// Append stores events at the end of their lessons' logs and returns the
	// sequence number of each, in order. Each event is appended on its own:
	// they may belong to different lessons, and one refused event does not
	// refuse the others, so errs[i] reports events[i] and seqs[i] is 0 when
	// errs[i] is not nil. A lesson.created event creates its lesson (sequence
	// 1, CodeConflict when the lesson exists); any other event needs its
	// lesson to exist (CodeNotFound). Event ids are unique within a lesson:
	// an event whose id its lesson holds already returns its original
	// sequence and writes nothing, so a resend is harmless. Malformed or
	// oversized events are refused with CodeInvalid. Append returns only
	// after the events are committed; err reports a failure of the store as a
	// whole: then no event is acknowledged, some may have been stored, and
	// sending them all again is safe. Events decided one on top of the
	// other go through AppendDecided instead.
	Append(ctx context.Context, events ...domain.Event) (seqs []int64, errs []error, err error)

	// AppendDecided appends events that their appender decided one on top
	// of the other, each on the state of its lesson that the ones before it
	// left, as Append does but for one rule: each event's Seq is the
	// sequence it was decided at, which must be the one its lesson's log
	// gives next. An event whose Seq is not is refused as stale
	// (CodeUnavailable; IsStale reports it), and nothing of it is stored:
	// it was decided on a state the log does not hold. So once an event of
	// a lesson is refused, for whatever reason, none of the later events of
	// the same lesson in the call, each decided at the sequence after the
	// one before it, is stored: they are refused as stale (one after an
	// event refused as malformed is, whatever its Seq), or with the same
	// refusal where it holds for them too (no such lesson), while other
	// lessons' events are appended on their own. An event without a Seq is
	// refused with CodeInvalid. A resend of a stored event (an id its
	// lesson holds) is answered with its original sequence wherever it
	// stands, and writes nothing: the events after it, decided on top of a
	// second copy, are then stale. Failures of the store as a whole are
	// reported as by Append.
	AppendDecided(ctx context.Context, events ...domain.Event) (seqs []int64, errs []error, err error)

	// Events streams a lesson's events with sequence numbers above after, in
	// order, up to the last one committed when the stream reaches it. It
	// reads in bounded pages of ReadPage events, never the whole log at once.
	// An unknown lesson yields a CodeNotFound error.
	Events(ctx context.Context, lesson uuid.UUID, after int64) iter.Seq2[domain.Event, error]

	// EventTime returns the time of a lesson's event of sequence seq, one
	// indexed read: seeking a past lesson by time searches on it.
	// CodeNotFound when the lesson has no such event.
	EventTime(ctx context.Context, lesson uuid.UUID, seq int64) (time.Time, error)

	// LastRecordingKind returns the kind of the lesson's last
	// recording.started or recording.stopped event of sequence upto or
	// before, KindRecordingStarted or KindRecordingStopped, or "" when it
	// has none (and for an unknown lesson): one read of an index that holds
	// only those events, whose cost does not grow with the log.
	// domain.IsRecording turns it into whether the lesson is being recorded.
	LastRecordingKind(ctx context.Context, lesson uuid.UUID, upto int64) (domain.Kind, error)

	// Lookup returns the sequence of each of ids that the lesson's log
	// holds, one indexed read for them all; ids it does not hold are absent
	// from the map. A resend of a command is answered from it: the event it
	// became, if any. An unknown lesson gives an empty map.
	Lookup(ctx context.Context, lesson uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]int64, error)

	// Lesson returns one lesson; CodeNotFound when there is none.
	Lesson(ctx context.Context, id uuid.UUID) (Lesson, error)

	// Lessons lists lessons, newest first.
	Lessons(ctx context.Context, opts ListOptions) ([]Lesson, error)

	// SetInvitation records the students' link (its invitation id) the
	// lesson's teacher was given last, which replaces every earlier one.
	// CodeNotFound when there is no such lesson, CodeInvalid for uuid.Nil.
	SetInvitation(ctx context.Context, lesson, invitation uuid.UUID) error

	// SaveSnapshot keeps a snapshot; saving the same sequence again replaces
	// it. The lesson must exist and the sequence must not be past its end.
	SaveSnapshot(ctx context.Context, s Snapshot) error

	// LatestSnapshot returns the snapshot with the highest sequence not above
	// atOrBefore (any, when atOrBefore is 0 or less); CodeNotFound when none.
	LatestSnapshot(ctx context.Context, lesson uuid.UUID, atOrBefore int64) (Snapshot, error)

	// Wait blocks until the lesson's last sequence is above after, and returns
	// it, or until ctx is done. Appends by other processes sharing the
	// database wake it too, where the implementation supports them.
	Wait(ctx context.Context, lesson uuid.UUID, after int64) (int64, error)

	// Ping checks that the store can serve requests.
	Ping(ctx context.Context) error

	// Close stops accepting appends, commits those already queued, and
	// releases the store's resources.
	Close() error
}
