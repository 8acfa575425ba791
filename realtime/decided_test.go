package realtime_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore/faultstore"
	"classroom/realtime"
)

// gatedStore holds each append of an event hold matches until the test lets
// it go (closes the channel it is handed on held), or ends (closes done).
type gatedStore struct {
	*faultstore.Store
	hold func(domain.Event) bool
	held chan chan struct{}
	done chan struct{}
}

func (g *gatedStore) Append(ctx context.Context, events ...domain.Event) ([]int64, []error, error) {
	g.gate(events)
	return g.Store.Append(ctx, events...)
}

// AppendDecided is what rooms append with.
func (g *gatedStore) AppendDecided(ctx context.Context, events ...domain.Event) ([]int64, []error, error) {
	g.gate(events)
	return g.Store.AppendDecided(ctx, events...)
}

func (g *gatedStore) gate(events []domain.Event) {
	if slices.ContainsFunc(events, g.hold) {
		release := make(chan struct{})
		select {
		case g.held <- release:
			select {
			case <-release:
			case <-g.done:
			}
		case <-g.done:
		}
	}
}

func (ls *lessonServer) peek(t *testing.T, ctx context.Context) realtime.RoomPeek {
	t.Helper()
	p, err := ls.live().Peek(ctx, ls.lesson)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDecidedNotStored: the room decides a batch while the one before it
// commits; the stage and the lobby act on what the log holds, never on a
// decision whose append is still under way. Here a floor granted to a
// student, a student muted, a student denied entry and the lesson ended
// (with a student waiting) are decided while a chat line commits, and their
// appends then fail: neither the stage (the student on it, muted) nor the
// lobby (the student sent away) ever showed them. The same decision sent
// again and stored is then acted on: the test sees what it looks for.
func TestDecidedNotStored(t *testing.T) {
	onStage := func(p realtime.RoomPeek, student string) bool { return slices.Contains(p.OnStage, student) }
	sentAway := func(p realtime.RoomPeek, student string) bool { return !slices.Contains(p.Lobby, student) }
	for _, tc := range []struct {
		name   string
		lobby  bool // the student waits in the lobby rather than being in the lesson
		decide func(student string) domain.Payload
		shown  func(p realtime.RoomPeek, student string) bool // whether the room acts on the decision
	}{
		{"stage", false, func(student string) domain.Payload { return &domain.FloorGranted{Participant: student} }, onStage},
		{"mute", false, func(student string) domain.Payload { return &domain.MediaMuted{Participant: student, Audio: true} },
			func(p realtime.RoomPeek, student string) bool { return slices.Contains(p.Muted, student) }},
		{"lobby", true, func(student string) domain.Payload { return &domain.ParticipantDenied{Participant: student} }, sentAway},
		{"ended", true, func(string) domain.Payload { return &domain.LessonEnded{} }, sentAway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			kind := tc.decide("").Kind()
			fs := faultstore.New(openStore(t, "sqlite"))
			gs := &gatedStore{Store: fs, held: make(chan chan struct{}), done: make(chan struct{}),
				hold: func(e domain.Event) bool { return e.Kind() == domain.KindChatPosted || e.Kind() == kind }}
			ls := startServer(t, gs, nil)
			t.Cleanup(func() { close(gs.done) }) // before the server closes
			teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
			mustSend(t, ctx, teacher, &domain.LessonStarted{})
			student := "ann"
			if !tc.lobby {
				student = ls.mustJoin(ctx, domain.RoleStudent, "Ann").Participant()
			} else {
				mustSend(t, ctx, teacher, &domain.LobbyChanged{On: true})
				var got received
				go func() {
					if c, err := ls.dialAs(ctx, student, "Ann", &got); err == nil {
						c.Close()
					}
				}()
				waitFor(t, 10*time.Second, "ann to wait in the lobby", func() bool {
					return ls.replay().IsWaiting(student) && slices.Contains(ls.peek(t, ctx).Lobby, student)
				})
			}

			sendAsync(ctx, teacher, uuid.New(), &domain.ChatPosted{Text: "a line that commits slowly"})
			chat := <-gs.held // the chat's batch is in flight
			sendAsync(ctx, teacher, uuid.New(), tc.decide(student))
			waitFor(t, 10*time.Second, "the decision to be decided", func() bool { return ls.peek(t, ctx).Pending == 1 })
			fs.Inject(faultstore.Fault{Op: faultstore.AppendBefore, Match: kindIs(kind)})
			close(chat)
			decision := <-gs.held // the chat is published; the decision's batch is in flight
			if p := ls.peek(t, ctx); tc.shown(p, student) {
				t.Fatalf("the room acts on %s before the log holds it: %+v", kind, p)
			}
			close(decision)
			waitBye(t, teacher, "after the failed append")
			if p := ls.peek(t, ctx); tc.shown(p, student) {
				t.Fatalf("the room acts on %s, which the log does not hold: %+v", kind, p)
			}
			for e, err := range ls.store.Events(ctx, ls.lesson, 0) {
				if err != nil {
					t.Fatal(err)
				}
				if e.Kind() == kind {
					t.Fatalf("the log holds %s although its append failed", kind)
				}
			}

			// Sent again by the teacher, back, and stored: acted on.
			teacher = ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
			sendAsync(ctx, teacher, uuid.New(), tc.decide(student))
			close(<-gs.held)
			waitFor(t, 10*time.Second, "the room to act on the stored "+string(kind), func() bool { return tc.shown(ls.peek(t, ctx), student) })
		})
	}
}

