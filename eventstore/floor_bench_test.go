package eventstore_test

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"classroom/domain"
	"classroom/eventstore"
)

// floorBatch is the events one raw insert carries: the appends in flight
// (benchLessons*benchWriters) over the store's commit lanes on PostgreSQL.
const floorBatch = benchLessons * benchWriters / 4

// BenchmarkAppendFloor is the floor the store's appends are measured against:
// the same events, spread over the same benchLessons lessons, stored by raw
// inserts with nothing of the store's work around them (no queue, no lock of
// the lessons' rows, no lookup, no lease, no lesson update, no notification):
// on PostgreSQL, four connections each running one INSERT … SELECT unnest(…)
// of floorBatch events per transaction; on SQLite, one connection inserting
// the rows of benchLessons*benchWriters events with a prepared statement per
// transaction. Sequences come from a counter per lesson. Run it in the same
// invocation as BenchmarkAppend, so that both see the same machine.
func BenchmarkAppendFloor(b *testing.B) {
	b.Run("postgres", func(b *testing.B) {
		s := openPostgres(b)
		pool, err := pgxpool.New(context.Background(), databaseURL(b))
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		for _, kind := range benchEvents {
			b.Run(kind.name, func(b *testing.B) {
				benchFloor(b, s, 4, floorBatch, kind.make, func(ctx context.Context, rows []floorRow) error {
					return pgFloorInsert(ctx, pool, rows)
				})
			})
		}
	})
	b.Run("sqlite", func(b *testing.B) {
		s, db := openSQLiteRaw(b)
		for _, kind := range benchEvents {
			b.Run(kind.name, func(b *testing.B) {
				benchFloor(b, s, 1, benchLessons*benchWriters, kind.make, func(ctx context.Context, rows []floorRow) error {
					return sqliteFloorInsert(ctx, db, rows)
				})
			})
		}
	})
}

// floorRow is one event as the floor inserts it.
type floorRow struct {
	ev   domain.Event
	seq  int64
	data []byte
}

// benchFloor inserts b.N events with workers goroutines, each inserting
// batches of size events, and reports events/s.
func benchFloor(b *testing.B, s eventstore.Store, workers, size int, makeEvent func(uuid.UUID) domain.Event,
	insert func(context.Context, []floorRow) error) {
	lessons := make([]uuid.UUID, benchLessons)
	seqs := make([]atomic.Int64, benchLessons)
	for i := range lessons {
		lessons[i] = newLesson(b, s)
		seqs[i].Store(1)
	}
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	b.ResetTimer()
	start := time.Now()
	for range workers {
		wg.Go(func() {
			rows := make([]floorRow, 0, size)
			for {
				rows = rows[:0]
				for len(rows) < size {
					i := next.Add(1)
					if i > int64(b.N) {
						break
					}
					l := int(i) % benchLessons
					e := makeEvent(lessons[l])
					data, err := domain.EncodePayload(e.Payload)
					if err != nil {
						b.Error(err)
						return
					}
					rows = append(rows, floorRow{ev: e, seq: seqs[l].Add(1), data: data})
				}
				if len(rows) == 0 {
					return
				}
				if err := insert(context.Background(), rows); err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if first != nil {
		b.Fatal(first)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}

func pgFloorInsert(ctx context.Context, pool *pgxpool.Pool, rows []floorRow) error {
	n := len(rows)
	lessons, ids := make([]pgtype.UUID, n), make([]pgtype.UUID, n)
	seqs, versions := make([]int64, n), make([]int16, n)
	kinds, actors, roles, data := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	times := make([]time.Time, n)
	for i, r := range rows {
		e := r.ev
		lessons[i], ids[i] = pgtype.UUID{Bytes: e.Lesson, Valid: true}, pgtype.UUID{Bytes: e.ID, Valid: true}
		seqs[i], versions[i] = r.seq, int16(e.Version)
		kinds[i], actors[i], roles[i], data[i] = string(e.Kind()), e.Actor, string(e.Role), string(r.data)
		times[i] = e.Time
	}
	_, err := pool.Exec(ctx, `
		INSERT INTO events (lesson_id, seq, event_id, version, kind, actor, role, at, data)
		SELECT l, s, i, v, k, a, r, t, d::json
		FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::smallint[], $5::text[], $6::text[], $7::text[],
			$8::timestamptz[], $9::text[]) AS u(l, s, i, v, k, a, r, t, d)`,
		lessons, seqs, ids, versions, kinds, actors, roles, times, data)
	return err
}

func sqliteFloorInsert(ctx context.Context, db *sql.DB, rows []floorRow) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO events (lesson_id, seq, event_id, version, kind, actor, role, at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range rows {
		e := r.ev
		if _, err := stmt.ExecContext(ctx, e.Lesson.String(), r.seq, e.ID.String(), e.Version, string(e.Kind()),
			e.Actor, string(e.Role), e.Time.UnixMicro(), string(r.data)); err != nil {
			return err
		}
	}
	return tx.Commit()
}
