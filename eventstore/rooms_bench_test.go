package eventstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
)

// BenchmarkAppendRooms appends as the product does, beside BenchmarkAppend
// (which never changes for it): only a lesson's room appends to its lesson,
// with one batch in flight (see realtime's pipeline), so the events of
// benchLessons lessons, benchWriters participants each, reach the store as
// one Append call per room holding whatever accumulated while the room's
// previous call committed. Each participant sends one event and waits for
// its acknowledgement, as in BenchmarkAppend; latency runs from the send to
// the acknowledgement, the wait for the room's previous call included. It
// reports events/s, p50, p99 and the events per call.
func BenchmarkAppendRooms(b *testing.B) {
	kinds := func(b *testing.B, s eventstore.Store) {
		for _, kind := range benchEvents {
			b.Run(kind.name, func(b *testing.B) { benchRooms(b, s, kind.make) })
		}
	}
	b.Run("postgres", func(b *testing.B) { kinds(b, openPostgres(b)) })
	b.Run("sqlite", func(b *testing.B) {
		s, err := eventstore.OpenSQLite(context.Background(), b.TempDir(), quietLogger())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		kinds(b, s)
	})
}

// room gathers its participants' events and appends them, one call at a
// time, each call holding what accumulated meanwhile.
type room struct {
	s      eventstore.Store
	mu     sync.Mutex
	queue  []roomSend
	wake   chan struct{} // holds a token while the queue may be non-empty
	calls  atomic.Int64
	events atomic.Int64
}

// roomSend is one participant's event and where its acknowledgement goes.
type roomSend struct {
	ev  domain.Event
	ack chan error
}

// send queues an event and waits for it to be stored.
func (r *room) send(e domain.Event) error {
	ack := make(chan error, 1)
	r.mu.Lock()
	r.queue = append(r.queue, roomSend{e, ack})
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return <-ack
}

// run appends until ctx ends.
func (r *room) run(ctx context.Context) {
	var batch []roomSend
	events := make([]domain.Event, 0, benchWriters)
	for {
		select {
		case <-r.wake:
		case <-ctx.Done():
			return
		}
		r.mu.Lock()
		batch, r.queue = r.queue, batch[:0]
		r.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		events = events[:0]
		for _, sd := range batch {
			events = append(events, sd.ev)
		}
		_, errs, err := r.s.Append(context.Background(), events...)
		r.calls.Add(1)
		r.events.Add(int64(len(batch)))
		for i, sd := range batch {
			if err != nil {
				sd.ack <- err
			} else {
				sd.ack <- errs[i]
			}
		}
	}
}

// benchRooms appends b.N events of makeEvent through benchLessons rooms.
func benchRooms(b *testing.B, s eventstore.Store, makeEvent func(uuid.UUID) domain.Event) {
	ctx, cancel := context.WithCancel(context.Background())
	rooms := make([]*room, benchLessons)
	lessons := make([]uuid.UUID, benchLessons)
	var running sync.WaitGroup
	defer running.Wait()
	defer cancel() // runs first: the rooms end, then they are waited for
	for i := range rooms {
		lessons[i] = newLesson(b, s)
		rooms[i] = &room{s: s, wake: make(chan struct{}, 1)}
		running.Go(func() { rooms[i].run(ctx) })
	}
	var (
		next  atomic.Int64
		mu    sync.Mutex
		lat   = make([]time.Duration, 0, b.N)
		wg    sync.WaitGroup
		first error
	)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for w := range benchLessons * benchWriters {
		wg.Go(func() {
			r, lesson := rooms[w%benchLessons], lessons[w%benchLessons]
			mine := make([]time.Duration, 0, b.N/(benchLessons*benchWriters)+1)
			for next.Add(1) <= int64(b.N) {
				e := makeEvent(lesson)
				t := time.Now()
				if err := r.send(e); err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if first != nil {
		b.Fatal(first)
	}
	var calls, events int64
	for _, r := range rooms {
		calls += r.calls.Load()
		events += r.events.Load()
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(events)/float64(calls), "events/call")
	reportLatency(b, lat)
}
