package realtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore/faultstore"
	"classroom/realtime"
	"classroom/realtime/client"
)

// faultyServer is a lesson server whose store fails calls on cue.
func faultyServer(t *testing.T, tweak func(*realtime.Config)) (*lessonServer, *faultstore.Store) {
	t.Helper()
	fs := faultstore.New(openStore(t, "sqlite"))
	return startServer(t, fs, tweak), fs
}

func kindIs(k domain.Kind) func(domain.Event) bool {
	return func(e domain.Event) bool { return e.Kind() == k }
}

// sendAsync sends a command with its id in the background.
func sendAsync(ctx context.Context, c *client.Client, id uuid.UUID, p domain.Payload) <-chan result {
	out := make(chan result, 1)
	go func() {
		seq, err := c.SendID(ctx, id, p)
		out <- result{seq, err}
	}()
	return out
}

type result struct {
	seq int64
	err error
}

// waitBye waits until the server has ended c's session, and checks that it
// said to reconnect.
func waitBye(t *testing.T, c *client.Client, what string) {
	t.Helper()
	waitFor(t, 10*time.Second, what+": the session to end", func() bool { return c.Bye() != nil })
	if code := c.Bye().Code; code != domain.CodeUnavailable {
		t.Fatalf("%s: the session ended with %q (%s), want unavailable", what, code, c.Bye().Message)
	}
}

