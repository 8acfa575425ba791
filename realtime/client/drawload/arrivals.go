package drawload

import (
	"sync"
	"time"

	"classroom/domain"
)

// Arrivals records when a participant applied each event, measured from
// Epoch. Fold is its client's OnEvent; At may be called from any goroutine.
type Arrivals struct {
	Epoch time.Time

	mu      sync.Mutex
	first   int64           // the seq of applied[0]
	applied []time.Duration // when each event from first on was applied
}

// Fold records that event e was applied now.
func (a *Arrivals) Fold(e domain.Event) {
	now := time.Since(a.Epoch)
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.applied) == 0 {
		a.first = e.Seq
	}
	for a.first+int64(len(a.applied)) < e.Seq { // a gap, which the client reports through Err
		a.applied = append(a.applied, -1)
	}
	a.applied = append(a.applied, now)
}

// At returns when event seq was applied, and whether it was.
func (a *Arrivals) At(seq int64) (time.Duration, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := seq - a.first
	if i < 0 || i >= int64(len(a.applied)) || a.applied[i] < 0 {
		return 0, false
	}
	return a.applied[i], true
}
