package timeline

import (
	"context"
	"iter"
	"time"

	"classroom/domain"
)

// Position is a point in a lesson's past: after the event of sequence Seq,
// or, when ByTime is set, after the last event that happened within Offset
// of the lesson's start (lesson.created).
type Position struct {
	Seq    int64
	Offset time.Duration
	ByTime bool
}

// AtSeq is the position after the event of sequence seq.
func AtSeq(seq int64) Position { return Position{Seq: seq} }

// AtOffset is the position offset after the lesson was created.
func AtOffset(offset time.Duration) Position { return Position{Offset: offset, ByTime: true} }

// Check refuses a position that names no point of any lesson.
func (p Position) Check() error {
	if p.ByTime {
		if p.Offset < 0 {
			return invalid("a time offset cannot be negative")
		}
		return nil
	}
	if p.Seq < 1 {
		return invalid("seq must be 1 or more")
	}
	return nil
}

// StateAt returns the lesson's state at a position: it restores snapshot (a
// domain.State encoded by MarshalSnapshot; nil to start from nothing) and
// folds the events that follow it up to the position, and no further, so that
// it stops reading events as soon as it is there. events must yield the
// lesson's events after the snapshot's sequence, in order (events at or
// before it are skipped); the caller picks the latest snapshot at or before
// the position, e.g. with eventstore.Store.LatestSnapshot. By time, the
// position is reached at the first event past the offset: times in one
// lesson's log do not go backwards, as one room stamps them.
//
// A sequence past the end of the log is CodeNotFound; an offset past the
// end gives the final state. A snapshot past the position is CodeInvalid.
func StateAt(snapshot []byte, events iter.Seq2[domain.Event, error], to Position) (*domain.State, error) {
	if err := to.Check(); err != nil {
		return nil, err
	}
	s := domain.NewState()
	if snapshot != nil {
		var err error
		if s, err = domain.RestoreSnapshot(snapshot); err != nil {
			return nil, err
		}
		if !to.ByTime && s.Seq > to.Seq {
			return nil, invalid("the snapshot at %d is past seq %d", s.Seq, to.Seq)
		}
	}
	if !to.ByTime && s.Seq == to.Seq {
		return s, nil
	}
	for e, err := range events {
		if err != nil {
			return nil, err
		}
		if e.Seq <= s.Seq {
			continue
		}
		if e.Seq != s.Seq+1 {
			return nil, invalid("event %d follows event %d: the log has a gap", e.Seq, s.Seq)
		}
		if to.ByTime && s.Seq > 0 && e.Time.Sub(s.Created) > to.Offset {
			return s, nil
		}
		s.Apply(e)
		if !to.ByTime && s.Seq == to.Seq {
			return s, nil
		}
	}
	if to.ByTime {
		return s, nil
	}
	return nil, domain.Errorf(domain.CodeNotFound, "the lesson has %d events, not %d", s.Seq, to.Seq)
}

// SeqAt finds, by time, a sequence number to seek from: the highest it
// probes whose event happened within offset of start, to within gap events
// of the last such event (gap 0: that event itself), and 1 at least. timeOf
// returns the time of the event of a sequence number; last is the log's last
// sequence. It interpolates on time, as a lesson's events come at a fairly
// steady rate, and bisects after a guess that did not halve the range, so
// it needs few probes however unevenly the events came (about twice the
// binary logarithm of last at most): each may cost the caller a read.
func SeqAt(ctx context.Context, last int64, gap int64, start time.Time, offset time.Duration,
	timeOf func(ctx context.Context, seq int64) (time.Time, error)) (int64, error) {
	target := start.Add(offset)
	lo, hi := int64(1), last // time(lo) <= target < time(hi+1) once checked
	tLo := start
	tHi, err := timeOf(ctx, hi)
	if err != nil {
		return 0, err
	}
	if !tHi.After(target) {
		return hi, nil
	}
	hi-- // the answer is below hi: time(hi+1) > target
	gap = max(gap, 0)
	bisect := false
	for hi-lo > gap {
		span := hi - lo
		guess := lo + span/2
		if d := tHi.Sub(tLo); d > 0 && !bisect {
			guess = lo + int64(float64(span)*float64(target.Sub(tLo))/float64(d))
		}
		// Narrow by an eighth at least, and by one: a guess of lo, whose
		// time is known, would narrow nothing.
		guess = min(max(guess, lo+max(span/8, 1)), hi-span/8)
		t, err := timeOf(ctx, guess)
		if err != nil {
			return 0, err
		}
		if t.After(target) {
			hi, tHi = guess-1, t
		} else {
			lo, tLo = guess, t
		}
		bisect = !bisect && hi-lo > span/2 // a guess that did not halve the range: bisect next
	}
	return lo, nil
}
