package realtime_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"classroom/domain"
	"classroom/realtime"
	"classroom/realtime/client"
	"classroom/realtime/client/drawload"
	"classroom/realtime/protocol"
)

// How the benchmark's students draw, after the browser's board: a stroke is
// committed as stroke.drawn parts at most partsPerSecond times a second,
// each part carrying the points since the last one.
const (
	drawSpan       = 10 * time.Second // of drawing, per iteration
	partsPerSecond = 30
	minPoints      = 5 // points a part, when its ack came in time
	maxPoints      = 10
	minStroke      = 500 * time.Millisecond
	maxStroke      = 2 * time.Second
	minPause       = 200 * time.Millisecond // between two strokes
	maxPause       = time.Second
	dialAtOnce     = 4 // peers connecting at the same time, before the timer starts
)

// BenchmarkClassDrawing measures whether every board of a lesson stays in
// step while the whole class draws at once: a teacher who lets everyone draw
// and 60 students, each a real pion peer on loopback, each drawing strokes
// the way the browser's board sends them, for drawSpan per iteration. The
// same lesson with 1, 10 and 30 students drawing is the baseline. It runs on
// the embedded SQLite store, and on PostgreSQL too when DATABASE_URL is set.
// Server, clients and database share the machine's cores.
//
// Reported, per run:
//   - commit-p50/p95/p99-ms: a command's send to its ack, at its sender;
//   - fanout-p50/p95/p99/max-ms: a command's send to the moment the last of
//     all participants (the teacher, every student) applied its event;
//   - events/s: commands committed a second over the drawing;
//   - converge-ms: from the last ack to the moment the last participant
//     applied the last event (negative when everyone had it before the
//     last sender had its ack); every participant's state hash must then
//     equal the store's replay, or the benchmark fails;
//   - late-parts-%: parts that went later than their slot because the
//     previous part's ack had not come yet (they then carry more points);
//   - refused: commands refused (rate limits included); any fails the run;
//   - cpu-cores: CPU time this process used over the timed span, per second;
//   - cpu-wait-cores: time its threads waited, ready to run, for a CPU, per
//     second: how much other processes held it back.
//
// It logs what the server did (appends, their size and time, messages) and
// the datagrams this process's sockets dropped, to tell where time went.
func BenchmarkClassDrawing(b *testing.B) {
	stores := []string{"sqlite"}
	if os.Getenv("DATABASE_URL") != "" {
		stores = append(stores, "postgres")
	}
	for _, store := range stores {
		for _, students := range []int{1, 10, 30, 60} {
			b.Run(fmt.Sprintf("store=%s/students=%d", store, students), func(b *testing.B) {
				benchClassDrawing(b, store, students)
			})
		}
	}
}

// drawer is one participant of the benchmark: its client, when it applied
// each event, and, for what it sent, when it sent it and how long the ack
// took. Fold runs on the client's receiving goroutine, draw on the
// benchmark's.
type drawer struct {
	drawload.Arrivals // when it applied each event
	c                 *client.Client

	// Owned by draw until it returns.
	sent    map[uuid.UUID]time.Duration
	commits []time.Duration // send to ack
	lastAck time.Duration
	parts   int
	late    int // parts held past their slot by the previous part's ack
	refused map[domain.Code]int
	err     error // a failure other than a refusal
}

// draw draws strokes, a pause between two, until the time is up.
func (d *drawer) draw(ctx context.Context, rng *rand.Rand, until time.Time) {
	d.sent, d.refused = map[uuid.UUID]time.Duration{}, map[domain.Code]int{}
	pen := drawload.NewPen(rng)
	for time.Now().Before(until) && d.err == nil {
		d.stroke(ctx, rng, pen, drawload.Between(rng, minStroke, maxStroke))
		select {
		case <-time.After(drawload.Between(rng, minPause, maxPause)):
		case <-ctx.Done():
			d.err = ctx.Err()
		}
	}
}

