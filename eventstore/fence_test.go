package eventstore_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"classroom/cluster"
	"classroom/domain"
	"classroom/eventstore"
)

// at returns e decided at sequence seq, as a lesson's owner appends it.
func at(e domain.Event, seq int64) domain.Event { e.Seq = seq; return e }

func fencedAppend(t *testing.T, s *eventstore.Postgres, epoch int64, events ...domain.Event) ([]int64, []error) {
	t.Helper()
	seqs, errs, err := s.AppendFenced(context.Background(), epoch, events...)
	if err != nil {
		t.Fatal(err)
	}
	return seqs, errs
}

func wantFenced(t *testing.T, what string, err error) {
	t.Helper()
	if domain.ErrorCode(err) != domain.CodeUnavailable || domain.ErrorReason(err) != domain.ReasonFenced {
		t.Fatalf("%s: %v, want unavailable/fenced", what, err)
	}
}

// TestFencedAppend: two nodes on one database, the lesson's lease taken by
// a, then over by b after a's lease expired (a paused). a's appends under
// its old epoch are refused and store nothing; an append decided on a stale
// sequence is refused too; b's go through; a group commit of several
// lessons checks each on its own.
func TestFencedAppend(t *testing.T) {
	a, b := openPostgres(t), openPostgres(t)
	pool, err := pgxpool.New(context.Background(), databaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	nodeA, nodeB := cluster.NewLeases(pool, 300*time.Millisecond, "node-a"), cluster.NewLeases(pool, 300*time.Millisecond, "node-b")
	for _, n := range []*cluster.Leases{nodeA, nodeB} {
		if err := n.Start(ctx, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		defer n.Close()
	}
	lesson := newLesson(t, a)

	la, ok, err := nodeA.Acquire(ctx, lesson)
	if err != nil || !ok {
		t.Fatalf("a acquires: %v %v", ok, err)
	}
	if lb, ok, err := nodeB.Acquire(ctx, lesson); err != nil || ok || lb.Node() != "node-a" {
		t.Fatalf("b acquires a held lease: %+v %v %v", lb, ok, err)
	}
	seqs, errs := fencedAppend(t, a, la.Epoch, at(chat(lesson, "a1"), 2), at(chat(lesson, "a2"), 3))
	if errs[0] != nil || errs[1] != nil || seqs[0] != 2 || seqs[1] != 3 {
		t.Fatalf("owner's append: %v %v", seqs, errs)
	}
	// Decided on a state that missed seq 3: refused, not stored at 4.
	stale := at(chat(lesson, "decided at 3"), 3)
	_, errs = fencedAppend(t, a, la.Epoch, stale)
	wantFenced(t, "stale seq", errs[0])
	// No sequence at all: refused as invalid.
	_, errs = fencedAppend(t, a, la.Epoch, chat(lesson, "no seq"))
	wantCode(t, errs[0], domain.CodeInvalid)

	// a pauses past its lease; b takes over.
	time.Sleep(400 * time.Millisecond)
	lb, ok, err := nodeB.Acquire(ctx, lesson)
	if err != nil || !ok || lb.Epoch != la.Epoch+1 {
		t.Fatalf("b takes over: %+v %v %v", lb, ok, err)
	}
	if _, err := nodeA.Renew(ctx, la); !errors.Is(err, cluster.ErrLeaseLost) {
		t.Fatalf("a renews a lost lease: %v", err)
	}
	late := at(chat(lesson, "a after the takeover"), 4)
	_, errs = fencedAppend(t, a, la.Epoch, late)
	wantFenced(t, "old epoch", errs[0])
	// A resend of an event a stored is still answered with its seq.
	seqs, errs = fencedAppend(t, a, la.Epoch, log2(t, b, lesson))
	if errs[0] != nil || seqs[0] != 2 {
		t.Fatalf("resend under the old epoch: %v %v, want its seq 2", seqs, errs)
	}
	seqs, errs = fencedAppend(t, b, lb.Epoch, at(chat(lesson, "b1"), 4))
	if errs[0] != nil || seqs[0] != 4 {
		t.Fatalf("new owner's append: %v %v", seqs, errs)
	}
	log := readAll(t, b, lesson, 0)
	if len(log) != 4 {
		t.Fatalf("log has %d events, want 4 (created, a1, a2, b1)", len(log))
	}
	for _, e := range log {
		if e.ID == late.ID || e.ID == stale.ID {
			t.Fatalf("a refused event was stored: %+v", e)
		}
	}

	// Release hands over at once; the releaser's epoch is then stale.
	if err := nodeB.Release(ctx, lb); err != nil {
		t.Fatal(err)
	}
	la2, ok, err := nodeA.Acquire(ctx, lesson)
	if err != nil || !ok || la2.Epoch != lb.Epoch+1 {
		t.Fatalf("a takes a released lease: %+v %v %v", la2, ok, err)
	}
	if _, err := nodeA.Renew(ctx, la2); err != nil {
		t.Fatalf("owner renews: %v", err)
	}
	// node-a restarted (a new incarnation under the same id) takes its
	// former self's unexpired lease at once, under the next epoch.
	restarted := cluster.NewLeases(pool, 300*time.Millisecond, "node-a")
	if err := restarted.Start(ctx, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	defer restarted.Close()
	la3, ok, err := restarted.Acquire(ctx, lesson)
	if err != nil || !ok || la3.Epoch != la2.Epoch+1 {
		t.Fatalf("a restarted node takes its former self's lease: %+v %v %v", la3, ok, err)
	}
	if _, err := nodeA.Renew(ctx, la2); !errors.Is(err, cluster.ErrLeaseLost) {
		t.Fatalf("the former incarnation renews: %v", err)
	}
	if _, errs := fencedAppend(t, a, la2.Epoch, at(chat(lesson, "former incarnation"), 5)); domain.ErrorReason(errs[0]) != domain.ReasonFenced {
		t.Fatalf("the former incarnation appends: %v", errs[0])
	}
	if l, ok, err := nodeB.Acquire(ctx, lesson); err != nil || ok || l.Node() != "node-a" {
		t.Fatalf("another node takes an unexpired lease: %+v %v %v", l, ok, err)
	}

	// One group commit, several lessons: each is checked on its own.
	other := newLesson(t, a)
	lo, ok, err := nodeA.Acquire(ctx, other)
	if err != nil || !ok {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var goodErr, badErr error
	good, bad := at(chat(other, "ok"), 2), at(chat(lesson, "stale epoch"), 5) // lb's epoch is two behind
	wg.Go(func() {
		_, errs, err := a.AppendFenced(ctx, lo.Epoch, good)
		goodErr = errors.Join(err, errs[0])
	})
	wg.Go(func() {
		_, errs, err := a.AppendFenced(ctx, lb.Epoch, bad)
		badErr = errors.Join(err, errs[0])
	})
	wg.Wait()
	if goodErr != nil {
		t.Fatalf("fenced append of another lesson: %v", goodErr)
	}
	wantFenced(t, "stale epoch beside a good lesson", badErr)
	// Unfenced appends (the embedded store's way, and a lesson's creation)
	// are not checked.
	mustAppend(t, a, chat(lesson, "unfenced"))
	if n := len(readAll(t, a, other, 0)); n != 2 {
		t.Fatalf("other lesson has %d events, want 2", n)
	}
}

// log2 returns the lesson's event of sequence 2, as its appender sent it.
func log2(t *testing.T, s eventstore.Store, lesson uuid.UUID) domain.Event {
	t.Helper()
	e := readAll(t, s, lesson, 1)[0]
	return e
}
