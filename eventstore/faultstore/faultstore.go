// Package faultstore wraps an eventstore.Store to fail chosen calls on cue,
// for tests of the failure paths of its users: an append that fails before
// or after its commit, an event refused on its own, a read, a look-up, a
// snapshot or a wait that fails, a wait slow to stop. It stores nothing itself and must never be
// used outside tests.
package faultstore

import (
	"context"
	"iter"
	"sync"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
)

// Op is a call that can be made to fail.
type Op string

// The calls a Fault can fail.
const (
	// AppendBefore fails an Append (or AppendDecided) as a whole without storing anything.
	AppendBefore Op = "append-before-commit"
	// AppendAfter stores the events, then fails the Append as a whole, as
	// a commit whose answer was lost does.
	AppendAfter Op = "append-after-commit"
	// AppendRefuse refuses the matching events on their own (errs[i]) and
	// hands the others to the wrapped store (whose AppendDecided then
	// refuses those decided on top of a refused one).
	AppendRefuse   Op = "append-refuse"
	Events         Op = "events"
	Lookup         Op = "lookup"
	LatestSnapshot Op = "latest-snapshot"
	SaveSnapshot   Op = "save-snapshot"
	Wait           Op = "wait"
	// WaitStall fails no Wait: it makes a matching Wait return only Stall
	// after its context ended, as a notification connection slow to let go
	// does, so that whoever waits for the waiter to stop waits too.
	WaitStall Op = "wait-stall"
)

// Fault fails calls of Op.
type Fault struct {
	Op Op
	// Times is how many calls fail; 0 means one, a negative number every
	// one until Clear.
	Times int
	// Match, for the append faults, picks the calls (or, for AppendRefuse,
	// the events) it fails; nil matches every one.
	Match func(domain.Event) bool
	// Err is the error returned; nil means a CodeUnavailable one.
	Err error
	// Stall is how long a WaitStall fault holds a Wait past its context.
	Stall time.Duration
}

// Store is an eventstore.Store that fails calls as it is told to.
type Store struct {
	eventstore.Store

	mu     sync.Mutex
	faults []*Fault
	failed map[Op]int
}

// New wraps s.
func New(s eventstore.Store) *Store { return &Store{Store: s, failed: map[Op]int{}} }

// Inject adds a fault; faults of one Op apply in the order injected.
func (s *Store) Inject(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	if f.Err == nil {
		f.Err = domain.Errorf(domain.CodeUnavailable, "injected failure: %s", f.Op)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Clear removes every fault not yet used up.
func (s *Store) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Failed returns how many calls of op have been failed.
func (s *Store) Failed(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed[op]
}

// take returns the error of the first fault of op that applies, using it.
func (s *Store) take(op Op, match func(*Fault) bool) (*Fault, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Op != op || (match != nil && !match(f)) {
			continue
		}
		if f.Times > 0 {
			if f.Times--; f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		s.failed[op]++
		return f, f.Err
	}
	return nil, nil
}

func anyMatch(events []domain.Event) func(*Fault) bool {
	return func(f *Fault) bool {
		if f.Match == nil {
			return true
		}
		for _, e := range events {
			if f.Match(e) {
				return true
			}
		}
		return false
	}
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, events ...domain.Event) ([]int64, []error, error) {
	return s.append(ctx, s.Store.Append, events)
}

// AppendDecided implements eventstore.Store. The append faults apply to it
// as to Append; the events an AppendRefuse fault leaves are handed to the
// wrapped store's AppendDecided, which refuses those decided on top of a
// refused one as it refuses them after a refusal of its own.
func (s *Store) AppendDecided(ctx context.Context, events ...domain.Event) ([]int64, []error, error) {
	return s.append(ctx, s.Store.AppendDecided, events)
}

type appendFunc func(context.Context, ...domain.Event) ([]int64, []error, error)

func (s *Store) append(ctx context.Context, next appendFunc, events []domain.Event) ([]int64, []error, error) {
	if _, err := s.take(AppendBefore, anyMatch(events)); err != nil {
		return nil, nil, err
	}
	if _, err := s.take(AppendAfter, anyMatch(events)); err != nil {
		if _, _, err := next(ctx, events...); err != nil {
			return nil, nil, err
		}
		return nil, nil, err
	}
	f, err := s.take(AppendRefuse, anyMatch(events))
	if err == nil {
		return next(ctx, events...)
	}
	seqs, errs := make([]int64, len(events)), make([]error, len(events))
	var keep []domain.Event
	var at []int
	for i, e := range events {
		if f.Match == nil || f.Match(e) {
			errs[i] = err
		} else {
			keep, at = append(keep, e), append(at, i)
		}
	}
	if len(keep) > 0 {
		kseqs, kerrs, err := next(ctx, keep...)
		if err != nil {
			return nil, nil, err
		}
		for k, i := range at {
			seqs[i], errs[i] = kseqs[k], kerrs[k]
		}
	}
	return seqs, errs, nil
}

// Events implements eventstore.Store: a failed read yields its error first.
func (s *Store) Events(ctx context.Context, lesson uuid.UUID, after int64) iter.Seq2[domain.Event, error] {
	if _, err := s.take(Events, nil); err != nil {
		return func(yield func(domain.Event, error) bool) { yield(domain.Event{}, err) }
	}
	return s.Store.Events(ctx, lesson, after)
}

// Lookup implements eventstore.Store.
func (s *Store) Lookup(ctx context.Context, lesson uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]int64, error) {
	if _, err := s.take(Lookup, nil); err != nil {
		return nil, err
	}
	return s.Store.Lookup(ctx, lesson, ids)
}

// LatestSnapshot implements eventstore.Store.
func (s *Store) LatestSnapshot(ctx context.Context, lesson uuid.UUID, atOrBefore int64) (eventstore.Snapshot, error) {
	if _, err := s.take(LatestSnapshot, nil); err != nil {
		return eventstore.Snapshot{}, err
	}
	return s.Store.LatestSnapshot(ctx, lesson, atOrBefore)
}

// SaveSnapshot implements eventstore.Store.
func (s *Store) SaveSnapshot(ctx context.Context, snap eventstore.Snapshot) error {
	if _, err := s.take(SaveSnapshot, nil); err != nil {
		return err
	}
	return s.Store.SaveSnapshot(ctx, snap)
}

// Wait implements eventstore.Store.
func (s *Store) Wait(ctx context.Context, lesson uuid.UUID, after int64) (int64, error) {
	if _, err := s.take(Wait, nil); err != nil {
		return 0, err
	}
	if f, _ := s.take(WaitStall, nil); f != nil {
		last, err := s.Store.Wait(ctx, lesson, after)
		if ctx.Err() != nil {
			time.Sleep(f.Stall)
		}
		return last, err
	}
	return s.Store.Wait(ctx, lesson, after)
}
