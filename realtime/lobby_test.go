package realtime_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/eventstore/faultstore"
	"classroom/realtime/client"
	"classroom/realtime/protocol"
)

// received counts what reaches a client over its data channels and media.
type received struct{ events, ephemeral, tracks atomic.Int64 }

// dialAs joins as the student of that id, counting what the client receives.
func (ls *lessonServer) dialAs(ctx context.Context, participant, name string, got *received) (*client.Client, error) {
	return client.Dial(ctx, client.Options{URL: ls.url(), Token: ls.token(domain.RoleStudent, participant, time.Hour),
		Name: name, Loopback: true,
		OnEvent:     func(domain.Event) { got.events.Add(1) },
		OnEphemeral: func(protocol.Ephemeral) { got.ephemeral.Add(1) },
		OnTrack: func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			got.tracks.Add(1)
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
			}
		}})
}

type dialResult struct {
	c   *client.Client
	err error
}

// TestLobbyAndRemoval: a student waiting in the lobby is sent nothing of the
// lesson (no event, no ephemeral message, no track) until the teacher admits
// them, then the whole lesson; admitted, they come back without waiting; a
// denied student and one joining a locked lesson are refused with their
// reasons; a removed student's session ends, their resume token is refused,
// and a newcomer after the removal waits.
func TestLobbyAndRemoval(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) { testLobbyAndRemoval(t, kind) })
	}
}

func testLobbyAndRemoval(t *testing.T, kind string) {
	ls := startServer(t, openStore(t, kind), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	mustSend(t, ctx, teacher, &domain.LobbyChanged{On: true})

	// Ann waits, and is sent nothing meanwhile.
	var annGot received
	annDone := make(chan dialResult, 1)
	go func() {
		c, err := ls.dialAs(ctx, "ann", "Ann", &annGot)
		annDone <- dialResult{c, err}
	}()
	waitFor(t, 10*time.Second, "ann to wait in the lobby", func() bool { return ls.replay().IsWaiting("ann") })
	mustSend(t, ctx, teacher, &domain.ChatPosted{Text: "a secret only those admitted read"})
	for range 20 {
		if err := teacher.SendEphemeral(protocol.Ephemeral{Type: protocol.EphemeralCursor, X: 1, Y: 2}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case r := <-annDone:
		t.Fatalf("a waiting student's join returned: %v", r.err)
	default:
	}
	if n, m, k := annGot.events.Load(), annGot.ephemeral.Load(), annGot.tracks.Load(); n+m+k != 0 {
		t.Fatalf("a waiting student received %d events, %d ephemeral messages, %d tracks", n, m, k)
	}
	if _, ok := teacher.State().Participants["ann"]; ok {
		t.Fatal("a waiting student is listed as a participant")
	}

	// Admitted, she gets the whole lesson.
	mustSend(t, ctx, teacher, &domain.ParticipantAdmitted{Participant: "ann"})
	r := <-annDone
	if r.err != nil {
		t.Fatalf("ann, admitted: %v", r.err)
	}
	ann := r.c
	converge(t, ls, teacher, ann)
	if chat := ann.State().Chat; len(chat) != 1 {
		t.Fatalf("ann, admitted, has %d chat messages", len(chat))
	}
	// A reload comes back without waiting.
	resume := ann.ResumeToken()
	ann.Close()
	ann, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: resume, Loopback: true})
	if err != nil {
		t.Fatalf("ann comes back: %v", err)
	}
	defer ann.Close()
	converge(t, ls, teacher, ann)

	// Bob is denied.
	var bobGot received
	bobDone := make(chan dialResult, 1)
	go func() {
		c, err := ls.dialAs(ctx, "bob", "Bob", &bobGot)
		bobDone <- dialResult{c, err}
	}()
	waitFor(t, 10*time.Second, "bob to wait in the lobby", func() bool { return ls.replay().IsWaiting("bob") })
	mustSend(t, ctx, teacher, &domain.ParticipantDenied{Participant: "bob"})
	if r := <-bobDone; domain.ErrorReason(r.err) != domain.ReasonDenied {
		t.Fatalf("bob, denied: %v (reason %q), want reason denied", r.err, domain.ErrorReason(r.err))
	}

	// Locked, a newcomer is refused at once, not even into the lobby.
	mustSend(t, ctx, teacher, &domain.LessonLocked{Locked: true})
	if _, err := ls.dialAs(ctx, "cat", "Cat", &received{}); domain.ErrorReason(err) != domain.ReasonLocked {
		t.Fatalf("cat, into a locked lesson: %v, want reason locked", err)
	}
	if ls.replay().IsWaiting("cat") {
		t.Fatal("a locked lesson let cat into its lobby")
	}
	mustSend(t, ctx, teacher, &domain.LessonLocked{Locked: false})

	// Removed, ann's session ends and her identity is refused.
	mustSend(t, ctx, teacher, &domain.LobbyChanged{On: false})
	mustSend(t, ctx, teacher, &domain.ParticipantRemoved{Participant: "ann"})
	select {
	case <-ann.Ended():
	case <-time.After(10 * time.Second):
		t.Fatal("the removed student's session goes on")
	}
	if bye := ann.Bye(); bye == nil || bye.Reason != domain.ReasonRemoved {
		t.Fatalf("the removed student was told %+v, want reason removed", bye)
	}
	if _, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: resume, Loopback: true}); domain.ErrorReason(err) != domain.ReasonRemoved {
		t.Fatalf("the removed student's resume token: %v, want reason removed", err)
	}
	// The removal switched the lobby on: a newcomer waits.
	newcomer := make(chan dialResult, 1)
	go func() {
		c, err := ls.dialAs(ctx, "", "Not Ann, honest", &received{})
		newcomer <- dialResult{c, err}
	}()
	waitFor(t, 10*time.Second, "a newcomer to wait", func() bool { return len(ls.replay().Waiting) == 1 })

	// The lesson ends with someone waiting: they are told so.
	mustSend(t, ctx, teacher, &domain.LessonEnded{})
	if r := <-newcomer; domain.ErrorReason(r.err) != domain.ReasonLessonEnded {
		t.Fatalf("waiting when the lesson ended: %v, want reason lesson_ended", r.err)
	}
}