// resumeAcked resumes the clients whose sessions ended, and checks that the
// command they left unanswered is acknowledged at the sequence it is stored
// at, once, and that every client converges.
func resumeAcked(t *testing.T, ctx context.Context, ls *lessonServer, answer <-chan result, id uuid.UUID,
	ended []*client.Client, all ...*client.Client) {
	t.Helper()
	for _, c := range ended {
		if err := c.Resume(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r := <-answer
	if r.err != nil {
		t.Fatalf("the resent command: %v", r.err)
	}
	storedOnce(t, ls, id, r.seq)
	converge(t, ls, all...)
}

// storedOnce checks that the log holds the event id once, at seq.
func storedOnce(t *testing.T, ls *lessonServer, id uuid.UUID, seq int64) {
	t.Helper()
	n := 0
	for e, err := range ls.store.Events(context.Background(), ls.lesson, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if e.ID == id {
			n++
			if e.Seq != seq {
				t.Errorf("event %s stored at %d, acknowledged at %d", id, e.Seq, seq)
			}
		}
	}
	if n != 1 {
		t.Errorf("event %s stored %d times, want once", id, n)
	}
}

// TestAppendFails: when an append fails as a whole, before its commit or
// after it (the answer lost), the command is never given a final answer:
// its session ends with unavailable, the client resends it after resuming,
// and it is acknowledged at the sequence it is stored at, once. A stroke's
// resend is one the rules refuse once the stroke is stored; a chat's one
// they accept again.
func TestAppendFails(t *testing.T) {
	for _, op := range []faultstore.Op{faultstore.AppendBefore, faultstore.AppendAfter} {
		for _, p := range []domain.Payload{&domain.ChatPosted{Text: "hello"}, strokeOf(1, 0)} {
			t.Run(string(op)+"/"+string(p.Kind()), func(t *testing.T) {
				ls, fs := faultyServer(t, nil)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
				student := ls.mustJoin(ctx, domain.RoleStudent, "Bob")
				fs.Inject(faultstore.Fault{Op: op, Match: kindIs(p.Kind())})
				id := uuid.New()
				answer := sendAsync(ctx, teacher, id, p)
				waitBye(t, teacher, "after the failed append")
				select {
				case r := <-answer:
					t.Fatalf("the command was answered (%d, %v) although its fate was unknown", r.seq, r.err)
				default:
				}
				resumeAcked(t, ctx, ls, answer, id, []*client.Client{teacher}, teacher, student)
			})
		}
	}
}

// TestJoinNotStored: a participant whose join could not be stored is not
// left in the room with every command refused: the session ends with
// unavailable, and the client joins again when it reconnects.
func TestJoinNotStored(t *testing.T) {
	for _, op := range []faultstore.Op{faultstore.AppendBefore, faultstore.AppendRefuse} {
		t.Run(string(op), func(t *testing.T) {
			ls, fs := faultyServer(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
			fs.Inject(faultstore.Fault{Op: op, Match: kindIs(domain.KindParticipantJoined)})
			student, err := ls.join(ctx, domain.RoleStudent, "Bob", nil)
			if err == nil {
				defer student.Close()
				waitBye(t, student, "after the failed join")
				err = student.Resume(ctx)
			} else if domain.ErrorCode(err) != domain.CodeUnavailable {
				t.Fatalf("join: %v, want unavailable", err)
			} else {
				student, err = ls.join(ctx, domain.RoleStudent, "Bob", nil)
				defer student.Close()
			}
			if err != nil {
				t.Fatalf("joining again: %v", err)
			}
			if fs.Failed(op) != 1 {
				t.Fatalf("%d joins failed, want 1", fs.Failed(op))
			}
			mustSend(t, ctx, student, &domain.HandRaised{})
			converge(t, ls, teacher, student)
		})
	}
}

// giveUp joins a teacher and a student, then makes the room give up: its
// reloads fail, after a chat of the teacher's whose append's answer is lost
// (id, answered on answer once stored).
func giveUp(ctx context.Context, ls *lessonServer, fs *faultstore.Store) (teacher, student *client.Client, id uuid.UUID, answer <-chan result) {
	teacher = ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	student = ls.mustJoin(ctx, domain.RoleStudent, "Bob")
	fs.Inject(faultstore.Fault{Op: faultstore.Events, Times: -1})
	fs.Inject(faultstore.Fault{Op: faultstore.AppendAfter})
	id = uuid.New()
	return teacher, student, id, sendAsync(ctx, teacher, id, &domain.ChatPosted{Text: "into the void"})
}

// TestRoomGivesUp: when the room cannot reload its state after a failed
// append, it tries again on its own and, after maxFailedLoad failures, ends
// every session with unavailable; once the store is back, the clients
// resume and the command is stored once.
func TestRoomGivesUp(t *testing.T) {
	ls, fs := faultyServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher, student, id, answer := giveUp(ctx, ls, fs)
	waitBye(t, teacher, "the sender")
	waitBye(t, student, "the others") // the room gave up
	if n := fs.Failed(faultstore.Events); n < 3 {
		t.Fatalf("the room gave up after %d failed reloads, want 3", n)
	}
	fs.Clear()
	waitFor(t, 10*time.Second, "the room to close", func() bool { return ls.live().Rooms() == 0 })
	resumeAcked(t, ctx, ls, answer, id, []*client.Client{teacher, student}, teacher, student)
}

// TestJoinWhileRoomStops: a participant who joins while the room that gave
// up still lets go of what it holds (here its follow of the log, slow to
// stop) and its old sessions still store their leaves, gets a new room at
// once, not the stopping one: that one's goroutine answers nothing more,
// and the join used to wait for ever.
func TestJoinWhileRoomStops(t *testing.T) {
	ls, fs := faultyServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fs.Inject(faultstore.Fault{Op: faultstore.WaitStall, Times: -1, Stall: 5 * time.Second})
	teacher, student, id, answer := giveUp(ctx, ls, fs)
	waitFor(t, 10*time.Second, "the room to give up", func() bool { return fs.Failed(faultstore.Events) >= 3 })
	fs.Clear()
	time.Sleep(100 * time.Millisecond) // the room's goroutine leaves its loop, and stops slowly
	jctx, jcancel := context.WithTimeout(ctx, 2*time.Second)
	carol, err := ls.join(jctx, domain.RoleStudent, "Carol", nil)
	jcancel()
	if err != nil {
		t.Fatalf("join while the room stops: %v", err)
	}
	defer carol.Close()
	waitBye(t, teacher, "the sender")
	waitBye(t, student, "the others")
	resumeAcked(t, ctx, ls, answer, id, []*client.Client{teacher, student}, teacher, student, carol)
}

// TestLookupFails: a refused command is answered only once the store says it
// is not a resend; when the store cannot say, the session ends with
// unavailable, and the resend after resuming gets the refusal.
func TestLookupFails(t *testing.T) {
	ls, fs := faultyServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	student := ls.mustJoin(ctx, domain.RoleStudent, "Bob")
	fs.Inject(faultstore.Fault{Op: faultstore.Lookup})
	answer := sendAsync(ctx, student, uuid.New(), &domain.SlideChanged{Slide: domain.Slide{Page: 2}})
	waitBye(t, student, "after the failed look-up")
	if err := student.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-answer; domain.ErrorCode(r.err) != domain.CodeForbidden {
		t.Fatalf("the student's slide change: %d, %v; want forbidden", r.seq, r.err)
	}
}

// TestSnapshotAndWaitFail: a room that cannot read its snapshot is not
// opened (the join is refused with unavailable, and the next one works); one
// that cannot save a snapshot or follow the log carries on.
func TestSnapshotAndWaitFail(t *testing.T) {
	ls, fs := faultyServer(t, func(c *realtime.Config) { c.SnapshotEvery = 3 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fs.Inject(faultstore.Fault{Op: faultstore.LatestSnapshot})
	if _, err := ls.join(ctx, domain.RoleTeacher, "Ms Lovelace", nil); domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Fatalf("join while the snapshot cannot be read: %v, want unavailable", err)
	}
	fs.Inject(faultstore.Fault{Op: faultstore.SaveSnapshot})
	fs.Inject(faultstore.Fault{Op: faultstore.Wait})
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	for i := range 10 {
		mustSend(t, ctx, teacher, strokeOf(i, 0))
	}
	waitFor(t, 10*time.Second, "a snapshot saved after the failed one", func() bool {
		snap, err := ls.store.LatestSnapshot(ctx, ls.lesson, 0)
		return err == nil && snap.Seq > 3
	})
	if fs.Failed(faultstore.SaveSnapshot) != 1 || fs.Failed(faultstore.Wait) != 1 {
		t.Fatalf("failed %d snapshot saves and %d waits, want 1 and 1", fs.Failed(faultstore.SaveSnapshot), fs.Failed(faultstore.Wait))
	}
	student := ls.mustJoin(ctx, domain.RoleStudent, "Bob")
	converge(t, ls, teacher, student)
}

// TestAbsentAfterLostJoin: a join stored although the store did not say so
// (its commit's answer lost) leaves a participant present with no session;
// if they do not come back, their leave is recorded AbsentAfter later, even
// long after the room opened.
func TestAbsentAfterLostJoin(t *testing.T) {
	const absentAfter = 300 * time.Millisecond
	ls, fs := faultyServer(t, func(c *realtime.Config) { c.AbsentAfter = absentAfter })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	time.Sleep(3 * absentAfter) // the room's first look for the absent is over
	fs.Inject(faultstore.Fault{Op: faultstore.AppendAfter, Match: kindIs(domain.KindParticipantJoined)})
	if student, err := ls.join(ctx, domain.RoleStudent, "Bob", nil); err == nil {
		waitBye(t, student, "after the join whose answer was lost")
		student.Close()
	}
	if fs.Failed(faultstore.AppendAfter) != 1 {
		t.Fatalf("%d appends failed after their commit, want 1", fs.Failed(faultstore.AppendAfter))
	}
	waitFor(t, 10*time.Second, "Bob's leave", func() bool {
		for id, p := range ls.replay().Participants {
			if p.Name == "Bob" {
				return !p.Present && ls.leaves()[id] == domain.LeftAbsent
			}
		}
		return false
	})
	ls.present(teacher)
}
