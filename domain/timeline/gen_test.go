package timeline_test

import (
	"context"
	"io"
	"iter"
	"log/slog"
	"os"
	"testing"

	"classroom/domain"
	"classroom/domain/timeline/timelinetest"
	"classroom/eventstore"
)

// collect gathers a generated lesson.
func collect(t testing.TB, events iter.Seq2[domain.Event, error]) []domain.Event {
	t.Helper()
	var out []domain.Event
	for e, err := range events {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// fromSlice streams events.
func fromSlice(events []domain.Event) iter.Seq2[domain.Event, error] {
	return func(yield func(domain.Event, error) bool) {
		for _, e := range events {
			if !yield(e, nil) {
				return
			}
		}
	}
}

func fold(events []domain.Event) *domain.State {
	s := domain.NewState()
	for _, e := range events {
		s.Apply(e)
	}
	return s
}

// The stores: real SQLite in a temporary directory and the PostgreSQL of
// DATABASE_URL, as the event store's own tests use them.

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type storeKind struct {
	name string
	open func(t testing.TB) eventstore.Store
}

var stores = []storeKind{
	{"sqlite", func(t testing.TB) eventstore.Store {
		s, err := eventstore.OpenSQLite(context.Background(), t.TempDir(), quiet())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t testing.TB) eventstore.Store {
		url := os.Getenv("DATABASE_URL")
		if url == "" {
			t.Fatal("DATABASE_URL is not set: run the tests through scripts/test, which starts a throwaway PostgreSQL, or point DATABASE_URL at one")
		}
		s, err := eventstore.OpenPostgres(context.Background(), url, quiet())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

var generate = timelinetest.Lesson
