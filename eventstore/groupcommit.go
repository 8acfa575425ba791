package eventstore

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
)

// pending is one event waiting for a group commit, and then its outcome.
type pending struct {
	ev     domain.Event
	data   []byte // the encoded payload
	points []byte // a stroke's points, stored apart (see encodeStored)
	// fence is the lease epoch the appender holds, 0 for an unfenced
	// append. expect is the sequence the appender decided the event at, 0
	// for a plain Append, which checks none (see sequencer.decided).
	fence, expect int64
	// behind is set when an earlier event of the same lesson in the same
	// decided append was refused before it reached a flush: this one was
	// decided on top of it.
	behind bool
	seq    int64
	err    error
}

// call is one Append call's events in one lane; done is closed once they
// have an outcome.
type call struct {
	events []*pending
	one    [1]*pending // events' room when the call has one event
	err    error       // a failure of the whole flush
	done   chan struct{}
}

// flushFunc commits a batch in one transaction: it sets seq or err on every
// pending event, or returns an error when the transaction as a whole failed.
type flushFunc func(ctx context.Context, batch []*pending) error

// laneFlush returns the flush of one lane. Only that lane's goroutine calls
// it, one flush at a time, so what the flush keeps between its batches
// (Postgres keeps the lessons' last sequences) needs no lock.
type laneFlush func() flushFunc

// committer batches concurrent appends into transactions. Lessons are spread
// over lanes by id; each lane has one goroutine, owned by the committer and
// ended by close, that runs its flushes one after another: while one flush
// commits, new appends queue up and go together into the next, so a batch
// grows with the load and a lone append waits for no timer. Lanes flush in
// parallel, and since a lesson always uses the same lane, its events are
// committed in the order they were queued and lanes never contend for the
// same lesson's row.
type committer struct {
	lanes []*lane
}

// lane is one commit lane. Appends queue their calls under mu and wake the
// lane's goroutine; an append sleeps once, until its flush is done.
type lane struct {
	flush    flushFunc
	maxBatch int // events in one flush

	mu     sync.Mutex
	queue  []*call
	closed bool
	wake   chan struct{} // holds a token while the queue may be non-empty
	done   chan struct{}
}

// maxLanesOnStack is the most lanes an append tracks without allocating.
const maxLanesOnStack = 8

var errClosed = domain.Errorf(domain.CodeUnavailable, "the event store is closed")

func newCommitter(newFlush laneFlush, lanes, maxBatch int) *committer {
	c := &committer{}
	for range max(lanes, 1) {
		l := &lane{flush: newFlush(), maxBatch: maxBatch, wake: make(chan struct{}, 1), done: make(chan struct{})}
		c.lanes = append(c.lanes, l)
		go l.run()
	}
	return c
}

func (c *committer) laneOf(lesson uuid.UUID) int { return int(lesson[15]) % len(c.lanes) }

// append validates and encodes events, queues them and waits for their commit.
// With decided, each event's Seq is the sequence its appender decided it at
// and the sequencer checks it (see AppendDecided); a fence above 0 makes the
// append fenced as well: see Postgres.AppendFenced.
func (c *committer) append(ctx context.Context, fence int64, decided bool, events []domain.Event) ([]int64, []error, error) {
	seqs := make([]int64, len(events))
	errs := make([]error, len(events))
	all := make([]pending, len(events))
	var some [maxLanesOnStack]*call
	calls := some[:min(len(c.lanes), maxLanesOnStack)]
	if len(c.lanes) > maxLanesOnStack {
		calls = make([]*call, len(c.lanes))
	}
	var refused map[uuid.UUID]bool // decided: the lessons of which an event was refused here
	for i, ev := range events {
		data, points, err := checkEvent(ev, decided)
		if err != nil {
			errs[i] = err
			if decided {
				if refused == nil {
					refused = map[uuid.UUID]bool{}
				}
				refused[ev.Lesson] = true
			}
			continue
		}
		expect := ev.Seq
		ev.Seq = 0
		ev.Time = ev.Time.UTC().Truncate(time.Microsecond)
		all[i] = pending{ev: ev, data: data, points: points}
		if decided {
			all[i].fence, all[i].expect, all[i].behind = fence, expect, refused[ev.Lesson]
		}
		n := c.laneOf(ev.Lesson)
		if calls[n] == nil {
			calls[n] = &call{done: make(chan struct{})}
			if len(events) == 1 {
				calls[n].events = calls[n].one[:0]
			}
		}
		calls[n].events = append(calls[n].events, &all[i])
	}
	var failed error
	queued := len(calls)
	for n, cl := range calls {
		if cl != nil && !c.lanes[n].enqueue(cl) {
			failed, queued = errClosed, n
			break
		}
	}
	// A call the lane has not taken yet is withdrawn when ctx ends; once
	// taken, its outcome is awaited even if ctx ends: the flush may already
	// be committing, and its result must not be lost.
	ctxDone := ctx.Done()
	for n, cl := range calls[:queued] {
		if cl == nil {
			continue
		}
		if ctxDone == nil {
			<-cl.done // a context that never ends: one receive, not a select
		} else {
			select {
			case <-cl.done:
			case <-ctxDone:
				if !c.lanes[n].withdraw(cl) {
					<-cl.done
				} else if failed == nil {
					failed = ctx.Err()
				}
			}
		}
		if cl.err != nil && failed == nil {
			failed = cl.err
		}
	}
	if failed != nil {
		return nil, nil, failed
	}
	for i := range all {
		if all[i].data != nil { // validated and queued
			seqs[i], errs[i] = all[i].seq, all[i].err
		}
	}
	return seqs, errs, nil
}

