package realtime_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/eventstore/faultstore"
	"classroom/realtime/client"
)

// heldStore holds the answers of chosen appends until released, as a slow
// commit does: the store has done its part (stored the events and told
// whoever follows the lesson's log, or failed), the room has not heard yet.
type heldStore struct {
	eventstore.Store

	mu      sync.Mutex
	match   func(domain.Event) bool // the appends to hold; nil holds none
	held    chan struct{}           // closed once an append is being held
	release chan struct{}           // closing it lets the held append answer
}

// holdNext holds the next append holding an event match picks.
func (h *heldStore) holdNext(match func(domain.Event) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.match, h.held, h.release = match, make(chan struct{}), make(chan struct{})
}

func (h *heldStore) Append(ctx context.Context, events ...domain.Event) ([]int64, []error, error) {
	return h.append(ctx, h.Store.Append, events)
}

// AppendDecided is what rooms append with.
func (h *heldStore) AppendDecided(ctx context.Context, events ...domain.Event) ([]int64, []error, error) {
	return h.append(ctx, h.Store.AppendDecided, events)
}

func (h *heldStore) append(ctx context.Context, next func(context.Context, ...domain.Event) ([]int64, []error, error),
	events []domain.Event) ([]int64, []error, error) {
	h.mu.Lock()
	var release chan struct{}
	for _, e := range events {
		if h.match != nil && h.match(e) {
			release = h.release
			h.match = nil
			break
		}
	}
	h.mu.Unlock()
	seqs, errs, err := next(ctx, events...)
	if release != nil {
		close(h.held)
		select {
		case <-release:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	return seqs, errs, err
}

// pipelinedServer is a lesson server whose store holds appends on cue and
// fails them on cue.
func pipelinedServer(t *testing.T) (*lessonServer, *heldStore, *faultstore.Store) {
	t.Helper()
	fs := faultstore.New(openStore(t, "sqlite"))
	hs := &heldStore{Store: fs}
	return startServer(t, hs, nil), hs, fs
}

// TestRoomDecidesWhileStoring: while the store commits one batch, the room
// goes on: it answers a resend of a stored command at once, and decides the
// commands that come meanwhile (their events are stamped before the batch
// in flight is stored), which are stored and published after it, in order.
// That the log grew before the room heard so from its append is no reason
// to read it back: every board gets every event once.
func TestRoomDecidesWhileStoring(t *testing.T) {
	ls, hs, _ := pipelinedServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	student := ls.mustJoin(ctx, domain.RoleStudent, "Bob")
	ls.present(teacher, student)
	first := uuid.New()
	firstSeq, err := teacher.SendID(ctx, first, &domain.ChatPosted{Text: "first"})
	if err != nil {
		t.Fatal(err)
	}

	hs.holdNext(kindIs(domain.KindChatPosted))
	slow, err := teacher.Post(uuid.New(), &domain.ChatPosted{Text: "held"})
	if err != nil {
		t.Fatal(err)
	}
	<-hs.held
	// A resend of the stored chat: the room answers it without the store.
	resent, err := teacher.Post(first, &domain.ChatPosted{Text: "first"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-resent:
		if a.Err != nil || a.Seq != firstSeq {
			t.Fatalf("the resend was answered (%d, %v), want an ack of %d", a.Seq, a.Err, firstSeq)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the resend of a stored command was not answered while another append was held")
	}
	// Commands meanwhile are decided now, not once the held batch is stored.
	var behind []<-chan client.Answer
	for _, text := range []string{"second", "third"} {
		a, err := student.Post(uuid.New(), &domain.ChatPosted{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		behind = append(behind, a)
	}
	time.Sleep(300 * time.Millisecond)
	select {
	case a := <-slow:
		t.Fatalf("the held command was answered (%d, %v) before it was stored", a.Seq, a.Err)
	case a := <-behind[0]:
		t.Fatalf("a command behind the held one was answered (%d, %v) before the held one was stored", a.Seq, a.Err)
	default:
	}
	released := time.Now()
	close(hs.release)

	held := <-slow
	if held.Err != nil {
		t.Fatal(held.Err)
	}
	for i, answer := range behind {
		a := <-answer
		if a.Err != nil {
			t.Fatal(a.Err)
		}
		if want := held.Seq + 1 + int64(i); a.Seq != want {
			t.Errorf("command %d behind the held one stored at %d, want %d", i, a.Seq, want)
		}
	}
	converge(t, ls, teacher, student)
	for e, err := range ls.store.Events(ctx, ls.lesson, held.Seq) {
		if err != nil {
			t.Fatal(err)
		}
		if !e.Time.Before(released) {
			t.Errorf("event %d (%s) was decided at %v, after the held append was let go (%v): the room waited for the store",
				e.Seq, e.Kind(), e.Time, released)
		}
	}
}

// TestFailedCommitUnderPipeline: a student's stroke decided on top of the
// teacher's permission to draw while the permission's append was held is
// decided again when that append fails. When the permission was not stored
// the stroke is refused and not stored; when it was stored (the answer
// lost), the stroke is stored after it. The teacher's session ends with
// unavailable, and the permission, resent, is stored once.
func TestFailedCommitUnderPipeline(t *testing.T) {
	for _, op := range []faultstore.Op{faultstore.AppendBefore, faultstore.AppendAfter} {
		t.Run(string(op), func(t *testing.T) {
			ls, hs, fs := pipelinedServer(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
			student := ls.mustJoin(ctx, domain.RoleStudent, "Bob")
			ls.present(teacher, student)
			mustSend(t, ctx, teacher, &domain.LessonStarted{})

			permitted := kindIs(domain.KindDrawingPermitted)
			hs.holdNext(permitted)
			fs.Inject(faultstore.Fault{Op: op, Match: permitted})
			permit := uuid.New()
			answer := sendAsync(ctx, teacher, permit, &domain.DrawingPermitted{Allowed: true})
			<-hs.held
			stroke := uuid.New()
			drawn, err := student.Post(stroke, strokeOf(1, 0))
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // decided on top of the permission in flight
			close(hs.release)

			waitBye(t, teacher, "after the failed append")
			a := <-drawn
			storedAt := int64(0)
			for e, err := range ls.store.Events(ctx, ls.lesson, 0) {
				if err != nil {
					t.Fatal(err)
				}
				if e.ID == stroke {
					storedAt = e.Seq
				}
			}
			switch op {
			case faultstore.AppendBefore:
				if domain.ErrorCode(a.Err) != domain.CodeForbidden {
					t.Errorf("the stroke decided on a permission not stored was answered (%d, %v), want forbidden", a.Seq, a.Err)
				}
				if storedAt != 0 {
					t.Errorf("the stroke decided on a permission not stored is in the log at %d", storedAt)
				}
			case faultstore.AppendAfter:
				if a.Err != nil || a.Seq == 0 || a.Seq != storedAt {
					t.Errorf("the stroke decided on a stored permission was answered (%d, %v), stored at %d", a.Seq, a.Err, storedAt)
				}
			}
			resumeAcked(t, ctx, ls, answer, permit, []*client.Client{teacher}, teacher, student)
			if storedAt != 0 {
				for e, err := range ls.store.Events(ctx, ls.lesson, 0) {
					if err != nil {
						t.Fatal(err)
					}
					if e.ID == permit && e.Seq > storedAt {
						t.Errorf("the stroke (%d) is stored before the permission it was decided on (%d)", storedAt, e.Seq)
					}
				}
			}
		})
	}
}