// TestLobbyLeave: a student who gives up waiting (closes the page) leaves the
// teacher's waiting list, in the log, so that the teacher does not admit
// someone who is gone; one who waits on stays.
func TestLobbyLeave(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	mustSend(t, ctx, teacher, &domain.LobbyChanged{On: true})

	annCtx, annGivesUp := context.WithCancel(ctx)
	annDone := make(chan dialResult, 1)
	go func() {
		c, err := ls.dialAs(annCtx, "ann", "Ann", &received{})
		annDone <- dialResult{c, err}
	}()
	bobDone := make(chan dialResult, 1)
	go func() {
		c, err := ls.dialAs(ctx, "bob", "Bob", &received{})
		bobDone <- dialResult{c, err}
	}()
	waitFor(t, 10*time.Second, "ann and bob to wait", func() bool { return len(ls.replay().Waiting) == 2 })
	// The teacher's list too: a teacher who has not yet been sent ann's
	// arrival would show bob alone before ann has left.
	waitFor(t, 10*time.Second, "the teacher to see ann and bob wait", func() bool { return len(teacher.State().Waiting) == 2 })

	annGivesUp()
	if r := <-annDone; r.err == nil {
		r.c.Close()
		t.Fatal("ann's join went through while she gave up waiting")
	}
	waitFor(t, 10*time.Second, "ann to leave the waiting list", func() bool {
		w := teacher.State().Waiting
		return len(w) == 1 && w[0].ID == "bob"
	})
	if !ls.replay().IsWaiting("bob") || ls.replay().IsWaiting("ann") {
		t.Fatalf("the log's waiting list is %+v, want bob alone", ls.replay().Waiting)
	}
	mustSend(t, ctx, teacher, &domain.ParticipantAdmitted{Participant: "bob"})
	r := <-bobDone
	if r.err != nil {
		t.Fatalf("bob, admitted: %v", r.err)
	}
	defer r.c.Close()
	converge(t, ls, teacher, r.c)
}

// TestWaitNotStored: a student's arrival in the lobby whose append fails
// (the whole append, or the store refusing that event alone) ends their
// session with a retryable error: they are not left waiting where the
// teacher's list (the log) does not show them, nor told that the teacher
// sent them away, and the room keeps no lobby entry of theirs. Joining
// again, they wait, and the log holds their arrival once. An append that
// failed after storing it leaves them waiting, as the log has them.
func TestWaitNotStored(t *testing.T) {
	for _, tc := range []struct {
		op     faultstore.Op
		stored bool // whether the failed append stored the arrival
	}{{faultstore.AppendBefore, false}, {faultstore.AppendRefuse, false}, {faultstore.AppendAfter, true}} {
		t.Run(string(tc.op), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			fs := faultstore.New(openStore(t, "sqlite"))
			ls := startServer(t, fs, nil)
			teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
			mustSend(t, ctx, teacher, &domain.LessonStarted{})
			mustSend(t, ctx, teacher, &domain.LobbyChanged{On: true})

			fs.Inject(faultstore.Fault{Op: tc.op, Match: kindIs(domain.KindParticipantWaiting)})
			done := make(chan dialResult, 1)
			go func() {
				c, err := ls.dialAs(ctx, "ann", "Ann", &received{})
				done <- dialResult{c, err}
			}()
			if !tc.stored {
				var r dialResult
				select {
				case r = <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("ann, whose arrival was not stored, waits unseen")
				}
				if r.err == nil || domain.ErrorCode(r.err) != domain.CodeUnavailable {
					t.Fatalf("ann, whose arrival was not stored: %v (code %q, reason %q), want unavailable",
						r.err, domain.ErrorCode(r.err), domain.ErrorReason(r.err))
				}
				if lobby := ls.peek(t, ctx).Lobby; slices.Contains(lobby, "ann") {
					t.Fatalf("the room keeps ann in its lobby: %v", lobby)
				}
				go func() {
					c, err := ls.dialAs(ctx, "ann", "Ann", &received{})
					done <- dialResult{c, err}
				}()
			}
			waitFor(t, 10*time.Second, "ann to wait in the lobby", func() bool {
				return ls.replay().IsWaiting("ann") && slices.Contains(ls.peek(t, ctx).Lobby, "ann")
			})
			select {
			case r := <-done:
				t.Fatalf("ann, waiting, was answered: %v", r.err)
			case <-time.After(100 * time.Millisecond):
			}
			arrivals := 0
			for e, err := range ls.store.Events(ctx, ls.lesson, 0) {
				if err != nil {
					t.Fatal(err)
				}
				if e.Kind() == domain.KindParticipantWaiting {
					arrivals++
				}
			}
			if arrivals != 1 {
				t.Fatalf("the log holds %d arrivals of ann, want 1", arrivals)
			}
			mustSend(t, ctx, teacher, &domain.ParticipantAdmitted{Participant: "ann"})
			if r := <-done; r.err != nil {
				t.Fatalf("ann, admitted: %v", r.err)
			} else {
				r.c.Close()
			}
		})
	}
}