// checkEvent validates an event and encodes its payload; with decided, it
// needs the sequence the event was decided at.
func checkEvent(ev domain.Event, decided bool) (data, points []byte, err error) {
	if err := ev.Validate(); err != nil {
		return nil, nil, err
	}
	if decided && ev.Seq <= 0 {
		return nil, nil, domain.Errorf(domain.CodeInvalid, "a decided append needs the sequence each event was decided at")
	}
	return encodeStored(ev.Payload)
}

// enqueue queues a call and wakes the lane; false once the lane is closed.
func (l *lane) enqueue(cl *call) bool {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false
	}
	l.queue = append(l.queue, cl)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default: // a token is there already
	}
	return true
}

// withdraw removes a call the lane has not taken yet, and reports whether
// it did; a call it has taken is being committed.
func (l *lane) withdraw(cl *call) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, q := range l.queue {
		if q == cl {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			return true
		}
	}
	return false
}

// take removes calls from the head of the queue, up to maxBatch events
// (at least one call), and reports whether the lane is closed.
func (l *lane) take() ([]*call, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, events := 0, 0
	for n < len(l.queue) && (n == 0 || events+len(l.queue[n].events) <= l.maxBatch) {
		events += len(l.queue[n].events)
		n++
	}
	calls := make([]*call, n)
	copy(calls, l.queue)
	l.queue = append(l.queue[:0], l.queue[n:]...)
	return calls, l.closed
}

// run flushes the queue until it is empty whenever it is woken, and ends
// once the lane is closed and everything queued before is committed.
func (l *lane) run() {
	defer close(l.done)
	for range l.wake {
		for {
			calls, closed := l.take()
			if len(calls) == 0 {
				if closed {
					return
				}
				break
			}
			l.commit(calls)
		}
	}
}

func (l *lane) commit(calls []*call) {
	var batch []*pending
	for _, cl := range calls {
		batch = append(batch, cl.events...)
	}
	// Flushes are not cancelled by callers: an append that was acknowledged
	// must have committed. A bounded timeout keeps a hung database from
	// holding the queue forever.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := l.flush(ctx, batch)
	cancel()
	for _, cl := range calls {
		cl.err = err
		close(cl.done)
	}
}