// stroke sends one stroke's parts, one every 1/partsPerSecond while the
// pen is down, and a last one when it lifts. A part waits for the previous
// one's ack (the only way to keep them in order with client.SendID) and then
// carries the points drawn meanwhile, as the board's would.
func (d *drawer) stroke(ctx context.Context, rng *rand.Rand, pen *drawload.Pen, length time.Duration) {
	const slot = time.Second / partsPerSecond
	perSlot := drawload.Between(rng, minPoints, maxPoints+1) // the pointer's rate, as points a slot
	begun := time.Now()
	s := &domain.StrokeDrawn{Object: uuid.New(), Tool: domain.ToolPen, Color: "#1e40af", Width: 3}
	var drawn time.Duration // of the stroke, sent so far
	next := slot            // when the next part is due, from the stroke's start
	for part := 0; drawn < length; part++ {
		if wait := min(next, length) - time.Since(begun); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				d.err = ctx.Err()
				return
			}
		} else if part > 0 && time.Since(begun) > next {
			d.late++
		}
		now := time.Now()
		upTo := min(now.Sub(begun), length)
		n := max(1, int(int64(perSlot)*int64(upTo-drawn)/int64(slot)))
		pts := pen.Part(n, drawn, upTo)
		drawn = upTo
		s.Part, s.Points = part, pts
		if part == 1 {
			s.Tool, s.Color, s.Width = "", "", 0 // style rides on part 0 only
		}
		id := uuid.New()
		at := now.Sub(d.Epoch)
		d.sent[id] = at
		_, err := d.c.SendID(ctx, id, s)
		acked := time.Since(d.Epoch)
		d.parts++
		if err != nil {
			var refusal *domain.Error
			if !errors.As(err, &refusal) {
				d.err = err
				return
			}
			delete(d.sent, id)
			d.refused[refusal.Code]++
			return // the rest of this stroke would be refused too
		}
		d.commits = append(d.commits, acked-at)
		d.lastAck = max(d.lastAck, acked)
		next = max(next, now.Sub(begun)) + slot // a late part starts the next slot
	}
}

