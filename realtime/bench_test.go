package realtime_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/realtime"
	"classroom/realtime/client"
)

// BenchmarkStrokeLatency measures the time from a participant sending a
// stroke to every other participant of the lesson receiving it, for lessons
// of a teacher and 30 students drawing 20 strokes a second in all, one lesson
// alone and 50 at once, all on this machine (server and clients). Each
// iteration is one second of drawing; run it with -benchtime=10x or so.
func BenchmarkStrokeLatency(b *testing.B) {
	for _, lessons := range []int{1, 50} {
		b.Run(fmt.Sprintf("lessons=%d", lessons), func(b *testing.B) {
			benchStrokeLatency(b, strokeLoad{lessons: lessons, students: 30, strokesPerSecond: 20})
		})
	}
}

// BenchmarkStrokeLatencyLongLesson measures, as BenchmarkStrokeLatency does,
// a lesson of 100,000 events that 10 students and the teacher go on drawing
// in, 100 strokes a second in all, with the room storing a snapshot every
// 1,000 or 5,000 events: each encodes the whole state on the room's
// goroutine, and the room decides and publishes nothing meanwhile. Its
// tail, p99.9 and max, is where the snapshots show; run it for 40 or more
// iterations (seconds) so that the 1,000 interval saves several.
func BenchmarkStrokeLatencyLongLesson(b *testing.B) {
	for _, every := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("events=100000/snapshots=%d", every), func(b *testing.B) {
			benchStrokeLatency(b, strokeLoad{lessons: 1, students: 10, strokesPerSecond: 100, events: 100_000, snapshotEvery: every})
		})
	}
}

// strokeLoad is what benchStrokeLatency runs: lessons of students and a
// teacher drawing strokesPerSecond strokes in all a lesson, the first lesson
// filled with events beforehand (fillLesson; its strokes on slides 0-4, the
// load's on slide 5), the rooms storing a snapshot every snapshotEvery
// events (0: the default).
type strokeLoad struct {
	lessons, students, strokesPerSecond int
	events, snapshotEvery               int
}

func benchStrokeLatency(b *testing.B, load strokeLoad) {
	lessons, students, strokesPerSecond := load.lessons, load.students, load.strokesPerSecond
	store := openStore(b, "postgres")
	ls := startServer(b, store, func(c *realtime.Config) {
		c.CommandRate, c.CommandBurst = 1000, 1000
		c.SnapshotEvery = load.snapshotEvery
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if load.events > 0 {
		fillLesson(b, ls, load.events)
	}

	var (
		mu      sync.Mutex
		sent    = map[uuid.UUID]time.Time{}
		senders = map[uuid.UUID]string{}
		lat     []time.Duration
	)
	type class struct{ clients []*client.Client }
	classes := make([]class, lessons)
	for l := range lessons {
		if l > 0 {
			ls.lesson = uuid.New()
			ev, _ := domain.NewLesson(ls.lesson, uuid.New(), fmt.Sprint("Lesson ", l), time.Now())
			if _, errs, err := store.Append(ctx, ev); err != nil || errs[0] != nil {
				b.Fatal(err, errs)
			}
		}
		for i := range students + 1 {
			role, name := domain.RoleStudent, fmt.Sprintf("Student %d", i)
			if i == 0 {
				role, name = domain.RoleTeacher, "Teacher"
			}
			var me string
			c, err := ls.join(ctx, role, name, func(e domain.Event) {
				if e.Kind() != domain.KindStrokeDrawn {
					return
				}
				now := time.Now()
				mu.Lock()
				if t, ok := sent[e.ID]; ok && senders[e.ID] != me {
					lat = append(lat, now.Sub(t))
				}
				mu.Unlock()
			})
			if err != nil {
				b.Fatal(err)
			}
			me = c.Participant()
			defer c.Close()
			classes[l].clients = append(classes[l].clients, c)
		}
		if l > 0 || load.events == 0 { // fillLesson permits drawing
			mustSend(b, ctx, classes[l].clients[0], &domain.DrawingPermitted{Allowed: true})
		}
	}

	b.ResetTimer()
	interval := time.Second / time.Duration(strokesPerSecond)
	var wg sync.WaitGroup
	for l := range lessons {
		wg.Go(func() {
			tick := time.NewTicker(interval)
			defer tick.Stop()
			// Lessons start out of phase, as real ones would.
			time.Sleep(time.Duration(l) * interval / time.Duration(lessons))
			for k := range b.N * strokesPerSecond {
				<-tick.C
				c := classes[l].clients[k%len(classes[l].clients)]
				id := uuid.New()
				mu.Lock()
				sent[id], senders[id] = time.Now(), c.Participant()
				mu.Unlock()
				go func() {
					if _, err := c.SendID(ctx, id, strokeOf(k, 5)); err != nil {
						b.Error(err)
					}
				}()
			}
		})
	}
	wg.Wait()
	// Wait for the last deliveries; a machine that cannot keep up shows as
	// long latencies, not as a lost measurement.
	want := lessons * b.N * strokesPerSecond * students
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := len(lat)
		mu.Unlock()
		if n >= want {
			break
		}
	}
	b.StopTimer()

	mu.Lock()
	defer mu.Unlock()
	if len(lat) < want {
		b.Fatalf("%d deliveries measured in two minutes, want %d", len(lat), want)
	}
	slices.Sort(lat)
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)*999/1000]), "p99.9-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "deliveries/s")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkLateJoin measures a late joiner's time from dialing to a state
// that has caught up with a lesson of 10,000 and 100,000 events.
func BenchmarkLateJoin(b *testing.B) {
	for _, n := range []int{40, 10_000, 100_000} { // 40: the baseline, connecting alone
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			store := openStore(b, "postgres")
			ls := startServer(b, store, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			fillLesson(b, ls, n)
			// The room's first load is not what a joiner waits for in a
			// running lesson: keep the teacher in it.
			teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Teacher")
			want := ls.replay()
			b.ResetTimer()
			for b.Loop() {
				c, err := ls.join(ctx, domain.RoleStudent, "Late", nil)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if c.Seq() < want.Seq {
					b.Fatalf("joined at %d, lesson at %d", c.Seq(), want.Seq)
				}
				c.Close()
				b.StartTimer()
			}
			_ = teacher
		})
	}
}

