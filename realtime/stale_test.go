package realtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"classroom/domain"
	"classroom/eventstore/faultstore"
	"classroom/realtime"
	"classroom/realtime/client"
)

// TestRefusedInBatch: the store refuses one event of a batch the room
// decided one on top of the other, and stores nothing decided on top of it.
// A student raises a hand, lowers it and posts a chat line while the
// teacher's chat line is being stored, so the three go in one batch; the
// store refuses the raised hand. The lowered hand, decided on a state that
// held the raised one, is not stored: decided again on the log, the rules
// refuse it (that hand is not raised). The chat line, decided again, is
// stored right after the teacher's. Every command gets a clear answer, a
// resend of the chat line is answered with its seq, the room goes on, and
// every client's state is the log's.
func TestRefusedInBatch(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) { testRefusedInBatch(t, kind) })
	}
}

func testRefusedInBatch(t *testing.T, kind string) {
	fs := faultstore.New(openStore(t, kind))
	hs := &heldStore{Store: fs}
	reg := prometheus.NewRegistry()
	ls := startServer(t, hs, func(c *realtime.Config) { c.Metrics = reg })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	student := ls.mustJoin(ctx, domain.RoleStudent, "Bob")
	ls.present(teacher, student)

	hs.holdNext(kindIs(domain.KindChatPosted))
	held, err := teacher.Post(uuid.New(), &domain.ChatPosted{Text: "held"})
	if err != nil {
		t.Fatal(err)
	}
	<-hs.held
	fs.Inject(faultstore.Fault{Op: faultstore.AppendRefuse, Match: kindIs(domain.KindHandRaised),
		Err: domain.Errorf(domain.CodeInvalid, "refused by the store")})
	raise, lower, line := uuid.New(), uuid.New(), uuid.New()
	var answers []<-chan client.Answer
	for _, c := range []struct {
		id uuid.UUID
		p  domain.Payload
	}{
		{raise, &domain.HandRaised{}},
		{lower, &domain.HandLowered{Participant: student.Participant()}},
		{line, &domain.ChatPosted{Text: "after"}},
	} {
		a, err := student.Post(c.id, c.p)
		if err != nil {
			t.Fatal(err)
		}
		answers = append(answers, a)
	}
	waitFor(t, 10*time.Second, "the student's commands to be decided", func() bool { return ls.peek(t, ctx).Pending == 3 })
	close(hs.release)

	h := <-held
	if h.Err != nil {
		t.Fatalf("the held chat line: %v", h.Err)
	}
	if a := <-answers[0]; domain.ErrorCode(a.Err) != domain.CodeInvalid {
		t.Fatalf("the refused hand: (%d, %v), want the store's refusal", a.Seq, a.Err)
	}
	if a := <-answers[1]; domain.ErrorCode(a.Err) != domain.CodeConflict {
		t.Fatalf("the hand lowered on top of the refused one: (%d, %v), want refused by the rules (conflict)", a.Seq, a.Err)
	}
	a := <-answers[2]
	if a.Err != nil || a.Seq != h.Seq+1 {
		t.Fatalf("the chat line on top of the refused hand: (%d, %v), want an ack of %d", a.Seq, a.Err, h.Seq+1)
	}
	if fs.Failed(faultstore.AppendRefuse) != 1 {
		t.Fatalf("%d events refused, want 1", fs.Failed(faultstore.AppendRefuse))
	}
	for e, err := range ls.store.Events(ctx, ls.lesson, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if e.ID == raise || e.ID == lower {
			t.Fatalf("the log holds %s at %d, decided on top of an event the store refused", e.Kind(), e.Seq)
		}
	}
	if seq, err := student.SendID(ctx, line, &domain.ChatPosted{Text: "after"}); err != nil || seq != a.Seq {
		t.Fatalf("a resend of the chat line: (%d, %v), want an ack of %d", seq, err, a.Seq)
	}
	// The room goes on: the hand raised again is stored, and lowered.
	mustSend(t, ctx, student, &domain.HandRaised{})
	mustSend(t, ctx, student, &domain.HandLowered{Participant: student.Participant()})
	converge(t, ls, teacher, student)

	// The rooms' appended-events counter counts what the log holds (but
	// the lesson's creation, which no room appended): neither the refused
	// hand nor the events refused as stale, counted once when stored.
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var appended float64 = -1
	for _, f := range families {
		if f.GetName() == "classroom_events_appended_total" {
			appended = f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if want := float64(ls.replay().Seq - 1); appended != want {
		t.Fatalf("events appended counted %v, the log holds %v", appended, want)
	}
}
