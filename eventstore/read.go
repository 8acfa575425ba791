package eventstore

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
)

// rawEvent is an event's row as a store reads it. Its data and points may
// be the driver's memory, valid only until the next row is read: event
// decodes them into an event of its own.
type rawEvent struct {
	lesson  uuid.UUID
	seq     int64
	id      uuid.UUID
	version int
	kind    string
	actor   string
	role    string
	at      time.Time
	data    []byte
	points  []byte // a stroke's points stored apart, nil when data holds them (see decodeStored)
}

// event decodes the row. A row that does not decode means the database holds
// something this code did not write: it is reported, not skipped.
func (r *rawEvent) event() (domain.Event, error) {
	p, err := decodeStored(domain.Kind(r.kind), r.data, r.points)
	if err != nil {
		return domain.Event{}, fmt.Errorf("event %d of lesson %s is corrupt: %w", r.seq, r.lesson, err)
	}
	return domain.Event{ID: r.id, Lesson: r.lesson, Seq: r.seq, Version: r.version, Actor: r.actor,
		Role: domain.Role(r.role), Time: r.at.UTC(), Payload: p}, nil
}

// recordingKinds lists, as SQL, the kinds of the events the
// events_recording index holds (migration 00010), spelled as its predicate
// spells them and in its order: a query must name them so for the database
// to use it (SQLite, which this query names the index to, refuses a list
// in another order with "no query solution").
const recordingKinds = "('" + string(domain.KindRecordingStarted) + "', '" + string(domain.KindRecordingStopped) + "')"

// rangeReader reads and decodes a lesson's events with after < seq <= upto:
// a bounded keyset range.
type rangeReader func(ctx context.Context, lesson uuid.UUID, after, upto int64) ([]domain.Event, error)

// readPages streams a lesson's events after a sequence number, one bounded
// keyset range at a time. lastSeq reads the lesson's last sequence (and
// refuses an unknown lesson); readRange reads the events after < seq <=
// upto. When it has read up to the last sequence it looked up, it looks
// once more, so that a stream reaches what was committed while it ran.
//
// While the consumer takes one page's events, the next readAhead pages are
// on their way, each read and decoded by a goroutine of its own, so that
// the database's work, the decoding (most of a long read's CPU) and the
// consumer's overlap on every core; a stream may hold two of the pool's
// connections at once. At most readAhead+1 pages are held at once, and the
// goroutines it starts have ended when the stream returns.
func readPages(ctx context.Context, lesson uuid.UUID, after int64,
	lastSeq func(context.Context, uuid.UUID) (int64, error), readRange rangeReader,
) iter.Seq2[domain.Event, error] {
	return func(yield func(domain.Event, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		after := max(after, 0)
		last, err := lastSeq(ctx, lesson)
		if err != nil {
			yield(domain.Event{}, err)
			return
		}
		var ahead []*prefetch // pages after `after`, in order, up to `fetched`
		fetched := after
		defer func() {
			if len(ahead) > 0 {
				cancel()
				for _, f := range ahead {
					f.wait()
				}
			}
		}()
		fetchAhead := func() {
			for len(ahead) < readAhead && fetched < last {
				upto := min(fetched+ReadPage, last)
				ahead = append(ahead, fetchPage(ctx, lesson, fetched, upto, readRange))
				fetched = upto
			}
		}
		for {
			for after < last {
				upto := min(after+ReadPage, last)
				fetchAhead()
				events, err := ahead[0].wait()
				ahead = ahead[1:]
				if err == nil && int64(len(events)) != upto-after {
					err = fmt.Errorf("lesson %s: %d events where %d..%d should be", lesson, len(events), after+1, upto)
				}
				if err != nil {
					yield(domain.Event{}, err)
					return
				}
				fetchAhead()
				for _, e := range events {
					if !yield(e, nil) {
						return
					}
				}
				after = upto
			}
			newLast, err := lastSeq(ctx, lesson)
			if err != nil {
				yield(domain.Event{}, err)
				return
			}
			if newLast <= last {
				return
			}
			last = newLast
		}
	}
}

// prefetch is a page being read and decoded by its own goroutine.
type prefetch struct {
	done   chan struct{}
	events []domain.Event
	err    error
}

// fetchPage starts reading and decoding the events after < seq <= upto.
func fetchPage(ctx context.Context, lesson uuid.UUID, after, upto int64, readRange rangeReader) *prefetch {
	f := &prefetch{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.events, f.err = readRange(ctx, lesson, after, upto)
	}()
	return f
}

// wait returns the page once it is read and decoded.
func (f *prefetch) wait() ([]domain.Event, error) {
	<-f.done
	return f.events, f.err
}

// readAhead is the pages a stream reads ahead of its consumer.
const readAhead = 2

// lessonColumns are the lessons columns a Lesson is read from, in the order
// scanPGLesson and scanLesson scan them.
const lessonColumns = "id, title, created_at, ended_at, last_seq, invitation"

func (l Lesson) utc(ended *time.Time) Lesson {
	l.Created = l.Created.UTC()
	if ended != nil {
		l.Ended = ended.UTC()
	}
	return l
}

func (o ListOptions) limit() int {
	if o.Limit <= 0 || o.Limit > MaxList {
		return MaxList
	}
	return o.Limit
}

func (s Snapshot) check() error {
	switch {
	case s.Lesson == uuid.Nil:
		return domain.Errorf(domain.CodeInvalid, "snapshot has no lesson")
	case s.Seq <= 0:
		return domain.Errorf(domain.CodeInvalid, "snapshot sequence must be positive")
	case len(s.State) == 0:
		return domain.Errorf(domain.CodeInvalid, "snapshot is empty")
	case len(s.State) > MaxSnapshotBytes:
		return domain.Errorf(domain.CodeInvalid, "snapshot is larger than %d bytes", MaxSnapshotBytes)
	}
	return nil
}
