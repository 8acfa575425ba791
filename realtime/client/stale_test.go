package client

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/internal/tcpproxy"
	"classroom/media/mediatest"
	"classroom/realtime"
	"classroom/realtime/token"
)

// TestStaleNegotiationNeeded: pion fires negotiationneeded on a goroutine
// of its own, after a check it made earlier, and a receive-only student's
// check made before its first offer (nothing negotiated yet: needed) may
// fire, under load, once that offer is answered, when the student has
// nothing to negotiate. An offer made then crosses the server's next offer
// (the stage's tracks), which the server, the impolite peer, keeps, and
// which pion cannot roll back: a student of TestLectureAcrossNodes had no
// video for a minute, its client failing with "roll back an offer that
// crossed the server's". The student makes no offer when it has nothing
// to negotiate. The real server and real PeerConnections; the student's
// signaling goes through a proxy that holds the server's offer until the
// stale negotiationneeded (a call of conn.offer, as pion makes it) is
// made.
func TestStaleNegotiationNeeded(t *testing.T) {
	srv, url, tokens, lesson := lessonServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher, err := Dial(ctx, Options{URL: url, Token: issue(t, tokens, lesson, domain.RoleTeacher, "teacher"), Name: "Ms Lovelace", Loopback: true})
	if err != nil {
		t.Fatalf("the teacher joins: %v", err)
	}
	defer teacher.Close()
	if _, err := teacher.Send(ctx, &domain.LessonStarted{}); err != nil {
		t.Fatal(err)
	}

	// A student joins while the stage is empty: its first offer is
	// answered, and the server has nothing to offer it.
	gate := holdingProxy(t, srv.Listener.Addr().String())
	var video atomic.Int64
	student, err := Dial(ctx, Options{URL: strings.Replace(url, srv.Listener.Addr().String(), gate.addr, 1),
		Token: issue(t, tokens, lesson, domain.RoleStudent, ""), Name: "Ada", Loopback: true,
		OnTrack: func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				if tr.Kind() == webrtc.RTPCodecTypeVideo {
					video.Add(1)
				}
			}
		}})
	if err != nil {
		t.Fatalf("the student joins: %v", err)
	}
	defer student.Close()
	waitUntil(t, 10*time.Second, "the student's connection to be made and stable", func() bool {
		pc := student.PeerConnection()
		return pc.ConnectionState() == webrtc.PeerConnectionStateConnected && pc.SignalingState() == webrtc.SignalingStateStable
	})

	// The teacher's camera comes on: the server offers it to the student,
	// and the proxy holds that offer.
	gate.hold()
	mediatest.Start(t, teacher.AddTrack, "teacher", 30, 1000)
	waitUntil(t, 10*time.Second, "the server to offer the teacher's camera to the student", gate.holdsOffer)

	// pion's stale negotiationneeded, while the server's offer is on its way.
	student.mu.Lock()
	cn := student.conn
	student.mu.Unlock()
	cn.offer()
	gate.release()

	waitUntil(t, 20*time.Second, "the student to receive the teacher's video", func() bool {
		if err := student.Err(); err != nil {
			t.Fatalf("the student: %v", err)
		}
		return video.Load() >= 30
	})
}

// lessonServer starts a realtime server on a SQLite store in a temporary
// directory, with a lesson created, and returns its HTTP server, the
// lesson's signaling URL, the keeper of its tokens and the lesson's id.
func lessonServer(t *testing.T) (*httptest.Server, string, *token.Keeper, uuid.UUID) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := eventstore.OpenSQLite(context.Background(), t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := token.NewKeeper([]byte(strings.Repeat("k", 32)), nil)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := realtime.New(realtime.Config{Store: store, Tokens: tokens, Logger: log, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/lessons/{id}/ws", rt)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		rt.Close()
		store.Close()
	})
	lesson := uuid.New()
	ev, err := domain.NewLesson(lesson, uuid.New(), "Fractions", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, errs, err := store.Append(context.Background(), ev); err != nil || errs[0] != nil {
		t.Fatalf("create the lesson: %v %v", err, errs)
	}
	return srv, "ws://" + srv.Listener.Addr().String() + "/api/lessons/" + lesson.String() + "/ws", tokens, lesson
}

func issue(t *testing.T, k *token.Keeper, lesson uuid.UUID, role domain.Role, participant string) string {
	t.Helper()
	tok, err := k.Issue(token.Claims{Lesson: lesson, Role: role, Participant: participant, Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// gate is a TCP proxy for one signaling connection whose server-to-client
// direction can be held: what the server sends meanwhile is kept, and
// delivered, in order, on release.
type gate struct {
	addr string

	mu      sync.Mutex
	holding bool
	held    []byte
	client  net.Conn
}

// holdingProxy starts a gate in front of addr, open, for the length of the test.
func holdingProxy(t *testing.T, addr string) *gate {
	g := &gate{}
	g.addr = tcpproxy.Start(t, addr, func(client, server net.Conn) {
		g.mu.Lock()
		g.client = client
		g.mu.Unlock()
		b := make([]byte, 64<<10)
		for {
			n, err := server.Read(b)
			if n > 0 {
				g.forward(client, b[:n])
			}
			if err != nil {
				return
			}
		}
	})
	return g
}

// forward writes what the server sent to the client, or keeps it while held.
func (g *gate) forward(c net.Conn, b []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.holding {
		g.held = append(g.held, b...)
		return
	}
	c.Write(b)
}

func (g *gate) hold() {
	g.mu.Lock()
	g.holding = true
	g.mu.Unlock()
}

// holdsOffer reports whether an offer of the server's is held.
func (g *gate) holdsOffer() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return bytes.Contains(g.held, []byte(`"type":"offer"`))
}

// release delivers what was held and stops holding.
func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.holding = false
	if g.client != nil {
		g.client.Write(g.held)
	}
	g.held = nil
}
