package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/realtime/client"
	"classroom/realtime/token"
)

// BenchmarkClusterLatency measures, in one run, how long a chat line takes from
// its sender's call to its arrival at another participant's client, on
// every path between two nodes: sender and receiver on the owner (the
// single-node path, the baseline), sender on the owner and receiver on the
// follower (delivered from the log through LISTEN), sender on the follower
// (forwarded to the owner over the node link) and receiver on either. The
// issue's target: cross-node p99 within 10 ms of same-node p99; the
// benchmark reports the figures (docs/benchmarks.md) and fails when the
// target is missed. b.N is not used: one run sends 2 × 400 lines.
func BenchmarkClusterLatency(b *testing.B) {
	t := b
	c := startCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lesson, _ := c.startLesson(ctx, "Latency", "teacher")

	var mu sync.Mutex
	sentAt := map[uuid.UUID]time.Time{}
	sentFrom := map[uuid.UUID]int{}
	lat := map[[2]int][]time.Duration{} // by (sender's node, receiver's node)
	receiver := func(node int) *client.Client {
		tok, err := c.tokens.Issue(token.Claims{Lesson: uuid.MustParse(lesson), Role: domain.RoleStudent,
			Participant: fmt.Sprintf("receiver-%d", node), Name: "receiver", Expires: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		cl, err := client.Dial(ctx, client.Options{URL: c.wsURL(node, lesson), Token: tok, Loopback: true,
			OnEvent: func(e domain.Event) {
				now := time.Now()
				mu.Lock()
				defer mu.Unlock()
				if at, ok := sentAt[e.ID]; ok {
					k := [2]int{sentFrom[e.ID], node}
					lat[k] = append(lat[k], now.Sub(at))
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		return cl
	}
	receivers := []*client.Client{receiver(0), receiver(1)}
	writers := []*client.Client{
		c.join(ctx, 0, lesson, domain.RoleStudent, "writer-0"),
		c.join(ctx, 1, lesson, domain.RoleStudent, "writer-1"),
	}
	const perWriter, every = 400, 25 * time.Millisecond
	var wg sync.WaitGroup
	for node, w := range writers {
		wg.Go(func() {
			tick := time.NewTicker(every)
			defer tick.Stop()
			for i := range perWriter {
				<-tick.C
				id := uuid.New()
				mu.Lock()
				sentAt[id], sentFrom[id] = time.Now(), node
				mu.Unlock()
				if _, err := w.SendID(ctx, id, &domain.ChatPosted{Text: fmt.Sprintf("line %d", i)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	c.converge(ctx, lesson, append(receivers, writers...))

	mu.Lock()
	defer mu.Unlock()
	q := func(d []time.Duration, p float64) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[min(len(s)-1, int(p*float64(len(s))))]
	}
	name := []string{"owner", "follower"}
	same := q(lat[[2]int{0, 0}], 0.99)
	worst := time.Duration(0)
	for _, k := range [][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}} {
		d := lat[k]
		if len(d) != perWriter {
			t.Fatalf("%s → %s: %d of %d lines arrived", name[k[0]], name[k[1]], len(d), perWriter)
		}
		p99 := q(d, 0.99)
		if k != [2]int{0, 0} {
			worst = max(worst, p99)
		}
		b.ReportMetric(ms(p99), fmt.Sprintf("p99-ms-%s-to-%s", name[k[0]], name[k[1]]))
		t.Logf("sender on the %s, receiver on the %s: p50 %.1f ms, p99 %.1f ms (%d lines)", name[k[0]], name[k[1]],
			ms(q(d, 0.5)), ms(p99), len(d))
	}
	t.Logf("cross-node p99 (worst path) - same-node p99: %.1f ms (target ≤ 10 ms)", ms(worst-same))
	if worst-same > 10*time.Millisecond {
		t.Errorf("cross-node p99 %.1f ms is %.1f ms above same-node p99 %.1f ms: target ≤ 10 ms", ms(worst), ms(worst-same), ms(same))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
