package eventstore_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
)

// BenchmarkAppendOffered measures the acknowledgement latency of appends
// offered at a fixed rate rather than as fast as they are acknowledged: it
// first finds the store's maximum (benchLessons*benchWriters appenders, as
// BenchmarkAppend), then offers b.N small events at 80 % of it, open loop:
// event i is due at start + i/rate whatever happened to the ones before,
// and its latency runs from when it was due to its acknowledgement, so a
// queue that builds up counts in full.
//
// The maximum is what the store sustains on a table the size the offered
// run writes into: the lessons first take max(b.N, offeredProbe) events
// unmeasured, then the next max(b.N, offeredProbe) measure it. (A short
// probe on a fresh table found a maximum the store could not hold once the
// table had grown, and the offered run queued.) It also reports the rate
// achieved: below the offered one, the store did not keep up; and p99 of
// the load's lag, from an event's due time to its call.
func BenchmarkAppendOffered(b *testing.B) {
	const offeredProbe = 100_000
	run := func(b *testing.B, s eventstore.Store) {
		lessons := make([]uuid.UUID, benchLessons)
		for i := range lessons {
			lessons[i] = newLesson(b, s)
		}
		appendOne := func(e domain.Event) error {
			_, errs, err := s.Append(context.Background(), e)
			if err == nil {
				err = errs[0]
			}
			return err
		}
		maxRate := appendMaximum(b, s, lessons, int64(max(b.N, offeredProbe)))
		rate := 0.8 * maxRate

		// 80 % of it, open loop. lat runs from an event's due time to its
		// acknowledgement; lag from its due time to its call, the part of
		// lat that is the load's own (the CPU it waits for to start it).
		lat := make([]time.Duration, b.N)
		lag := make([]time.Duration, b.N)
		var (
			failed atomic.Int64
			wg     sync.WaitGroup
		)
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
			wg.Go(func() {
				lag[i] = time.Since(due)
				if err := appendOne(chat(lessons[i%benchLessons], "Could you repeat the last step?")); err != nil {
					failed.Add(1)
				}
				lat[i] = time.Since(due)
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		if n := failed.Load(); n > 0 {
			b.Fatalf("%d appends failed", n)
		}
		reportOffered(b, maxRate, rate, elapsed, lat, lag)
	}
	onStores(b, run)
}

// appendMaximum is the store's maximum as the offered-load benchmarks take
// it: benchLessons*benchWriters appenders of one small event each, closed
// loop, into lessons, measured over n appends after n unmeasured ones (so
// on a table the size the offered run writes into). It stops the benchmark
// when an append fails; call it from the benchmark's goroutine.
func appendMaximum(b *testing.B, s eventstore.Store, lessons []uuid.UUID, n int64) float64 {
	closedLoop := func() float64 {
		var (
			next atomic.Int64
			wg   sync.WaitGroup
		)
		start := time.Now()
		for w := range benchLessons * benchWriters {
			wg.Go(func() {
				for next.Add(1) <= n {
					_, errs, err := s.Append(context.Background(), chat(lessons[w%len(lessons)], "Could you repeat the last step?"))
					if err == nil {
						err = errs[0]
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return float64(n) / time.Since(start).Seconds()
	}
	closedLoop()
	rate := closedLoop()
	if b.Failed() { // an appender failed: the rate says nothing
		b.FailNow()
	}
	return rate
}

// onStores runs run as the sub-benchmarks postgres and sqlite, each on a
// store of its own.
func onStores(b *testing.B, run func(*testing.B, eventstore.Store)) {
	b.Run("postgres", func(b *testing.B) { run(b, openPostgres(b)) })
	b.Run("sqlite", func(b *testing.B) {
		s, err := eventstore.OpenSQLite(context.Background(), b.TempDir(), quietLogger())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		run(b, s)
	})
}

// reportOffered reports an offered run of b.N events: the maximum, the
// rate offered and the rate achieved, p50 and p99 of lat, and p99 of lag,
// the load's own part; it sorts lat and lag.
func reportOffered(b *testing.B, maxRate, rate float64, elapsed time.Duration, lat, lag []time.Duration) {
	b.ReportMetric(maxRate, "max-events/s")
	b.ReportMetric(rate, "offered-events/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	reportLatency(b, lat)
	slices.Sort(lag)
	b.ReportMetric(ms(lag[len(lag)*99/100]), "p99-lag-ms")
}
