package eventstore_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
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
	// Decided on top of a malformed event: refused as stale, not fenced
	// (the owner still decides the lesson, and decides it again).
	malformed := at(chat(lesson, strings.Repeat("é", domain.MaxChatRunes+1)), 4)
	onTop := at(chat(lesson, "on top of a malformed event"), 5)
	_, errs = fencedAppend(t, a, la.Epoch, malformed, onTop)
	wantCode(t, errs[0], domain.CodeInvalid)
	if !eventstore.IsStale(errs[1]) || domain.ErrorReason(errs[1]) == domain.ReasonFenced {
		t.Fatalf("decided on top of a malformed event: %v, want stale, not fenced", errs[1])
	}
	// Decided on top of a resend the owner did not remember (answered with
	// its seq, taking no new one): stale, not fenced, as the lease is still
	// the owner's.
	onResend := at(chat(lesson, "on top of a resend"), 5)
	seqs, errs = fencedAppend(t, a, la.Epoch, at(log2(t, a, lesson), 4), onResend)
	if errs[0] != nil || seqs[0] != 2 {
		t.Fatalf("a resend decided again: %v %v, want its seq 2", seqs, errs)
	}
	if !eventstore.IsStale(errs[1]) || domain.ErrorReason(errs[1]) == domain.ReasonFenced {
		t.Fatalf("decided on top of a resend: %v, want stale, not fenced", errs[1])
	}

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
		if e.ID == late.ID || e.ID == stale.ID || e.ID == onTop.ID || e.ID == onResend.ID {
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

// TestLaneRecordAfterAnotherWriter: a node's commit lane records the last
// sequence of the lessons it appended to, and numbers their next events
// from it. The record must never be trusted where the log moved on without
// it: here the lesson is deleted on another node and made again under the
// same id (an import of its export) with fewer events than the lane
// recorded, so numbering from the record would leave a gap; and another
// node takes the lesson over and appends, so that the lane's record is
// behind. Each next append must land right after the log's last event.
func TestLaneRecordAfterAnotherWriter(t *testing.T) {
	a, b := openPostgres(t), openPostgres(t)
	ctx := context.Background()
	lesson := newLesson(t, a)
	mustAppend(t, a, chat(lesson, "1"), chat(lesson, "2"), chat(lesson, "3"))
	mustAppend(t, a, event(lesson, "teacher", &domain.LessonEnded{})) // a's lane: 5
	if err := b.Delete(ctx, lesson); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, b, created(lesson, "Fractions, imported"), chat(lesson, "imported")) // the log: 2
	if seqs := mustAppend(t, a, chat(lesson, "after the import")); seqs[0] != 3 {
		t.Fatalf("append after the lesson was made again: seq %d, want 3", seqs[0])
	}
	if seqs := mustAppend(t, a, chat(lesson, "and the next")); seqs[0] != 4 {
		t.Fatalf("the next append: seq %d, want 4", seqs[0])
	}

	// Another node takes the lesson over and appends: a's record (4) is
	// behind the log (6) when a holds the lease again.
	pool, err := pgxpool.New(ctx, databaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	nodeA, nodeB := cluster.NewLeases(pool, time.Minute, "node-a"), cluster.NewLeases(pool, time.Minute, "node-b")
	for _, n := range []*cluster.Leases{nodeA, nodeB} {
		if err := n.Start(ctx, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		defer n.Close()
	}
	la, ok, err := nodeA.Acquire(ctx, lesson)
	if err != nil || !ok {
		t.Fatalf("a acquires: %v %v", ok, err)
	}
	if seqs, errs := fencedAppend(t, a, la.Epoch, at(chat(lesson, "a under its lease"), 5)); errs[0] != nil || seqs[0] != 5 {
		t.Fatalf("a's fenced append: %v %v", seqs, errs)
	}
	if err := nodeA.Release(ctx, la); err != nil {
		t.Fatal(err)
	}
	lb, ok, err := nodeB.Acquire(ctx, lesson)
	if err != nil || !ok {
		t.Fatalf("b takes over: %v %v", ok, err)
	}
	if seqs, errs := fencedAppend(t, b, lb.Epoch, at(chat(lesson, "b1"), 6), at(chat(lesson, "b2"), 7)); errs[0] != nil || errs[1] != nil {
		t.Fatalf("b's fenced append: %v %v", seqs, errs)
	}
	// a still holds its old epoch: refused, whatever its lane recorded.
	_, errs := fencedAppend(t, a, la.Epoch, at(chat(lesson, "a under the old epoch"), 6))
	wantFenced(t, "a's append under the old epoch", errs[0])
	if err := nodeB.Release(ctx, lb); err != nil {
		t.Fatal(err)
	}
	la2, ok, err := nodeA.Acquire(ctx, lesson)
	if err != nil || !ok {
		t.Fatalf("a takes the lesson back: %v %v", ok, err)
	}
	// Decided on the lane's record, not on the log: stale.
	_, errs = fencedAppend(t, a, la2.Epoch, at(chat(lesson, "decided on a's record"), 6))
	wantFenced(t, "an event decided on a stale state", errs[0])
	seqs, errs := fencedAppend(t, a, la2.Epoch, at(chat(lesson, "decided on the log"), 8), at(chat(lesson, "and the next"), 9))
	if errs[0] != nil || errs[1] != nil || seqs[0] != 8 || seqs[1] != 9 {
		t.Fatalf("a's append after taking the lesson back: %v %v, want 8 and 9", seqs, errs)
	}
	log := readAll(t, b, lesson, 0)
	for i, e := range log {
		if e.Seq != int64(i+1) {
			t.Fatalf("the log's event %d has seq %d", i+1, e.Seq)
		}
	}
	if len(log) != 9 {
		t.Fatalf("the log has %d events, want 9", len(log))
	}
}

// TestLanePartialAdvance: a batch of two lessons of one lane, one of which
// another store appended to behind the lane's back, is stored whole: the
// lesson the lane knows from its record, the other from the full flush.
// Resends are answered with their first sequences alone, several in one
// batch, one twice in a batch, and one in the batch after.
func TestLanePartialAdvance(t *testing.T) {
	a, b := openPostgres(t), openPostgres(t)
	inLane := func(last byte) uuid.UUID {
		lesson := uuid.New()
		lesson[15] = last // both in the same lane, as many lanes as there are
		mustAppend(t, a, created(lesson, "Lane "+lesson.String()[:8]))
		return lesson
	}
	A, B := inLane(2), inLane(4)
	mustAppend(t, a, chat(A, "a1"), chat(B, "b1"))
	mustAppend(t, a, chat(A, "a2"), chat(B, "b2")) // from the lane's record: 3 and 3
	mustAppend(t, b, chat(B, "from b"))            // B: 4, which a's lane does not know
	x, y := chat(A, "x"), chat(B, "y")
	if s := mustAppend(t, a, x, y); s[0] != 4 || s[1] != 5 {
		t.Fatalf("a batch the record numbers in part: %v, want [4 5]", s)
	}
	if s := mustAppend(t, a, x, y, chat(A, "z"), x); s[0] != 4 || s[1] != 5 || s[2] != 5 || s[3] != 4 {
		t.Fatalf("resends with a new event: %v, want [4 5 5 4]", s)
	}
	w := chat(A, "w")
	if s := mustAppend(t, a, w, w); s[0] != 6 || s[1] != 6 {
		t.Fatalf("one event twice in a batch: %v, want [6 6]", s)
	}
	if s := mustAppend(t, a, w, chat(B, "v")); s[0] != 6 || s[1] != 6 {
		t.Fatalf("a resend in the next batch: %v, want [6 6]", s)
	}
	for _, lesson := range []uuid.UUID{A, B} {
		seen := map[uuid.UUID]bool{}
		for i, e := range readAll(t, a, lesson, 0) {
			if e.Seq != int64(i+1) || seen[e.ID] {
				t.Fatalf("lesson %s: event %d has seq %d (id %s seen before: %v)", lesson, i, e.Seq, e.ID, seen[e.ID])
			}
			seen[e.ID] = true
		}
	}
}
