package eventstore

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
)

// rawEvent is an event as a store's row holds it.
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
}

// event decodes the row. A row that does not decode means the database holds
// something this code did not write: it is reported, not skipped.
func (r rawEvent) event() (domain.Event, error) {
	p, err := domain.DecodePayload(domain.Kind(r.kind), r.data)
	if err != nil {
		return domain.Event{}, fmt.Errorf("event %d of lesson %s is corrupt: %w", r.seq, r.lesson, err)
	}
	return domain.Event{ID: r.id, Lesson: r.lesson, Seq: r.seq, Version: r.version, Actor: r.actor,
		Role: domain.Role(r.role), Time: r.at.UTC(), Payload: p}, nil
}

// readPages streams a lesson's events after a sequence number, one bounded
// keyset range at a time. lastSeq reads the lesson's last sequence (and
// refuses an unknown lesson); readRange reads after < seq <= upto. When it has
// read up to the last sequence it looked up, it looks once more, so that a
// stream reaches what was committed while it ran.
func readPages(ctx context.Context, lesson uuid.UUID, after int64,
	lastSeq func(context.Context, uuid.UUID) (int64, error),
	readRange func(ctx context.Context, lesson uuid.UUID, after, upto int64) ([]domain.Event, error),
) iter.Seq2[domain.Event, error] {
	return func(yield func(domain.Event, error) bool) {
		after := max(after, 0)
		last, err := lastSeq(ctx, lesson)
		if err != nil {
			yield(domain.Event{}, err)
			return
		}
		for {
			for after < last {
				upto := min(after+ReadPage, last)
				events, err := readRange(ctx, lesson, after, upto)
				if err != nil {
					yield(domain.Event{}, err)
					return
				}
				if int64(len(events)) != upto-after {
					yield(domain.Event{}, fmt.Errorf("lesson %s: %d events where %d..%d should be",
						lesson, len(events), after+1, upto))
					return
				}
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
