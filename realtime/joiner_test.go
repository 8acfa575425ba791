package realtime_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"classroom/domain"
	"classroom/realtime"
)

// TestJoinerFoldsLittle: a late joiner is sent a snapshot at most 1,000
// events behind the lesson, however far apart the room stores its
// snapshots: the room encodes a fresh one from its state when its latest is
// older, and reuses it for the joiners after while it is recent.
func TestJoinerFoldsLittle(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), func(c *realtime.Config) {
		c.SnapshotEvery = 5000
		c.CommandRate, c.CommandBurst = 1_000_000, 1_000_000
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	for i, strokes := range []int{1500, 600, 600} {
		drawMany(t, ctx, teacher, strokes)
		converge(t, ls, teacher)
		at := teacher.Seq()
		var mu sync.Mutex
		folded := 0
		late, err := ls.join(ctx, domain.RoleStudent, fmt.Sprint("Late ", i), func(e domain.Event) {
			mu.Lock()
			defer mu.Unlock()
			if e.Seq <= at {
				folded++
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		n := folded
		mu.Unlock()
		if n > realtime.JoinerFold {
			t.Fatalf("joiner %d, at seq %d, was sent %d events after its snapshot, want at most %d", i, at, n, realtime.JoinerFold)
		}
		if i == 1 && n < strokes {
			// The snapshot encoded for joiner 0 is recent: reused.
			t.Fatalf("joiner 1 was sent %d events after its snapshot, want the %d strokes since joiner 0's", n, strokes)
		}
		t.Logf("joiner %d, at seq %d: %d events after its snapshot", i, at, n)
		converge(t, ls, teacher, late)
		late.Close()
	}
}

// TestSnapshotsAcrossRestart: the events a room finds after its latest
// stored snapshot when it loads count towards its next one, so a restart
// does not leave a stretch of the log longer than SnapshotEvery without a
// snapshot (a seek, a joiner and the next load would fold all of it).
func TestSnapshotsAcrossRestart(t *testing.T) {
	const every = 500
	ls := startServer(t, openStore(t, "sqlite"), func(c *realtime.Config) {
		c.SnapshotEvery = every
		c.CommandRate, c.CommandBurst = 1_000_000, 1_000_000
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	drawMany(t, ctx, teacher, every*3/5)
	converge(t, ls, teacher)
	teacher.Close()
	if _, err := ls.store.LatestSnapshot(ctx, ls.lesson, 0); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("a snapshot before %d events: %v", every, err)
	}
	ls.restart()
	teacher = ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	drawMany(t, ctx, teacher, every*3/5)
	converge(t, ls, teacher)
	waitFor(t, 10*time.Second, fmt.Sprintf("a snapshot by seq %d", every+every/5), func() bool {
		s, err := ls.store.LatestSnapshot(ctx, ls.lesson, 0)
		return err == nil && s.Seq <= every+every/5
	})
}
