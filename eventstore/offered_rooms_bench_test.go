package eventstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
)

// BenchmarkAppendRoomsOffered is BenchmarkAppendOffered as the product
// appends: only a lesson's room appends to its lesson, numbering each event
// as it decides it (AppendDecided), with one call in flight holding
// whatever accumulated while the one before it committed (see realtime's
// pipeline). It takes the store's maximum as BenchmarkAppendOffered does
// (appendMaximum, into lessons of its own: the table grows as much), then
// offers b.N small events at 80 % of it to benchLessons rooms in turn, open
// loop: event i is due at start + i/rate whatever happened to the ones
// before, and its latency runs from when it was due to the end of the call
// that stored it, so a queue that builds up counts in full, and so does the
// load's own lag.
//
// A room also keeps its lesson's state, as realtime's does, and saves a
// snapshot of it once domain.SnapshotEvery events were appended since the
// last, in the background, one at a time, once the batch it ends is
// stored; the rooms start at random points between two snapshots, with
// lessons new (so their snapshots are smaller than a long lesson's). What
// a room of realtime does besides is left out: its spacing of the next
// append after a batch of several events, and a node's fence
// (AppendFenced) when lessons have owners; so this is the store's part of
// a room's latency, on one node.
//
// The load is one goroutine that hands the rooms the events due every
// tick, as a room's connections hand it commands; a room makes each event
// as it decides it. It reports the maximum, the rate offered and achieved,
// p50 and p99, the events per call, the snapshots saved, and p99 of the
// load's lag: from an event's due time to its hand-over to the room (the
// room's wait for its call in flight is the store's, and counts in the
// latency only).
func BenchmarkAppendRoomsOffered(b *testing.B) {
	const (
		offeredProbe = 100_000
		tick         = 200 * time.Microsecond
	)
	run := func(b *testing.B, s eventstore.Store) {
		probed := make([]uuid.UUID, benchLessons)
		for i := range probed {
			probed[i] = newLesson(b, s)
		}
		maxRate := appendMaximum(b, s, probed, int64(max(b.N, offeredProbe)))
		rate := 0.8 * maxRate

		ctx, cancel := context.WithCancel(context.Background())
		var running sync.WaitGroup
		defer running.Wait()
		defer cancel() // runs first: the rooms end, then they are waited for
		rooms := make([]*decidingRoom, benchLessons)
		for i := range rooms {
			rooms[i] = newDecidingRoom(b, s)
			running.Go(func() { rooms[i].run(ctx) })
		}

		// 80 % of it, open loop.
		lat := make([]time.Duration, b.N)
		lag := make([]time.Duration, b.N)
		var stored sync.WaitGroup
		stored.Add(b.N)
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; {
			now := time.Now()
			due := min(b.N, int(now.Sub(start).Seconds()*rate)+1)
			for ; i < due; i++ {
				at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
				lag[i] = now.Sub(at)
				rooms[i%benchLessons].inbox.put(offer{due: at, lat: &lat[i], stored: &stored})
			}
			time.Sleep(tick)
		}
		stored.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		cancel()
		running.Wait() // the rooms end, their last snapshots saved
		var calls, failed, saved int64
		for _, r := range rooms {
			calls += r.calls.Load()
			failed += r.failed.Load()
			saved += r.saved.Load()
		}
		if failed > 0 {
			b.Fatalf("%d appends failed", failed)
		}
		reportOffered(b, maxRate, rate, elapsed, lat, lag)
		b.ReportMetric(float64(b.N)/float64(calls), "events/call")
		b.ReportMetric(float64(saved), "snapshots")
	}
	onStores(b, run)
}

