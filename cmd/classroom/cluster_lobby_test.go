package main

import (
	"context"
	"testing"
	"time"

	"classroom/domain"
	"classroom/realtime/client"
)

// TestClusterLobby: a student who joins through a node that does not decide
// the lesson waits in the owner's lobby with nothing of the lesson sent,
// enters when admitted, is refused when denied, and a removal decided on the
// owner ends her session on her node and refuses her resume token there.
func TestClusterLobby(t *testing.T) {
	c := startCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lesson, teacher := c.startLesson(ctx, "Lobby across nodes", "teacher")
	if _, err := teacher.Send(ctx, &domain.LobbyChanged{On: true}); err != nil {
		t.Fatal(err)
	}

	type dialed struct {
		c   *client.Client
		err error
	}
	dialAsync := func(id string) <-chan dialed {
		done := make(chan dialed, 1)
		tok, err := c.tokens.Issue(tokenClaims(lesson, domain.RoleStudent, id))
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			cl, err := client.Dial(ctx, client.Options{URL: c.wsURL(1, lesson), Token: tok, Loopback: true})
			done <- dialed{cl, err}
		}()
		return done
	}
	waitWaiting := func(id string) {
		t.Helper()
		for !teacher.State().IsWaiting(id) {
			if ctx.Err() != nil {
				t.Fatalf("%s never shows in the lobby on the owner", id)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	ann := dialAsync("ann")
	waitWaiting("ann")
	if _, err := teacher.Send(ctx, &domain.ChatPosted{Text: "for those admitted"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	select {
	case r := <-ann:
		t.Fatalf("a student waiting through another node got an answer: %v", r.err)
	default:
	}
	if _, err := teacher.Send(ctx, &domain.ParticipantAdmitted{Participant: "ann"}); err != nil {
		t.Fatal(err)
	}
	var a dialed
	select {
	case a = <-ann:
	case <-ctx.Done():
		t.Fatal("ann, admitted, never entered")
	}
	if a.err != nil {
		t.Fatalf("ann, admitted through node 1: %v", a.err)
	}
	defer a.c.Close()
	for p := teacher.State().Participants["ann"]; p == nil || !p.Present; p = teacher.State().Participants["ann"] {
		if ctx.Err() != nil {
			t.Fatal("ann, admitted, is never present for the teacher")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.converge(ctx, lesson, []*client.Client{teacher, a.c})
	if chat := a.c.State().Chat; len(chat) != 1 {
		t.Fatalf("ann, admitted, has %d chat lines, want 1", len(chat))
	}
	if p := a.c.State().Participants["ann"]; p == nil || !p.Present {
		t.Fatal("ann, admitted, is not present in her own state")
	}

	bob := dialAsync("bob")
	waitWaiting("bob")
	if _, err := teacher.Send(ctx, &domain.ParticipantDenied{Participant: "bob"}); err != nil {
		t.Fatal(err)
	}
	if r := <-bob; domain.ErrorReason(r.err) != domain.ReasonDenied {
		t.Fatalf("bob, denied through node 1: %v, want reason denied", r.err)
	}

	resume := a.c.ResumeToken()
	if _, err := teacher.Send(ctx, &domain.ParticipantRemoved{Participant: "ann"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.c.Ended():
	case <-time.After(10 * time.Second):
		t.Fatal("ann's session on node 1 goes on after her removal")
	}
	if bye := a.c.Bye(); bye == nil || bye.Reason != domain.ReasonRemoved {
		t.Fatalf("ann was told %+v, want reason removed", bye)
	}
	if _, err := client.Dial(ctx, client.Options{URL: c.wsURL(1, lesson), Token: resume, Loopback: true}); domain.ErrorReason(err) != domain.ReasonRemoved {
		t.Fatalf("ann's resume token through node 1: %v, want reason removed", err)
	}
}
