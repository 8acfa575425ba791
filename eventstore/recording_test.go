package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
)

// recordedLesson appends to a lesson a recording started at its second
// event and n chat messages after it: without the events_recording index,
// finding that start reads the whole lesson back from its end.
func recordedLesson(t *testing.T, s interface {
	Append(context.Context, ...domain.Event) ([]int64, []error, error)
}, lesson uuid.UUID, n int) {
	t.Helper()
	at := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	events := []domain.Event{{ID: uuid.New(), Lesson: lesson, Time: at, Actor: "t1", Role: domain.RoleTeacher,
		Version: domain.EventVersion, Payload: &domain.RecordingStarted{}}}
	for i := range n {
		events = append(events, domain.Event{ID: uuid.New(), Lesson: lesson, Time: at, Actor: "s1", Role: domain.RoleStudent,
			Version: domain.EventVersion, Payload: &domain.ChatPosted{Text: fmt.Sprintf("message %d", i)}})
	}
	for len(events) > 0 {
		batch := events[:min(len(events), 1000)]
		events = events[len(batch):]
		_, errs, err := s.Append(context.Background(), batch...)
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestLastRecordingKindReadsTheIndex: both stores answer LastRecordingKind
// from the events_recording index (migration 00010), whose entries are the
// lesson's recording events only, so that its cost does not grow with the
// lesson: the plan of its query names the index, for PostgreSQL in a
// custom plan and in the generic one a cached prepared statement comes to
// use. A query whose kinds no longer match the index's predicate, or a
// missing index, reads the lesson back from its end instead.
func TestLastRecordingKindReadsTheIndex(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		ctx := context.Background()
		s, err := OpenSQLite(ctx, t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		lesson := uuid.New()
		if _, errs, err := s.Append(ctx, domain.Event{ID: uuid.New(), Lesson: lesson, Time: time.Now(), Actor: "t1",
			Role: domain.RoleTeacher, Version: domain.EventVersion, Payload: &domain.LessonCreated{Title: "Recorded"}}); err != nil || errs[0] != nil {
			t.Fatalf("create the lesson: %v %v", err, errs)
		}
		recordedLesson(t, s, lesson, 3000)
		rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+lastRecordingSQLite, lesson.String(), int64(3002))
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		var id, parent, unused int
		var detail string
		if err := eachRow(rows, []any{&id, &parent, &unused, &detail}, func() { plan = append(plan, detail) }); err != nil {
			t.Fatal(err)
		}
		if len(plan) != 1 || !strings.Contains(plan[0], "USING INDEX events_recording (lesson_id=? AND seq<?)") {
			t.Fatalf("LastRecordingKind's plan: %q; want one search of events_recording by lesson and sequence", plan)
		}
		if kind, err := s.LastRecordingKind(ctx, lesson, 3002); err != nil || kind != domain.KindRecordingStarted {
			t.Fatalf("LastRecordingKind = %q, %v", kind, err)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		ctx := context.Background()
		p, lesson := openWithLesson(t, time.Now())
		recordedLesson(t, p, lesson, 3000)
		conn, err := p.pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, "PREPARE last_recording AS "+lastRecordingPG); err != nil {
			t.Fatal(err)
		}
		defer conn.Exec(ctx, "DEALLOCATE last_recording") //nolint:errcheck // the connection goes back to the pool
		defer conn.Exec(ctx, "RESET plan_cache_mode")     //nolint:errcheck // as above
		for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
			if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
				t.Fatal(err)
			}
			var out []byte
			if err := conn.QueryRow(ctx, fmt.Sprintf("EXPLAIN (FORMAT JSON) EXECUTE last_recording('%s', 3002)", lesson)).Scan(&out); err != nil {
				t.Fatal(err)
			}
			var plan []struct{ Plan planNode }
			if err := json.Unmarshal(out, &plan); err != nil || len(plan) != 1 {
				t.Fatalf("%s: %v in %s", mode, err, out)
			}
			if indexes := plan[0].Plan.indexes(); len(indexes) != 1 || indexes[0] != "events_recording" {
				t.Fatalf("%s: LastRecordingKind's plan reads the indexes %q; want events_recording alone:\n%s", mode, indexes, out)
			}
		}
		if kind, err := p.LastRecordingKind(ctx, lesson, 3002); err != nil || kind != domain.KindRecordingStarted {
			t.Fatalf("LastRecordingKind = %q, %v", kind, err)
		}
	})
}

// planNode is a node of PostgreSQL's EXPLAIN (FORMAT JSON).
type planNode struct {
	NodeType  string     `json:"Node Type"`
	IndexName string     `json:"Index Name"`
	Plans     []planNode `json:"Plans"`
}

// indexes returns the indexes the plan reads, or "seq scan of <table>" for a
// table it reads whole.
func (n planNode) indexes() []string {
	var out []string
	switch {
	case n.IndexName != "":
		out = append(out, n.IndexName)
	case strings.Contains(n.NodeType, "Seq Scan"):
		out = append(out, "seq scan")
	}
	for _, c := range n.Plans {
		out = append(out, c.indexes()...)
	}
	return out
}
