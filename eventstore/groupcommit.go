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
	ev   domain.Event
	data []byte // the encoded payload
	seq  int64
	err  error
}

// call is one Append call's events; done is closed once they have an outcome.
type call struct {
	events []*pending
	err    error // a failure of the whole flush
	done   chan struct{}
}

// flushFunc commits a batch in one transaction: it sets seq or err on every
// pending event, or returns an error when the transaction as a whole failed.
type flushFunc func(ctx context.Context, batch []*pending) error

// committer batches concurrent appends into one transaction. One goroutine,
// owned by the committer and ended by close, runs the flushes: while one
// flush commits, new appends queue up and go together into the next, so the
// batch grows with the load and a lone append waits for no timer.
type committer struct {
	flush    flushFunc
	maxBatch int           // events in one flush
	linger   time.Duration // how long a flush may wait for more events; 0 for none

	in   chan *call // unbuffered: a blocked sender is a queued append
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

var errClosed = domain.Errorf(domain.CodeUnavailable, "the event store is closed")

func newCommitter(flush flushFunc, maxBatch int, linger time.Duration) *committer {
	c := &committer{flush: flush, maxBatch: maxBatch, linger: linger,
		in: make(chan *call), quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// append validates and encodes events, queues them and waits for their commit.
func (c *committer) append(ctx context.Context, events []domain.Event) ([]int64, []error, error) {
	seqs := make([]int64, len(events))
	errs := make([]error, len(events))
	cl := &call{done: make(chan struct{})}
	for i, ev := range events {
		if err := ev.Validate(); err != nil {
			errs[i] = err
			continue
		}
		data, err := domain.EncodePayload(ev.Payload)
		if err != nil {
			errs[i] = err
			continue
		}
		ev.Seq = 0
		ev.Time = ev.Time.UTC().Truncate(time.Microsecond)
		cl.events = append(cl.events, &pending{ev: ev, data: data})
	}
	if len(cl.events) > 0 {
		select {
		case c.in <- cl:
		case <-c.quit:
			return nil, nil, errClosed
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		// Once queued, the outcome is awaited even if ctx ends: the flush may
		// already be committing, and its result must not be lost.
		<-cl.done
		if cl.err != nil {
			return nil, nil, cl.err
		}
	}
	j := 0
	for i := range events {
		if errs[i] != nil {
			continue
		}
		seqs[i], errs[i] = cl.events[j].seq, cl.events[j].err
		j++
	}
	return seqs, errs, nil
}

func (c *committer) run() {
	defer close(c.done)
	for {
		var first *call
		select {
		case first = <-c.in:
		case <-c.quit:
			// Commit whatever is still queued, then stop.
			for {
				select {
				case cl := <-c.in:
					c.commit([]*call{cl})
				default:
					return
				}
			}
		}
		calls, n := []*call{first}, len(first.events)
		var deadline <-chan time.Time
		var timer *time.Timer
		if c.linger > 0 {
			timer = time.NewTimer(c.linger)
			deadline = timer.C
		}
	gather:
		for n < c.maxBatch {
			select {
			case cl := <-c.in:
				calls, n = append(calls, cl), n+len(cl.events)
			default:
				if deadline == nil {
					break gather
				}
				select {
				case cl := <-c.in:
					calls, n = append(calls, cl), n+len(cl.events)
				case <-deadline:
					break gather
				}
			}
		}
		if timer != nil {
			timer.Stop()
		}
		c.commit(calls)
	}
}

func (c *committer) commit(calls []*call) {
	var batch []*pending
	for _, cl := range calls {
		batch = append(batch, cl.events...)
	}
	// Flushes are not cancelled by callers: an append that was acknowledged
	// must have committed. A bounded timeout keeps a hung database from
	// holding the queue forever.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := c.flush(ctx, batch)
	cancel()
	for _, cl := range calls {
		cl.err = err
		close(cl.done)
	}
}

// close stops accepting appends and waits until the queued ones are committed.
func (c *committer) close() {
	c.once.Do(func() { close(c.quit) })
	<-c.done
}

// stored is where an event already in the log sits.
type stored struct {
	lesson uuid.UUID
	seq    int64
}

// sequencer assigns sequence numbers inside one flush, from what the
// transaction read: the events already stored (by id), the last sequence of
// every lesson the batch touches that exists, and which lessons this very
// transaction created. It holds the rules both stores share.
type sequencer struct {
	known   map[uuid.UUID]stored
	last    map[uuid.UUID]int64
	created map[uuid.UUID]bool
}

// assign sets seq or err on each event in order and returns those to insert.
func (sq *sequencer) assign(batch []*pending) []*pending {
	var insert []*pending
	for _, p := range batch {
		if k, ok := sq.known[p.ev.ID]; ok {
			if k.lesson != p.ev.Lesson {
				p.err = domain.Errorf(domain.CodeConflict, "event %s belongs to another lesson", p.ev.ID)
			} else {
				p.seq = k.seq
			}
			continue
		}
		last, ok := sq.last[p.ev.Lesson]
		switch {
		case !ok:
			p.err = domain.Errorf(domain.CodeNotFound, "no lesson %s", p.ev.Lesson)
			continue
		case p.ev.Kind() == domain.KindLessonCreated && (!sq.created[p.ev.Lesson] || last > 0):
			p.err = domain.Errorf(domain.CodeConflict, "lesson %s already exists", p.ev.Lesson)
			continue
		case p.ev.Kind() != domain.KindLessonCreated && last == 0:
			p.err = domain.Errorf(domain.CodeNotFound, "no lesson %s", p.ev.Lesson)
			continue
		}
		p.seq = last + 1
		sq.last[p.ev.Lesson] = p.seq
		sq.known[p.ev.ID] = stored{lesson: p.ev.Lesson, seq: p.seq}
		insert = append(insert, p)
	}
	return insert
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
func lessonIDs(batch []*pending) []uuid.UUID {
	seen := map[uuid.UUID]bool{}
	var out []uuid.UUID
	for _, p := range batch {
		if !seen[p.ev.Lesson] {
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

// isDomain reports whether err is an application error to pass on as it is.
func isDomain(err error) bool {
	var e *domain.Error
	return errors.As(err, &e)
}
