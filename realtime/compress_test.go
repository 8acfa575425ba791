package realtime_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"classroom/domain"
	"classroom/realtime"
	"classroom/realtime/client"
	"classroom/realtime/protocol"
)

// compressedSent reads the server's count of events messages sent compressed.
func compressedSent(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "classroom_events_messages_compressed_total" {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// TestCompressedEventsToWhoTakesThem: in one lesson, clients of protocol
// version 2 and of version 3 draw at once. The server sends the version 3
// clients events messages compressed, live and in a resume's catch-up,
// and the version 2 clients JSON text only (a version 2 client takes a
// binary message outside a snapshot for a protocol violation); every
// client ends with the store's state, with no gap and no duplicate.
func TestCompressedEventsToWhoTakesThem(t *testing.T) {
	reg := prometheus.NewRegistry()
	ls := startServer(t, openStore(t, "sqlite"), func(c *realtime.Config) { c.Metrics = reg })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dial := func(role domain.Role, name string, version int) *client.Client {
		t.Helper()
		participant := ""
		if role == domain.RoleTeacher {
			participant = "teacher"
		}
		c, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: ls.token(role, participant, time.Hour), Name: name,
			Loopback: true, Version: version})
		if err != nil {
			t.Fatalf("%s joins: %v", name, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	teacher := dial(domain.RoleTeacher, "Ms Lovelace", 2)
	ann := dial(domain.RoleStudent, "Ann", protocol.Compressed)
	bob := dial(domain.RoleStudent, "Bob", 2)
	cyd := dial(domain.RoleStudent, "Cyd", 0) // the client's own version
	ls.present(teacher, ann, bob, cyd)
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	mustSend(t, ctx, teacher, &domain.DrawingPermitted{Allowed: true})

	draw := func(who []*client.Client, parts int) {
		t.Helper()
		var wg sync.WaitGroup
		for i, c := range who {
			wg.Go(func() {
				for k := range parts {
					if _, err := send(ctx, c, strokeOf(i*100+k, 0)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}
	draw([]*client.Client{teacher, ann, bob, cyd}, 40)
	converge(t, ls, teacher, ann, bob, cyd)
	live := compressedSent(t, reg)
	if live == 0 {
		t.Fatal("no events message was sent compressed to the version 3 clients")
	}

	// Ann misses what the others draw, and catches up when she resumes:
	// her catch-up comes compressed too.
	ann.Drop()
	before := compressedSent(t, reg)
	draw([]*client.Client{teacher, bob}, 300)
	converge(t, ls, teacher, bob, cyd)
	cydOnly := compressedSent(t, reg) - before
	if err := ann.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	converge(t, ls, teacher, ann, bob, cyd)
	// 600 stroke parts of about 500 bytes are several messages of the
	// catch-up; Ann's join is one more, live, to her and to Cyd.
	if caughtUp := compressedSent(t, reg) - before - cydOnly; caughtUp < 4 {
		t.Errorf("Ann's resume sent %v compressed messages, want her catch-up's (at least 3) and her join", caughtUp)
	}
}
