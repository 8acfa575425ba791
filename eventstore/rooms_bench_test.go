package eventstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

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
	onStores(b, kinds)
}

// room gathers its participants' events and appends them, one call at a
// time, each call holding what accumulated meanwhile.
type room struct {
	s      eventstore.Store
	inbox  *inbox[roomSend]
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
	r.inbox.put(roomSend{e, ack})
	return <-ack
}

// run appends until ctx ends.
func (r *room) run(ctx context.Context) {
	var batch []roomSend
	events := make([]domain.Event, 0, benchWriters)
	for {
		var ok bool
		if batch, ok = r.inbox.take(ctx, batch); !ok {
			return
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

// benchRooms appends b.N events of makeEvent through benchLessons rooms,
// with benchAppendEvents's participants and figures.
func benchRooms(b *testing.B, s eventstore.Store, makeEvent func(uuid.UUID) domain.Event) {
	ctx, cancel := context.WithCancel(context.Background())
	var running sync.WaitGroup
	defer running.Wait()
	defer cancel() // runs first: the rooms end, then they are waited for
	var mu sync.Mutex
	rooms := map[uuid.UUID]*room{}
	roomOf := func(lesson uuid.UUID) *room {
		mu.Lock()
		defer mu.Unlock()
		r, ok := rooms[lesson]
		if !ok {
			r = &room{s: s, inbox: newInbox[roomSend]()}
			rooms[lesson] = r
			running.Go(func() { r.run(ctx) })
		}
		return r
	}
	benchAppendEvents(b, s, func(_ context.Context, e domain.Event) error { return roomOf(e.Lesson).send(e) }, makeEvent)
	var calls, events int64
	for _, r := range rooms {
		calls += r.calls.Load()
		events += r.events.Load()
	}
	b.ReportMetric(float64(events)/float64(calls), "events/call")
}