func benchClassDrawing(b *testing.B, store string, students int) {
	reg := prometheus.NewRegistry()
	// The protocol's rate limits, and the server's metrics to read what it did.
	ls := startServer(b, openStore(b, store), func(c *realtime.Config) { c.Metrics = reg })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	epoch := time.Now()

	// Everyone joins before the timer starts, a few at a time: ICE for a
	// whole class at once on two cores takes longer than it is worth.
	drawers := make([]*drawer, students+1) // the teacher first
	for i := range drawers {
		drawers[i] = &drawer{Arrivals: drawload.Arrivals{Epoch: epoch}}
	}
	defer func() {
		inParallel(len(drawers), dialAtOnce, func(i int) error {
			if c := drawers[i].c; c != nil {
				c.Close()
			}
			return nil
		})
	}()
	join := func(i int) error {
		role, name := domain.RoleStudent, fmt.Sprintf("Student %d", i)
		if i == 0 {
			role, name = domain.RoleTeacher, "Teacher"
		}
		c, err := ls.join(ctx, role, name, drawers[i].Fold)
		if err != nil {
			return fmt.Errorf("%s joins: %w", name, err)
		}
		drawers[i].c = c
		return nil
	}
	if err := join(0); err != nil {
		b.Fatal(err)
	}
	mustSend(b, ctx, drawers[0].c, &domain.LessonStarted{})
	mustSend(b, ctx, drawers[0].c, &domain.DrawingPermitted{Allowed: true})
	joining := time.Now()
	if err := inParallel(students, dialAtOnce, func(i int) error { return join(i + 1) }); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d students joined in %v", students, time.Since(joining).Round(time.Millisecond))
	settle(b, ls, drawers)

	drops, before, cpu, waited := udpDrops(), serverCounts(b, reg), cpuTime(), runQueueWait()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, d := range drawers[1:] {
		rng := rand.New(rand.NewPCG(uint64(students), uint64(i)))
		wg.Go(func() { d.draw(ctx, rng, start.Add(time.Duration(b.N)*drawSpan)) })
	}
	wg.Wait()
	last := settle(b, ls, drawers)
	b.StopTimer()
	if used := cpuTime() - cpu; cpu >= 0 {
		// Below 2 on two cores while lagging: other processes had the CPU.
		b.ReportMetric(used.Seconds()/time.Since(start).Seconds(), "cpu-cores")
	}
	if w := runQueueWait() - waited; waited >= 0 {
		// Above 0: this process's threads were ready to run, and waited.
		b.ReportMetric(w.Seconds()/time.Since(start).Seconds(), "cpu-wait-cores")
	}
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		b.Logf("load average at the end: %s", strings.TrimSpace(string(load)))
	}
	if n := udpDrops() - drops; drops >= 0 {
		b.Logf("UDP datagrams dropped by this process's sockets while drawing: %d", n)
	}
	after := serverCounts(b, reg)
	if n := after.appends - before.appends; n > 0 {
		b.Logf("server: %.0f appends of %.1f events on average, %.1f ms each; %.0f messages received, %.0f sent (%.0f bytes on average) on the events channel",
			n, (after.appended-before.appended)/n, 1000*(after.appendSeconds-before.appendSeconds)/n,
			after.received-before.received, after.sent-before.sent, (after.sentBytes-before.sentBytes)/(after.sent-before.sent))
	}

	var (
		commits, lags   []time.Duration
		lastAck         time.Duration
		parts, late     int
		refused         = map[domain.Code]int{}
		sent            = map[uuid.UUID]time.Duration{}
		committedEvents int
	)
	for _, d := range drawers[1:] {
		if d.err != nil {
			b.Fatalf("%s: %v", d.c.Participant(), d.err)
		}
		commits = append(commits, d.commits...)
		lastAck = max(lastAck, d.lastAck)
		parts, late = parts+d.parts, late+d.late
		for code, n := range d.refused {
			refused[code] += n
		}
		for id, at := range d.sent {
			sent[id] = at
		}
	}
	slowest := make([]time.Duration, len(drawers)) // each participant's worst lag
	for _, e := range last.events {
		at, ok := sent[e.ID]
		if !ok {
			continue
		}
		committedEvents++
		var lag time.Duration
		for i, d := range drawers {
			got, ok := d.At(e.Seq)
			if !ok {
				b.Fatalf("%s never applied event %d", d.c.Participant(), e.Seq)
			}
			lag = max(lag, got-at)
			slowest[i] = max(slowest[i], got-at)
		}
		lags = append(lags, lag)
	}
	byLag := make([]int, len(drawers))
	for i := range byLag {
		byLag[i] = i
	}
	slices.SortFunc(byLag, func(i, j int) int { return cmp.Compare(slowest[j], slowest[i]) })
	b.Logf("each participant's worst lag: the slowest's (participant %d) %v, the median's %v", byLag[0],
		slowest[byLag[0]].Round(time.Millisecond), slowest[byLag[len(byLag)/2]].Round(time.Millisecond))
	if committedEvents != len(commits) {
		b.Fatalf("%d commands acknowledged, %d of them in the log", len(commits), committedEvents)
	}
	if len(commits) == 0 {
		b.Fatal("nothing was drawn")
	}
	slices.Sort(commits)
	slices.Sort(lags)
	b.ReportMetric(ms(percentile(commits, 50)), "commit-p50-ms")
	b.ReportMetric(ms(percentile(commits, 95)), "commit-p95-ms")
	b.ReportMetric(ms(percentile(commits, 99)), "commit-p99-ms")
	b.ReportMetric(ms(percentile(lags, 50)), "fanout-p50-ms")
	b.ReportMetric(ms(percentile(lags, 95)), "fanout-p95-ms")
	b.ReportMetric(ms(percentile(lags, 99)), "fanout-p99-ms")
	b.ReportMetric(ms(lags[len(lags)-1]), "fanout-max-ms")
	b.ReportMetric(float64(len(commits))/(lastAck-start.Sub(epoch)).Seconds(), "events/s")
	b.ReportMetric(ms(last.at-lastAck), "converge-ms")
	b.ReportMetric(100*float64(late)/float64(parts), "late-parts-%")
	total := 0
	for _, n := range refused {
		total += n
	}
	b.ReportMetric(float64(total), "refused")
	if total > 0 {
		b.Errorf("%d commands refused: %v", total, refused)
	}
}

// inStep is the lesson as the store holds it once every participant has
// applied all of it, and when the last of them had.
type inStep struct {
	events []domain.Event
	at     time.Duration
}

