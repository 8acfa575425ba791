package eventstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestSQLite(t *testing.T) {
	dir := t.TempDir()
	testConformance(t, func(t *testing.T) eventstore.Store {
		s, err := eventstore.OpenSQLite(context.Background(), dir, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// databaseURL returns the PostgreSQL the tests use. Without one the test
// fails: a test that needs PostgreSQL is never skipped silently.
func databaseURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal("DATABASE_URL is not set: run the tests through scripts/test, which starts a throwaway PostgreSQL, or point DATABASE_URL at one")
	}
	return url
}

func openPostgres(t testing.TB) *eventstore.Postgres {
	t.Helper()
	s, err := eventstore.OpenPostgres(context.Background(), databaseURL(t), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgres(t *testing.T) {
	testConformance(t, func(t *testing.T) eventstore.Store { return openPostgres(t) })
}

// TestPostgresTwoProcesses runs two stores on one database, as two server
// nodes would: appends from both interleave without gaps, and each wakes the
// other's waiters through LISTEN/NOTIFY.
func TestPostgresTwoProcesses(t *testing.T) {
	a, b := openPostgres(t), openPostgres(t)
	lesson := newLesson(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	woke := make(chan int64, 1)
	go func() {
		last, err := b.Wait(ctx, lesson, 1)
		if err != nil {
			t.Error(err)
		}
		woke <- last
	}()
	time.Sleep(100 * time.Millisecond)
	mustAppend(t, a, chat(lesson, "from node a"))
	select {
	case last := <-woke:
		if last != 2 {
			t.Fatalf("node b woke at %d, want 2", last)
		}
	case <-ctx.Done():
		t.Fatal("node b was not woken by node a's append")
	}

	var wg sync.WaitGroup
	for i, s := range []eventstore.Store{a, b, a, b} {
		wg.Go(func() {
			for j := range 50 {
				if _, err := appendAll(s, chat(lesson, fmt.Sprintf("node %d message %d", i, j))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	log := readAll(t, b, lesson, 0)
	if len(log) != 202 {
		t.Fatalf("log has %d events, want 202", len(log))
	}
	for i, e := range log {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
	}
}

// TestPostgresRestart restarts PostgreSQL in crash mode: acknowledged events
// survive, appends after the restart succeed, resends do not duplicate, and
// waiters are woken again once notifications resume.
func TestPostgresRestart(t *testing.T) {
	restart := os.Getenv("CLASSROOM_TEST_PG_RESTART")
	if restart == "" {
		t.Skip("CLASSROOM_TEST_PG_RESTART is not set: only scripts/test, which owns its PostgreSQL, can restart it")
	}
	s := openPostgres(t)
	lesson := newLesson(t, s)
	before := []domain.Event{chat(lesson, "one"), chat(lesson, "two")}
	mustAppend(t, s, before...)

	if out, err := exec.Command("sh", "-c", restart).CombinedOutput(); err != nil {
		t.Fatalf("restart PostgreSQL: %v\n%s", err, out)
	}

	// The pool's connections died with the server; the store retries.
	after := chat(lesson, "three")
	seqs := mustAppend(t, s, after, before[1])
	if seqs[0] != 4 || seqs[1] != 3 {
		t.Fatalf("after restart: seqs %v, want [4 3]", seqs)
	}
	if log := readAll(t, s, lesson, 0); len(log) != 4 {
		t.Fatalf("log has %d events after restart, want 4", len(log))
	}

	// The listener reconnects: a second store's append wakes this one.
	other := openPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	woke := make(chan error, 1)
	go func() {
		_, err := s.Wait(ctx, lesson, 4)
		woke <- err
	}()
	time.Sleep(200 * time.Millisecond)
	mustAppend(t, other, chat(lesson, "four"))
	if err := <-woke; err != nil {
		t.Fatalf("Wait after restart: %v", err)
	}
}

func TestMigrateIsRepeatable(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	applied, err := eventstore.Migrate(ctx, eventstore.Config{DataDir: dir})
	if err != nil || len(applied) == 0 {
		t.Fatalf("first migrate: %v, %v", applied, err)
	}
	applied, err = eventstore.Migrate(ctx, eventstore.Config{DataDir: dir})
	if err != nil || len(applied) != 0 {
		t.Fatalf("second migrate: %v, %v", applied, err)
	}
	if _, err := eventstore.Migrate(ctx, eventstore.Config{DatabaseURL: databaseURL(t)}); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
}

var _ = uuid.Nil

// TestIsStaleOfNil: asking IsStale of an event stored (a nil error) costs
// no allocation: a room asks it of every event it appends.
func TestIsStaleOfNil(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = eventstore.IsStale(nil) }); n != 0 {
		t.Fatalf("IsStale(nil) allocates %v times", n)
	}
	if other := domain.Errorf(domain.CodeUnavailable, "another node decides the lesson"); eventstore.IsStale(other) {
		t.Fatal("a plain unavailable error taken for stale")
	}
}