// TestFencedFlush: a join that waits for a batch in flight (its flush) when
// the store refuses that batch as fenced, another node deciding the lesson
// now, is told the lesson moved, as the batch's sender is, and the log holds
// neither the batch nor the join. (That the room no longer decides the join
// on the state holding the refused batch, before it retires, shows only
// inside the room: the retirement ended such a join all the same.)
func TestFencedFlush(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fs := faultstore.New(openStore(t, "sqlite"))
	gs := &gatedStore{Store: fs, held: make(chan chan struct{}), done: make(chan struct{}),
		hold: func(e domain.Event) bool { return e.Kind() == domain.KindChatPosted }}
	ls := startServer(t, gs, nil)
	t.Cleanup(func() { close(gs.done) }) // before the server closes
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})

	sendAsync(ctx, teacher, uuid.New(), &domain.ChatPosted{Text: "a line another node's lease refuses"})
	chat := <-gs.held // the chat's batch is in flight
	joined := make(chan error, 1)
	go func() {
		c, err := ls.join(ctx, domain.RoleStudent, "Bo", nil)
		if err == nil {
			c.Close()
		}
		joined <- err
	}()
	// The join's flush waits for the chat's batch: the room answers nothing
	// meanwhile.
	waitFor(t, 10*time.Second, "the join to wait for the batch in flight", func() bool {
		short, stop := context.WithTimeout(ctx, 100*time.Millisecond)
		defer stop()
		_, err := ls.live().Peek(short, ls.lesson)
		return err != nil
	})
	fs.Inject(faultstore.Fault{Op: faultstore.AppendRefuse,
		Err: domain.Errorf(domain.CodeUnavailable, "the lease moved").Because(domain.ReasonFenced)})
	close(chat)

	if err := <-joined; domain.ErrorReason(err) != domain.ReasonFenced {
		t.Fatalf("a join whose flush was fenced: %v (reason %q), want the lesson moved", err, domain.ErrorReason(err))
	}
	waitFor(t, 10*time.Second, "the teacher's session to end", func() bool { return teacher.Bye() != nil })
	if r := teacher.Bye().Reason; r != domain.ReasonFenced {
		t.Fatalf("the teacher's session ended with reason %q, want the lesson moved", r)
	}
	for e, err := range ls.store.Events(ctx, ls.lesson, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind() == domain.KindChatPosted || (e.Kind() == domain.KindParticipantJoined && e.Role == domain.RoleStudent) {
			t.Fatalf("the log holds %s of %s, decided on a batch another node refused", e.Kind(), e.Actor)
		}
	}
}
