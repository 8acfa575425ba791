package realtime

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime/token"
)

// TestAppendSpacing: after a batch of more than one event, the room hands
// what it decides next to the store appendSpacing after that batch's start
// at the soonest, by the pipeline's clock (here the test's), unless it
// flushes; after a batch of one event, at once.
func TestAppendSpacing(t *testing.T) {
	store, err := eventstore.OpenSQLite(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tokens, err := token.NewKeeper([]byte(strings.Repeat("k", 32)), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Store: store, Tokens: tokens, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	lesson := uuid.New()
	created, err := domain.NewLesson(lesson, uuid.New(), "Fractions", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	created.Seq = 1
	state := domain.NewState()
	state.Apply(created)

	r := newRoom(srv, lesson)
	r.state = state
	now := time.Unix(1_000_000, 0)
	r.clock = func() time.Time { return now }
	ctx := context.Background()
	// decide queues n chat lines of the teacher.
	decide := func(n int) {
		for range n {
			r.queue(domain.Event{ID: uuid.New(), Lesson: lesson, Actor: "teacher", Role: domain.RoleTeacher,
				Time: now, Payload: &domain.ChatPosted{Text: "hello"}}, nil)
		}
	}
	// handed reports whether pipe handed the pending events to the store,
	// and waits for the append.
	handed := func(what string, want bool) {
		t.Helper()
		r.pipe(ctx)
		c := r.inflight
		if got := c != nil; got != want {
			t.Fatalf("%s: handed to the store %v, want %v (spaced: %v)", what, got, want, r.spaced != nil)
		}
		if c == nil {
			if r.spaced == nil {
				t.Fatalf("%s: held back without a wake-up", what)
			}
			return
		}
		if res := <-c.done; res.err != nil {
			t.Fatalf("%s: append: %v", what, res.err)
		}
		r.inflight = nil
	}

	decide(2)
	handed("the first batch", true)
	decide(1)
	handed("a batch just after one of two events", false)
	now = now.Add(appendSpacing - time.Millisecond)
	handed("a batch 1 ms before the spacing ends", false)
	now = now.Add(time.Millisecond)
	r.spaced = nil // as run does when it fires
	handed("a batch once the spacing ended", true)
	decide(1)
	handed("a batch just after one of one event", true)

	decide(3)
	handed("a batch of three", true)
	decide(1)
	r.flushing = true
	handed("a flush just after a batch of three", true)
}
