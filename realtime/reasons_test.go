package realtime_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"classroom/domain"
	"classroom/internal/syncbuf"
	"classroom/realtime"
	"classroom/realtime/client"
	"classroom/realtime/protocol"
)

// TestProtocolVersion: a client speaking a protocol version the server does
// not is refused, before any other work, with the reason incompatible and
// the server's version; a client that names no version (written before
// versions were announced) is served as version 1, and the welcome says
// which version the server speaks.
func TestProtocolVersion(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	_, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: ls.token(domain.RoleStudent, "", time.Hour), Name: "Newt",
		Loopback: true, Version: protocol.Version + 1})
	if domain.ErrorCode(err) != domain.CodeInvalid || domain.ErrorReason(err) != domain.ReasonIncompatible {
		t.Errorf("a client of version %d joins: %v (reason %q), want invalid, incompatible", protocol.Version+1, err, domain.ErrorReason(err))
	}

	// The same, as the signals say it, and a join that names no version.
	signals := func(join string) []protocol.Signal {
		t.Helper()
		ws, _, err := websocket.DefaultDialer.DialContext(ctx, ls.url(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		if err := ws.WriteMessage(websocket.TextMessage, []byte(join)); err != nil {
			t.Fatal(err)
		}
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var got []protocol.Signal
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return got // the server closed the socket, or said all it would
			}
			sig, err := protocol.DecodeSignal(b)
			if err != nil {
				t.Fatalf("the server's signal %s: %v", b, err)
			}
			if got = append(got, sig); sig.Type == protocol.SignalWelcome {
				return got
			}
		}
	}
	tok := ls.token(domain.RoleStudent, "", time.Hour)
	got := signals(fmt.Sprintf(`{"type":"join","token":%q,"name":"Newt","version":%d}`, tok, protocol.Version+1))
	if len(got) != 2 || got[0].Type != protocol.SignalError || got[0].Reason != domain.ReasonIncompatible ||
		got[0].Version != protocol.Version || got[1].Type != protocol.SignalBye || got[1].Reason != domain.ReasonIncompatible {
		t.Errorf("a join of version %d is answered %+v, want an incompatible error with version %d, then bye", protocol.Version+1, got, protocol.Version)
	}
	got = signals(fmt.Sprintf(`{"type":"join","token":%q,"name":"Olga"}`, tok))
	if served := protocol.UnversionedClient >= protocol.MinVersion; served {
		if len(got) != 1 || got[0].Type != protocol.SignalWelcome || got[0].Version != protocol.Version {
			t.Errorf("a join that names no version is answered %+v, want a welcome of version %d", got, protocol.Version)
		}
	} else if len(got) != 2 || got[0].Reason != domain.ReasonIncompatible || got[1].Type != protocol.SignalBye {
		t.Errorf("a join that names no version (%d, older than %d) is answered %+v, want incompatible, then bye",
			protocol.UnversionedClient, protocol.MinVersion, got)
	}
	got = signals(fmt.Sprintf(`{"type":"join","token":%q,"name":"Pia","version":%d}`, tok, protocol.Version))
	if len(got) != 1 || got[0].Type != protocol.SignalWelcome || got[0].Version != protocol.Version {
		t.Errorf("a join of version %d is answered %+v, want a welcome of that version", protocol.Version, got)
	}
	waitFor(t, 10*time.Second, "the rooms to close", func() bool { return ls.rt.Rooms() == 0 })
}

// TestRefusalReasons: the refusals a client acts on carry their reason.
// The same participant joining again ends the older session
// (joined_elsewhere); once the lesson has ended, commands and joins are
// refused (lesson_ended).
func TestRefusalReasons(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	again := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	waitFor(t, 10*time.Second, "the first session to be told", func() bool {
		bye := first.Bye()
		return bye != nil && bye.Type == protocol.SignalBye
	})
	if bye := first.Bye(); bye.Code != domain.CodeConflict || bye.Reason != domain.ReasonJoinedElsewhere {
		t.Errorf("the teacher's first session ends with %+v, want conflict, joined_elsewhere", bye)
	}

	mustSend(t, ctx, again, &domain.LessonEnded{})
	_, err := again.Send(ctx, &domain.ChatPosted{Text: "anyone there?"})
	if domain.ErrorCode(err) != domain.CodeConflict || domain.ErrorReason(err) != domain.ReasonLessonEnded {
		t.Errorf("a chat message after the end: %v (reason %q), want conflict, lesson_ended", err, domain.ErrorReason(err))
	}
	_, err = ls.join(ctx, domain.RoleStudent, "Late Lucy", nil)
	if domain.ErrorCode(err) != domain.CodeConflict || domain.ErrorReason(err) != domain.ReasonLessonEnded {
		t.Errorf("joining after the end: %v (reason %q), want conflict, lesson_ended", err, domain.ErrorReason(err))
	}
}

// TestSignalTooLarge: a signal of 100 KiB is read (a large offer is one),
// and a signal over protocol.MaxSignalBytes ends the session: the client's
// socket is closed with "message too big" (1009), and the server's log
// says why, which no signal can tell the client once the socket's read
// failed.
func TestSignalTooLarge(t *testing.T) {
	var log syncbuf.Buffer
	ls := startServer(t, openStore(t, "sqlite"), func(c *realtime.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, ls.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	join := fmt.Sprintf(`{"type":"join","token":%q,"name":"Quinn","version":%d}`,
		ls.token(domain.RoleStudent, "", time.Hour), protocol.Version)
	if err := ws.WriteMessage(websocket.TextMessage, []byte(join)); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for welcomed := false; !welcomed; {
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("before the welcome: %v", err)
		}
		sig, err := protocol.DecodeSignal(b)
		if err != nil {
			t.Fatal(err)
		}
		welcomed = sig.Type == protocol.SignalWelcome
	}
	// An offer of a page receiving many tracks (a breakout group's cameras)
	// can pass 64 KiB: a signal that size is read, and answered.
	large := `{"type":"nonsense","sdp":"` + strings.Repeat("a", 100<<10) + `"}`
	if err := ws.WriteMessage(websocket.TextMessage, []byte(large)); err != nil {
		t.Fatal(err)
	}
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("after a signal of %d bytes: %v, want it read and answered", len(large), err)
	}
	if sig, err := protocol.DecodeSignal(b); err != nil || sig.Type != protocol.SignalError || sig.Code != domain.CodeInvalid {
		t.Fatalf("a signal of %d bytes of an unknown type is answered %s (%v), want an invalid error", len(large), b, err)
	}
	big := `{"type":"offer","sdp":"` + strings.Repeat("a", protocol.MaxSignalBytes) + `"}`
	if err := ws.WriteMessage(websocket.TextMessage, []byte(big)); err != nil {
		t.Fatal(err)
	}
	for {
		if _, _, err = ws.ReadMessage(); err != nil {
			break
		}
	}
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Errorf("after a signal of %d bytes the socket ends with %v, want close code %d", len(big), err, websocket.CloseMessageTooBig)
	}
	waitFor(t, 10*time.Second, "the server to log the signal over the limit", func() bool {
		return strings.Contains(log.String(), "a signal over the size limit ends the session")
	})
}
