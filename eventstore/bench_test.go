package eventstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"classroom/domain"
	"classroom/eventstore"
)

// The append benchmarks model a school's busy hour: benchLessons lessons at
// once, each with benchWriters participants whose events are appended
// concurrently (every append is one event and waits for its commit, as a
// live lesson's acknowledgement does). The "naive" variants are the baseline
// group commit is measured against: one INSERT and one commit per event, at
// the same concurrency, with the same per-lesson sequence rule.
const (
	benchLessons = 50
	benchWriters = 20
)

// benchEvents are the two sizes of event the benchmarks store.
var benchEvents = []struct {
	name string
	make func(uuid.UUID) domain.Event
}{
	// A chat line or a hand: about 200 bytes with its envelope.
	{"small", func(l uuid.UUID) domain.Event { return chat(l, "Could you repeat the last step?") }},
	// A stroke segment of 20 points: about 750 bytes.
	{"stroke", func(l uuid.UUID) domain.Event { return stroke(l, 20) }},
}

// appendFunc appends one event and returns when it is committed.
type appendFunc func(ctx context.Context, e domain.Event) error

func BenchmarkAppend(b *testing.B) {
	b.Run("postgres/grouped", func(b *testing.B) {
		s := openPostgres(b)
		benchAppend(b, s, func(ctx context.Context, e domain.Event) error {
			_, errs, err := s.Append(ctx, e)
			if err == nil {
				err = errs[0]
			}
			return err
		})
	})
	b.Run("postgres/naive", func(b *testing.B) {
		s := openPostgres(b)
		pool, err := pgxpool.New(context.Background(), databaseURL(b))
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		benchAppend(b, s, func(ctx context.Context, e domain.Event) error {
			data, err := domain.EncodePayload(e.Payload)
			if err != nil {
				return err
			}
			tx, err := pool.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(ctx)
			var seq int64
			if err := tx.QueryRow(ctx, `UPDATE lessons SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq`,
				e.Lesson).Scan(&seq); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO events (lesson_id, seq, event_id, version, kind, actor, role, at, data)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, e.Lesson, seq, e.ID, e.Version, string(e.Kind()),
				e.Actor, string(e.Role), e.Time, string(data)); err != nil {
				return err
			}
			return tx.Commit(ctx)
		})
	})
	b.Run("sqlite/grouped", func(b *testing.B) {
		dir := b.TempDir()
		s, err := eventstore.OpenSQLite(context.Background(), dir, quietLogger())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchAppend(b, s, func(ctx context.Context, e domain.Event) error {
			_, errs, err := s.Append(ctx, e)
			if err == nil {
				err = errs[0]
			}
			return err
		})
	})
	b.Run("sqlite/naive", func(b *testing.B) {
		s, db := openSQLiteRaw(b)
		benchAppend(b, s, func(ctx context.Context, e domain.Event) error {
			data, err := domain.EncodePayload(e.Payload)
			if err != nil {
				return err
			}
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var seq int64
			if err := tx.QueryRowContext(ctx, `UPDATE lessons SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq`,
				e.Lesson.String()).Scan(&seq); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO events (lesson_id, seq, event_id, version, kind, actor, role, at, data)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.Lesson.String(), seq, e.ID.String(), e.Version, string(e.Kind()),
				e.Actor, string(e.Role), e.Time.UnixMicro(), string(data)); err != nil {
				return err
			}
			return tx.Commit()
		})
	})
}

// benchAppendEvents appends b.N events spread over benchLessons lessons by
// benchLessons*benchWriters goroutines, and reports events/s and the p50 and
// p99 of the time from append to acknowledgement.
func benchAppend(b *testing.B, s eventstore.Store, appendOne appendFunc) {
	for _, kind := range benchEvents {
		b.Run(kind.name, func(b *testing.B) { benchAppendEvents(b, s, appendOne, kind.make) })
	}
}

func benchAppendEvents(b *testing.B, s eventstore.Store, appendOne appendFunc, makeEvent func(uuid.UUID) domain.Event) {
	lessons := make([]uuid.UUID, benchLessons)
	for i := range lessons {
		lessons[i] = newLesson(b, s)
	}
	ctx := context.Background()
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
			lesson := lessons[w%benchLessons]
			mine := make([]time.Duration, 0, b.N/(benchLessons*benchWriters)+1)
			for next.Add(1) <= int64(b.N) {
				e := makeEvent(lesson)
				t := time.Now()
				if err := appendOne(ctx, e); err != nil {
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
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	reportLatency(b, lat)
}

// reportLatency reports the p50 and p99 of latencies, which it sorts.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkReadLesson reads a 100,000-event lesson from the start, as a late
// joiner with no snapshot or an export would: every event is decoded.
func BenchmarkReadLesson(b *testing.B) {
	const n = 100_000
	read := func(b *testing.B, s eventstore.Store, makeEvent func(uuid.UUID) domain.Event) {
		lesson := newLesson(b, s)
		batch := make([]domain.Event, 0, 2000)
		for i := range n - 1 {
			batch = append(batch, makeEvent(lesson))
			if len(batch) == cap(batch) || i == n-2 {
				mustAppend(b, s, batch...)
				batch = batch[:0]
			}
		}
		b.ResetTimer()
		for b.Loop() {
			count := 0
			for _, err := range s.Events(context.Background(), lesson, 0) {
				if err != nil {
					b.Fatal(err)
				}
				count++
			}
			if count != n {
				b.Fatalf("read %d events, want %d", count, n)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	}
	for _, store := range []string{"postgres", "sqlite"} {
		for _, kind := range benchEvents {
			b.Run(store+"/"+kind.name, func(b *testing.B) {
				var s eventstore.Store
				if store == "postgres" {
					s = openPostgres(b)
				} else {
					sq, err := eventstore.OpenSQLite(context.Background(), b.TempDir(), quietLogger())
					if err != nil {
						b.Fatal(err)
					}
					defer sq.Close()
					s = sq
				}
				read(b, s, kind.make)
			})
		}
	}
}

// openSQLiteRaw opens an SQLite store in a fresh directory and a raw
// connection to its file, with the store's durability (WAL, synchronous=FULL)
// and one writer, queued in Go rather than on the file lock. Both are closed
// when b ends.
func openSQLiteRaw(b *testing.B) (*eventstore.SQLite, *sql.DB) {
	dir := b.TempDir()
	s, err := eventstore.OpenSQLite(context.Background(), dir, quietLogger())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, eventstore.SQLiteFile)+
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	return s, db
}
