package client

import (
	"sync"

	"classroom/domain"
)

// batchesKept is how many events messages a Batches holds in each of its
// two generations.
const batchesKept = 4096

// Batches decodes once, for every client of a process given it
// (Options.Batches), an events message that several of them receive byte
// for byte alike: the students of one lesson in a load tool, where 61
// clients decoding the same JSON would otherwise cost the tool more than
// the server it measures. Each client still checks the events' order and
// folds them into its own state; the events are shared read-only
// (domain.State.Apply copies what it keeps). It holds the most recent
// messages only, so a client far behind the others decodes for itself.
// Safe for concurrent use; the zero value is ready to use.
type Batches struct {
	mu        sync.Mutex
	cur, prev map[string][]domain.Event // by the message's bytes
}

// get returns the events of message b, when a client decoded it already.
func (d *Batches) get(b []byte) ([]domain.Event, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if events, ok := d.cur[string(b)]; ok {
		return events, true
	}
	events, ok := d.prev[string(b)]
	return events, ok
}

// put keeps the events decoded from message b for the other clients.
func (d *Batches) put(b []byte, events []domain.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cur == nil || len(d.cur) >= batchesKept {
		d.prev, d.cur = d.cur, make(map[string][]domain.Event, batchesKept)
	}
	d.cur[string(b)] = events
}
