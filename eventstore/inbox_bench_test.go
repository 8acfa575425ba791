package eventstore_test

import (
	"context"
	"sync"
)

// inbox is what a benchmark's room was handed and has not taken yet.
type inbox[T any] struct {
	mu    sync.Mutex
	queue []T
	wake  chan struct{} // holds a token while the queue may be non-empty
}

// newInbox returns an empty inbox.
func newInbox[T any]() *inbox[T] { return &inbox[T]{wake: make(chan struct{}, 1)} }

// put hands v to the room without waiting.
func (in *inbox[T]) put(v T) {
	in.mu.Lock()
	in.queue = append(in.queue, v)
	in.mu.Unlock()
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// take waits for what was put since the last take and returns it in the
// order put; false once ctx ends. It swaps buf's array in to take the next
// puts: the caller hands back the slice the last take returned, and keeps
// no other.
func (in *inbox[T]) take(ctx context.Context, buf []T) ([]T, bool) {
	for {
		select {
		case <-in.wake:
		case <-ctx.Done():
			return nil, false
		}
		in.mu.Lock()
		buf, in.queue = in.queue, buf[:0]
		in.mu.Unlock()
		if len(buf) > 0 {
			return buf, true
		}
	}
}
