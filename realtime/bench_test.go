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
		b.Run(fmt.Sprintf("lessons=%d", lessons), func(b *testing.B) { benchStrokeLatency(b, lessons, 30, 20) })
	}
}

func benchStrokeLatency(b *testing.B, lessons, students, strokesPerSecond int) {
	store := openStore(b, "postgres")
	ls := startServer(b, store, func(c *realtime.Config) { c.CommandRate, c.CommandBurst = 1000, 1000 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

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
		mustSend(b, ctx, classes[l].clients[0], &domain.DrawingPermitted{Allowed: true})
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
					if _, err := c.SendID(ctx, id, strokeOf(k, 0)); err != nil {
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
// 100,000 events that the class goes on drawing in: before each join the
// teacher draws strokesBetween strokes
// through the live room, which stores its snapshots every snapshots events
// (realtime.Config.SnapshotEvery), so joiners meet the room's latest
// snapshot at every age it can have. Each op is one join, from dialing to a
// state that has caught up; events/op is how many events came after the
// snapshot it was sent, which the joiner reads and folds.
func BenchmarkLateJoinLive(b *testing.B) {
	const strokesBetween = 700 // not a divisor of a snapshot interval
	for _, c := range []struct{ events, every int }{{10_000, 1000}, {10_000, 5000}, {100_000, 1000}, {100_000, 5000}} {
		every := c.every
		b.Run(fmt.Sprintf("events=%d/snapshots=%d", c.events, every), func(b *testing.B) {
			store := openStore(b, "postgres")
			ls := startServer(b, store, func(c *realtime.Config) {
				c.SnapshotEvery = every
				c.CommandRate, c.CommandBurst = 100_000, 100_000
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			fillLesson(b, ls, c.events)
			teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Teacher")
			var caughtUp int64
			var mu sync.Mutex
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
				var n int64
				c, err := ls.join(ctx, domain.RoleStudent, "Late", func(e domain.Event) {
					mu.Lock()
					if e.Seq <= want {
						n++
					}
					mu.Unlock()
				})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if c.Seq() < want {
					b.Fatalf("joined at %d, lesson at %d", c.Seq(), want)
				}
				c.Close()
				mu.Lock()
				caughtUp += n
				mu.Unlock()
				b.StartTimer()
			}
			b.ReportMetric(float64(caughtUp)/float64(b.N), "events/op")
		})
	}
}