// close stops accepting appends and waits until the queued ones are committed.
func (c *committer) close() {
	for _, l := range c.lanes {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
	for _, l := range c.lanes {
		<-l.done
	}
}

// eventKey names an event: its id is unique within its lesson.
type eventKey struct{ lesson, id uuid.UUID }

// sequencer assigns sequence numbers inside one flush, from what the
// transaction read: the events of the batch already stored, the last sequence of
// every lesson the batch touches that exists, and which lessons this very
// transaction created. It holds the rules both stores share.
type sequencer struct {
	// known holds the sequence of the events stored before, and of those
	// numbered so far; nil for a batch numbered from a lane's record (see
	// lastSeqs.sequence).
	known   map[eventKey]int64
	last    map[uuid.UUID]int64
	created map[uuid.UUID]bool
	epochs  map[uuid.UUID]int64 // the lease epoch of each lesson a fenced event names; absent when it has no lease
	// skipped holds the lessons of which an event of a decided append in
	// this batch took no new sequence: refused, or a resend answered with
	// its original one. What its appender decided on top of it misses its
	// sequence because of that, not because the log moved.
	skipped map[uuid.UUID]bool
}

// newSequencer returns a sequencer for a batch of n events.
func newSequencer(n int) *sequencer {
	return &sequencer{known: make(map[eventKey]int64, n), last: map[uuid.UUID]int64{}, created: map[uuid.UUID]bool{},
		epochs: map[uuid.UUID]int64{}}
}

// decided refuses an event of a decided append (AppendDecided,
// AppendFenced) that its appender decided on a state that is not the log's:
// one appended under a lease epoch that is not its lesson's any more
// (domain.ReasonFenced: another node decides the lesson), or decided at a
// sequence that is not the next one, or on top of an event of its lesson
// that this append refused (stale: see IsStale). A fenced event that misses
// its sequence is refused as fenced, as its lesson may have moved, unless an
// event of its lesson before it in the batch took no new sequence (refused,
// or a resend): under the lease's epoch, checked first, no other node wrote,
// so it is only stale. A plain Append's event is not checked.
func (sq *sequencer) decided(p *pending, last int64) error {
	if p.fence > 0 {
		if epoch := sq.epochs[p.ev.Lesson]; epoch != p.fence {
			return domain.Errorf(domain.CodeUnavailable, "lesson %s is decided under lease epoch %d, not %d", p.ev.Lesson, epoch, p.fence).
				Because(domain.ReasonFenced)
		}
	}
	switch {
	case p.expect == 0:
		return nil
	case p.behind:
		return staleError{domain.Errorf(domain.CodeUnavailable, "lesson %s: an event decided for %d was decided on top of one the store refused", p.ev.Lesson, p.expect)}
	case p.expect == last+1:
		return nil
	case p.fence > 0 && !sq.skipped[p.ev.Lesson]:
		return domain.Errorf(domain.CodeUnavailable, "lesson %s is at sequence %d: an event decided for %d is stale", p.ev.Lesson, last, p.expect).
			Because(domain.ReasonFenced)
	default:
		return staleError{domain.Errorf(domain.CodeUnavailable, "lesson %s is at sequence %d: an event decided for %d is stale", p.ev.Lesson, last, p.expect)}
	}
}

// staleError refuses an event decided on a state its lesson's log does not
// hold; it is a *domain.Error of CodeUnavailable underneath.
type staleError struct{ err *domain.Error }

func (e staleError) Error() string { return e.err.Error() }
func (e staleError) Unwrap() error { return e.err }

// IsStale reports whether err refused an event of a decided append
// (AppendDecided, AppendFenced) as decided on a state its lesson's log does
// not hold: at a sequence that is not the next one, or on top of an event of
// the same lesson that the append refused. Nothing of it was stored; its
// appender may decide it again on the log as it is.
func IsStale(err error) bool {
	if err == nil {
		return false // without the allocation below: a room asks of every event it appends
	}
	return errors.As(err, new(staleError))
}

// assign sets seq or err on each event in order and returns those to insert.
func (sq *sequencer) assign(batch []*pending) []*pending {
	var insert []*pending
	for _, p := range batch {
		if sq.take(p) {
			insert = append(insert, p)
		} else if p.expect > 0 {
			// Refused, or a resend answered with its sequence: what was
			// decided on top of it misses its own (see decided).
			if sq.skipped == nil {
				sq.skipped = map[uuid.UUID]bool{}
			}
			sq.skipped[p.ev.Lesson] = true
		}
	}
	return insert
}

// take sets seq or err on one event and reports whether it is to be
// inserted with a new sequence.
func (sq *sequencer) take(p *pending) bool {
	key := eventKey{p.ev.Lesson, p.ev.ID}
	if seq, ok := sq.known[key]; ok {
		p.seq = seq
		return false
	}
	last, ok := sq.last[p.ev.Lesson]
	switch {
	case !ok:
		p.err = domain.Errorf(domain.CodeNotFound, "no lesson %s", p.ev.Lesson)
		return false
	case p.ev.Kind() == domain.KindLessonCreated && (!sq.created[p.ev.Lesson] || last > 0):
		p.err = domain.Errorf(domain.CodeConflict, "lesson %s already exists", p.ev.Lesson)
		return false
	case p.ev.Kind() != domain.KindLessonCreated && last == 0:
		p.err = domain.Errorf(domain.CodeNotFound, "no lesson %s", p.ev.Lesson)
		return false
	}
	if err := sq.decided(p, last); err != nil {
		p.err = err
		return false
	}
	p.seq = last + 1
	sq.last[p.ev.Lesson] = p.seq
	if sq.known != nil {
		sq.known[key] = p.seq
	}
	return true
}

// errNeedsLookup ends a flush without the lookup that refused an event: the
// event may be a resend (of a lesson's creation, or of an event decided at a
// sequence or under a lease epoch that has passed since), which is answered
// with its original sequence rather than refused, so only a flush with the
// lookup may refuse it.
var errNeedsLookup = errors.New("a refused event may be a resend")

// refusedAny reports whether the sequencer refused an event of batch.
func refusedAny(batch []*pending) bool {
	for _, pe := range batch {
		if pe.err != nil {
			return true
		}
	}
	return false
}

// publish wakes the waiters of every lesson the flush read, once its
// transaction has committed.
func (sq *sequencer) publish(n *notifier) {
	for id, last := range sq.last {
		if last > 0 {
			n.publish(id, last)
		}
	}
}

// newLessons returns the first lesson.created event of each lesson in the
// batch, in order: the lessons a flush should try to create.
func newLessons(batch []*pending) []*pending {
	seen := map[uuid.UUID]bool{}
	var out []*pending
	for _, p := range batch {
		if p.ev.Kind() == domain.KindLessonCreated && !seen[p.ev.Lesson] {
			seen[p.ev.Lesson] = true
			out = append(out, p)
		}
	}
	return out
}

// lessonIDs returns the distinct lessons of a batch.
func lessonIDs(batch []*pending) []uuid.UUID { return distinctLessons(batch, false) }

// fencedLessons returns the distinct lessons of a batch's fenced events.
func fencedLessons(batch []*pending) []uuid.UUID { return distinctLessons(batch, true) }

func distinctLessons(batch []*pending, fencedOnly bool) []uuid.UUID {
	seen := map[uuid.UUID]bool{}
	var out []uuid.UUID
	for _, p := range batch {
		if (!fencedOnly || p.fence > 0) && !seen[p.ev.Lesson] {
			seen[p.ev.Lesson] = true
			out = append(out, p.ev.Lesson)
		}
	}
	return out
}

// notifier tracks the last sequence of lessons that someone waits on and
// wakes the waiters when it grows.
type notifier struct {
	mu      sync.Mutex
	lessons map[uuid.UUID]*watch
}

type watch struct {
	last    int64
	known   bool
	waiters int
	wake    chan struct{} // closed and replaced whenever last grows
}

func newNotifier() *notifier { return &notifier{lessons: map[uuid.UUID]*watch{}} }

// publish records that a lesson's log reached seq and wakes its waiters.
func (n *notifier) publish(lesson uuid.UUID, seq int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	w, ok := n.lessons[lesson]
	if !ok || (w.known && seq <= w.last) {
		return // nobody waits on it, or nothing new
	}
	w.last, w.known = seq, true
	close(w.wake)
	w.wake = make(chan struct{})
}

// forget drops every known sequence and wakes all waiters, so that they look
// the sequence up again: used when notifications may have been missed.
func (n *notifier) forget() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, w := range n.lessons {
		w.known = false
		close(w.wake)
		w.wake = make(chan struct{})
	}
}

// wait blocks until lesson's last sequence is above after. lookup reads the
// last sequence from the store when the notifier does not know it.
func (n *notifier) wait(ctx context.Context, lesson uuid.UUID, after int64, lookup func(context.Context) (int64, error)) (int64, error) {
	n.mu.Lock()
	w, ok := n.lessons[lesson]
	if !ok {
		w = &watch{wake: make(chan struct{})}
		n.lessons[lesson] = w
	}
	w.waiters++
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		if w.waiters--; w.waiters == 0 {
			delete(n.lessons, lesson)
		}
		n.mu.Unlock()
	}()
	for {
		n.mu.Lock()
		last, known, wake := w.last, w.known, w.wake
		n.mu.Unlock()
		if !known {
			l, err := lookup(ctx)
			if err != nil {
				return 0, err
			}
			n.mu.Lock()
			if !w.known || l > w.last {
				w.last, w.known = l, true
			}
			last = w.last
			n.mu.Unlock()
		}
		if last > after {
			return last, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