// settle waits until every participant has applied the whole stored log,
// checks that each one's state is the store's, and returns the log.
func settle(b *testing.B, ls *lessonServer, drawers []*drawer) inStep {
	b.Helper()
	want := domain.NewState()
	var events []domain.Event
	for e, err := range ls.store.Events(context.Background(), ls.lesson, 0) {
		if err != nil {
			b.Fatal(err)
		}
		want.Apply(e)
		events = append(events, e)
	}
	var at time.Duration
	for _, d := range drawers {
		deadline := time.Now().Add(2 * time.Minute)
		for d.c.Seq() < want.Seq {
			if time.Now().After(deadline) {
				b.Fatalf("%s at seq %d two minutes on, the lesson at %d", d.c.Participant(), d.c.Seq(), want.Seq)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := d.c.Err(); err != nil {
			b.Fatalf("%s saw a protocol violation: %v", d.c.Participant(), err)
		}
		if got := d.c.Hash(); got != want.Hash() {
			b.Fatalf("%s is out of step: state hash %s at seq %d, the store's %s at %d",
				d.c.Participant(), got, d.c.Seq(), want.Hash(), want.Seq)
		}
		t, _ := d.At(want.Seq)
		at = max(at, t)
	}
	return inStep{events: events, at: at}
}

// inParallel calls f(0) … f(n-1) with at most limit at a time and returns
// the first error.
func inParallel(n, limit int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, limit)
	)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// counts are some of the server's metrics.
type counts struct {
	appends, appended, appendSeconds, received, sent, sentBytes float64
}

func serverCounts(b *testing.B, reg *prometheus.Registry) counts {
	families, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	var c counts
	for _, f := range families {
		for _, m := range f.GetMetric() {
			events := false
			for _, l := range m.GetLabel() {
				events = events || l.GetName() == "channel" && l.GetValue() == protocol.EventsChannel
			}
			switch f.GetName() {
			case "classroom_append_seconds":
				c.appends, c.appendSeconds = float64(m.GetHistogram().GetSampleCount()), m.GetHistogram().GetSampleSum()
			case "classroom_events_appended_total":
				c.appended = m.GetCounter().GetValue()
			case "classroom_datachannel_messages_received_total":
				if events {
					c.received = m.GetCounter().GetValue()
				}
			case "classroom_datachannel_messages_sent_total":
				if events {
					c.sent = m.GetCounter().GetValue()
				}
			case "classroom_datachannel_bytes_sent_total":
				if events {
					c.sentBytes = m.GetCounter().GetValue()
				}
			}
		}
	}
	return c
}

// cpuTime returns the CPU time this process has used (Linux), or -1. It
// assumes the kernel's usual 100 clock ticks a second.
func cpuTime() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return -1
	}
	// The fields after the command's name, which is in parentheses.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return -1
	}
	user, err1 := strconv.ParseInt(f[11], 10, 64)
	system, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(user+system) * 10 * time.Millisecond
}

// runQueueWait returns how long this process's threads have waited, ready
// to run, for a CPU (Linux), or -1. Threads that have exited are not counted.
func runQueueWait() time.Duration {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return -1
	}
	var wait time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread has exited
		}
		// on-CPU ns, waiting ns, time slices
		if f := strings.Fields(string(b)); len(f) == 3 {
			if ns, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				wait += time.Duration(ns)
			}
		}
	}
	return wait
}

// udpDrops returns how many datagrams this process's UDP sockets have
// dropped for a full receive buffer (Linux), or -1 when it cannot tell.
func udpDrops() int64 {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	mine := map[string]bool{}
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil {
			if inode, ok := strings.CutPrefix(target, "socket:["); ok {
				mine[strings.TrimSuffix(inode, "]")] = true
			}
		}
	}
	var drops int64
	for _, table := range []string{"/proc/self/net/udp", "/proc/self/net/udp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			return -1
		}
		for line := range strings.Lines(string(b)) {
			// sl local rem st queues tr retrnsmt uid timeout inode ref pointer drops
			f := strings.Fields(line)
			if len(f) < 13 || !mine[f[9]] {
				continue
			}
			if n, err := strconv.ParseInt(f[12], 10, 64); err == nil {
				drops += n
			}
		}
	}
	return drops
}

// percentile returns the p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}
