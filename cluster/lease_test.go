package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/cluster"
)

// TestLeaseOfDeadOwner: a lease whose holder is alive (its life lock held)
// is not taken before its expiry, however often another node asks; once the
// holder's life lock is gone (its process died: the connection closed), the
// next node to ask takes the lease at once, under the next epoch, long
// before its expiry. A holder that never took its life lock counts as dead.
func TestLeaseOfDeadOwner(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	// Within 10 s of PostgreSQL's start (lifeRelock) no lock counts as
	// gone; a throwaway cluster of scripts/test may be that young.
	var started time.Time
	if err := pool.QueryRow(ctx, `SELECT pg_postmaster_start_time()`).Scan(&started); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(started.Add(11 * time.Second)))
	suffix := uuid.NewString()[:8]
	ttl := time.Minute // an expiry that would show
	a := cluster.NewLeases(pool, ttl, "a-"+suffix)
	if err := a.Start(ctx, quiet()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := cluster.NewLeases(pool, ttl, "b-"+suffix)
	if err := b.Start(ctx, quiet()); err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	lesson := uuid.New()
	la, ok, err := a.Acquire(ctx, lesson)
	if err != nil || !ok {
		t.Fatalf("a acquires: %v %v", ok, err)
	}
	for range 3 {
		if l, ok, err := b.Acquire(ctx, lesson); err != nil || ok || l.Owner != la.Owner || l.Epoch != la.Epoch {
			t.Fatalf("b takes the lease of a live owner: %+v %v %v", l, ok, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// a's own lease is not taken again by a.
	if l, ok, err := a.Acquire(ctx, lesson); err != nil || !ok || l.Epoch != la.Epoch {
		t.Fatalf("a acquires its own lease: %+v %v %v", l, ok, err)
	}

	// As a killed process's connection closes; its backend drops the lock
	// as it exits, a moment later.
	a.Close()
	closed := time.Now()
	lb, ok, err := b.Acquire(ctx, lesson)
	for err == nil && !ok && time.Since(closed) < 5*time.Second {
		time.Sleep(20 * time.Millisecond)
		lb, ok, err = b.Acquire(ctx, lesson)
	}
	if err != nil || !ok || lb.Epoch != la.Epoch+1 || lb.Node() != "b-"+suffix {
		t.Fatalf("b takes the lease of a dead owner: %+v %v %v", lb, ok, err)
	}
	t.Logf("the dead owner's lease taken %v after its connection closed", time.Since(closed).Round(time.Millisecond))
	if _, err := a.Renew(ctx, la); err == nil {
		t.Fatal("the dead owner renews its lease")
	}

	// b's life lock's connection breaks while b lives: b locks again.
	lockHolder := func() (pid int32) {
		t.Helper()
		err := pool.QueryRow(ctx, `SELECT coalesce(max(pid), 0) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2
			AND classid = $1::int4::oid AND objid = hashtext($2)::oid AND granted`, 0x636c6173 /* the life locks' class */, lb.Owner).Scan(&pid)
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	first := lockHolder()
	if first == 0 {
		t.Fatal("b holds no life lock")
	}
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, first); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pid := lockHolder(); pid == 0 || pid == first; pid = lockHolder() {
		if time.Now().After(deadline) {
			t.Fatal("b did not take its life lock again after its connection broke")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A holder without a life lock is taken over at once too.
	never := cluster.NewLeases(pool, ttl, "c-"+suffix)
	other := uuid.New()
	if _, ok, err := never.Acquire(ctx, other); err != nil || !ok {
		t.Fatalf("c acquires: %v %v", ok, err)
	}
	if _, ok, err := b.Acquire(ctx, other); err != nil || !ok {
		t.Fatalf("b takes the lease of a holder without a life lock: %v %v", ok, err)
	}
}
