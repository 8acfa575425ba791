package cluster_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"classroom/cluster"
	"classroom/eventstore"
)

// testPool connects to the PostgreSQL of DATABASE_URL, migrated. Without
// one the test fails: it is never skipped silently.
func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal("DATABASE_URL is not set: run the tests through scripts/test, which starts a throwaway PostgreSQL, or point DATABASE_URL at one")
	}
	ctx := context.Background()
	if _, err := eventstore.Migrate(ctx, eventstore.Config{DatabaseURL: url}); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestRegistry(t *testing.T) {
	pool := testPool(t)
	ctx := context.Background()
	opts := cluster.Options{Heartbeat: 50 * time.Millisecond, Expiry: 300 * time.Millisecond, Logger: quiet()}
	suffix := time.Now().Format("150405.000000")

	a, err := cluster.Join(ctx, pool, cluster.Node{ID: "a-" + suffix, Addr: "http://127.0.0.1:1", Capacity: 40}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	bctx, killB := context.WithCancel(ctx)
	b, err := cluster.Join(bctx, pool, cluster.Node{ID: "b-" + suffix, Addr: "http://127.0.0.1:2"}, opts)
	if err != nil {
		t.Fatal(err)
	}

	a.SetLoad(7)
	if err := a.SetDraining(ctx, true); err != nil {
		t.Fatal(err)
	}
	n, err := b.Node(ctx, a.Self().ID)
	if err != nil {
		t.Fatal(err)
	}
	if n.Addr != "http://127.0.0.1:1" || n.Capacity != 40 || n.Load != 7 || !n.Draining || n.Seen.IsZero() {
		t.Fatalf("b sees a as %+v", n)
	}

	live := func() map[string]bool {
		nodes, err := a.Live(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, n := range nodes {
			m[n.ID] = true
		}
		return m
	}
	if m := live(); !m[a.Self().ID] || !m[b.Self().ID] {
		t.Fatalf("live = %v, want both", m)
	}

	// b's process "dies": its heartbeat stops without removing its row, so
	// it stays listed until the expiry and not after.
	killB()
	time.Sleep(100 * time.Millisecond)
	if !live()[b.Self().ID] {
		t.Fatal("b dropped before its expiry")
	}
	deadline := time.Now().Add(2 * time.Second)
	for live()[b.Self().ID] {
		if time.Now().After(deadline) {
			t.Fatal("b still live after its expiry")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := a.Node(ctx, b.Self().ID); !errors.Is(err, cluster.ErrUnknownNode) {
		t.Fatalf("Node(dead b) = %v, want ErrUnknownNode", err)
	}
	// Meanwhile a's heartbeat kept it alive well past the expiry.
	if !live()[a.Self().ID] {
		t.Fatal("a expired although it heartbeats")
	}

	// A graceful Close removes the row at once.
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	c, err := cluster.Join(ctx, pool, cluster.Node{ID: "c-" + suffix, Addr: "http://127.0.0.1:3"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Node(ctx, a.Self().ID); !errors.Is(err, cluster.ErrUnknownNode) {
		t.Fatalf("Node(closed a) = %v, want ErrUnknownNode", err)
	}

	for _, bad := range []cluster.Node{{Addr: "http://x"}, {ID: "a:b", Addr: "http://x"}, {ID: "x"}, {ID: "x", Addr: "http://x", Capacity: -1}} {
		if _, err := cluster.Join(ctx, pool, bad, opts); err == nil {
			t.Errorf("Join(%+v) accepted", bad)
		}
	}
}