// decidingRoom is a lesson's room as BenchmarkAppendRoomsOffered drives it:
// it makes a chat line for each event it is offered, numbers it at the
// sequence its lesson's log gives next, and appends what accumulated while
// its previous call committed, one call at a time, saving snapshots of its
// lesson's state as realtime's rooms do.
type decidingRoom struct {
	s      eventstore.Store
	lesson uuid.UUID
	// Only run reads and writes these: the sequence the lesson's log gives
	// next, the state through the events decided, and how many events were
	// stored since the last snapshot.
	next      int64
	state     *domain.State
	sinceSnap int

	saving    atomic.Bool    // a snapshot is being saved; its goroutine clears it
	snapshots sync.WaitGroup // the goroutine saving one

	inbox *inbox[offer]

	calls, failed, saved atomic.Int64
}

// offer is one event offered to a room: its latency goes to lat, and
// stored is told once it is.
type offer struct {
	due    time.Time
	lat    *time.Duration
	stored *sync.WaitGroup
}

// newDecidingRoom creates a lesson in s and returns its room. The room
// counts a random part of domain.SnapshotEvery as appended since its last
// snapshot, as the rooms of lessons under way do: rooms that all started
// together would reach their snapshots together, all at once.
func newDecidingRoom(b *testing.B, s eventstore.Store) *decidingRoom {
	r := &decidingRoom{s: s, lesson: uuid.New(), state: domain.NewState(), inbox: newInbox[offer](),
		sinceSnap: rand.IntN(domain.SnapshotEvery)}
	e := created(r.lesson, "Fractions, "+r.lesson.String()[:8])
	e.Seq = mustAppend(b, s, e)[0]
	r.state.Apply(e)
	r.next = e.Seq + 1
	return r
}

// run appends what is enqueued until ctx ends, then waits for a snapshot
// being saved. Offers still queued then are neither stored nor counted:
// end ctx only once every offer's stored is done.
func (r *decidingRoom) run(ctx context.Context) {
	defer r.snapshots.Wait()
	var batch []offer
	var events []domain.Event
	for {
		var ok bool
		if batch, ok = r.inbox.take(ctx, batch); !ok {
			return
		}
		events = events[:0]
		for range batch {
			e := chat(r.lesson, "Could you repeat the last step?")
			e.Seq = r.next + int64(len(events))
			r.state.Apply(e)
			events = append(events, e)
		}
		// The state holds the batch as decided, and the snapshot is of it
		// through the batch, taken before it is stored, as realtime's
		// pipeline does. (A refusal fails the benchmark: the state is
		// not set right again after one.)
		var snap []byte
		if r.sinceSnap+len(events) >= domain.SnapshotEvery && !r.saving.Load() {
			var err error
			if snap, err = r.state.MarshalSnapshot(); err != nil {
				r.failed.Add(1) // realtime logs it and stores the batch without
			}
		}
		seqs, errs, err := r.s.AppendDecided(context.Background(), events...)
		r.calls.Add(1)
		stored := 0
		for i, o := range batch {
			e := err
			if e == nil {
				e = errs[i]
			}
			if e == nil && seqs[i] != events[i].Seq {
				e = fmt.Errorf("event decided at %d stored at %d", events[i].Seq, seqs[i])
			}
			if e == nil {
				r.next = seqs[i] + 1
				stored++
			}
			*o.lat = time.Since(o.due)
			if e != nil {
				r.failed.Add(1)
			}
			o.stored.Done()
		}
		r.sinceSnap += stored
		if snap != nil && stored == len(events) {
			r.save(eventstore.Snapshot{Lesson: r.lesson, Seq: events[len(events)-1].Seq, State: snap})
		}
	}
}

// save stores a snapshot in the background, one at a time, as realtime's
// rooms do; a failure counts with the appends'.
func (r *decidingRoom) save(snap eventstore.Snapshot) {
	if !r.saving.CompareAndSwap(false, true) {
		return
	}
	r.sinceSnap = 0
	r.snapshots.Go(func() {
		defer r.saving.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // as realtime's
		defer cancel()
		if err := r.s.SaveSnapshot(ctx, snap); err != nil {
			r.failed.Add(1)
			return
		}
		r.saved.Add(1)
	})
}