// fillLesson appends n events to the lesson, as a class would have: the
// teacher joins and starts, students join and draw.
func fillLesson(b *testing.B, ls *lessonServer, n int) {
	b.Helper()
	st := domain.NewState()
	for e, err := range ls.store.Events(context.Background(), ls.lesson, 0) {
		if err != nil {
			b.Fatal(err)
		}
		st.Apply(e)
	}
	now := time.Now()
	var batch []domain.Event
	do := func(actor string, role domain.Role, p domain.Payload) {
		ev, err := domain.Decide(st, domain.Command{ID: uuid.New(), Actor: actor, Role: role, Payload: p}, now)
		if err != nil {
			b.Fatal(err)
		}
		ev.Seq = st.Seq + 1
		st.Apply(ev)
		batch = append(batch, ev)
		if len(batch) == 2000 {
			if _, errs, err := ls.store.Append(context.Background(), batch...); err != nil || errs[0] != nil {
				b.Fatal(err, errs[0])
			}
			batch = batch[:0]
		}
	}
	do("teacher", domain.RoleTeacher, &domain.ParticipantJoined{Name: "Teacher"})
	do("teacher", domain.RoleTeacher, &domain.LessonStarted{})
	do("teacher", domain.RoleTeacher, &domain.DrawingPermitted{Allowed: true})
	for i := range 30 {
		do(fmt.Sprint("s", i), domain.RoleStudent, &domain.ParticipantJoined{Name: fmt.Sprint("Student ", i)})
	}
	for i := 0; st.Seq < int64(n); i++ {
		do(fmt.Sprint("s", i%30), domain.RoleStudent, strokeOf(i, i%5))
	}
	if len(batch) > 0 {
		if _, errs, err := ls.store.Append(context.Background(), batch...); err != nil || errs[0] != nil {
			b.Fatal(err, errs[0])
		}
	}
}

// BenchmarkLateJoinLive measures a late joiner of a lesson of 10,000 or
// 100,000 events to start with that the class goes on drawing in: before
// each join the teacher draws strokesBetween strokes through the live room,
// which stores its snapshots 1,000 or 5,000 events apart
// (realtime.Config.SnapshotEvery), so that joiners meet the snapshot they
// are sent at ages from a few hundred events to the most the room allows.
// Each op is one join, from dialing to a state that has caught up; max-ms
// is the slowest join, events/op and max-events how many events came after
// the snapshot a joiner was sent, which it reads and folds.
func BenchmarkLateJoinLive(b *testing.B) {
	const strokesBetween = 300
	for _, lesson := range []struct{ events, every int }{{10_000, 1000}, {10_000, 5000}, {100_000, 1000}, {100_000, 5000}} {
		b.Run(fmt.Sprintf("events=%d/snapshots=%d", lesson.events, lesson.every), func(b *testing.B) {
			store := openStore(b, "postgres")
			ls := startServer(b, store, func(c *realtime.Config) {
				c.SnapshotEvery = lesson.every
				c.CommandRate, c.CommandBurst = 100_000, 100_000
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			fillLesson(b, ls, lesson.events)
			teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Teacher")
			var (
				mu                sync.Mutex
				folded, mostFolds int64
				slowest           time.Duration
			)
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				answers := make([]<-chan client.Answer, strokesBetween)
				for i := range answers {
					a, err := teacher.Post(uuid.New(), strokeOf(i, 5+i%5)) // slides the filling left empty
					if err != nil {
						b.Fatal(err)
					}
					answers[i] = a
				}
				var want int64
				for _, a := range answers {
					r := <-a
					if r.Err != nil {
						b.Fatal(r.Err)
					}
					want = max(want, r.Seq)
				}
				b.StartTimer()
				start := time.Now()
				var n int64
				late, err := ls.join(ctx, domain.RoleStudent, "Late", func(e domain.Event) {
					mu.Lock()
					if e.Seq <= want {
						n++
					}
					mu.Unlock()
				})
				if err != nil {
					b.Fatal(err)
				}
				took := time.Since(start)
				b.StopTimer()
				if late.Seq() < want {
					b.Fatalf("joined at %d, lesson at %d", late.Seq(), want)
				}
				late.Close()
				mu.Lock()
				folded += n
				mostFolds = max(mostFolds, n)
				mu.Unlock()
				slowest = max(slowest, took)
				b.StartTimer()
			}
			b.ReportMetric(ms(slowest), "max-ms")
			b.ReportMetric(float64(folded)/float64(b.N), "events/op")
			b.ReportMetric(float64(mostFolds), "max-events")
		})
	}
}
