// Package realtime makes a lesson live. Participants join over a WebSocket
// (signaling), each gets one server-side WebRTC PeerConnection, and every
// lesson action travels over its data channels: a command is checked by
// domain, stored by eventstore, and then fanned out to everyone in the
// store's sequence order. Late joiners and reconnecting clients are replayed
// what they missed over the same channel. A student the lesson's rules hold
// in the lobby is sent nothing until the log lets them in, and a removal
// ends the removed participant's sessions in whichever room folds it. A
// student is sent no other student's answer to an anonymous poll, and no
// chat line of a breakout group they are not in, live, in a catch-up or in
// a snapshot (domain.HiddenFrom, State.ForStudent). While breakout groups
// are open, each is a media stage of its own (groups.go).
// Encoders and players that speak WHIP and WHEP instead open Streams: a
// publisher's tracks go on the stage as the teacher's, a viewer is one more
// subscriber of the stage.
//
// A Room owns one live lesson on this server process: its state, its
// sessions, and the only goroutine that decides its commands. With a
// Cluster (several nodes on one PostgreSQL), a room decides only while its
// node holds the lesson's lease; on the other nodes the lesson's room
// follows it, forwarding its participants' joins, commands and leaves to
// the owner over a node link. The package calls inward (domain, eventstore,
// cluster, protocol, token) and never back out into web or cmd.
package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/media"
	"classroom/realtime/protocol"
	"classroom/realtime/token"
)

// Config configures a Server.
type Config struct {
	Store  eventstore.Store
	Tokens *token.Keeper
	Logger *slog.Logger
	// Now is the clock events are stamped with; nil means time.Now.
	Now func() time.Time
	// ICEServers returns the STUN/TURN servers handed to a participant in
	// the welcome message; host is the name the participant reached the
	// server by (the request's host, without its port). nil hands none.
	ICEServers func(host, participant string) []protocol.ICEServer
	// AllowedOrigins lists the origins (scheme://host[:port]) whose pages may
	// open the WebSocket, besides the server's own host. "*" allows any.
	AllowedOrigins []string
	// Loopback makes the server's PeerConnections gather loopback candidates
	// and no mDNS ones: for tests and for a server used on one machine.
	Loopback bool
	// NAT1To1IPs are public addresses to announce instead of the host's (1:1 NAT).
	NAT1To1IPs []string
	// MediaUDPAddr, when set, is the one UDP address every PeerConnection's
	// media and data go through (":7882", say); empty gives each connection
	// ports of its own.
	MediaUDPAddr string
	// ResumeTTL is how long a participant's own token stays valid at the
	// least; 0 means 12 hours. It lasts as long as the token it was given
	// for when that lasts longer: a student who joined with the class's
	// link keeps their own as long as the link would have admitted them
	// (and still has it if the teacher replaces the link).
	ResumeTTL time.Duration
	// SnapshotEvery is how many events a room appends between two stored
	// snapshots; 0 means domain.SnapshotEvery.
	SnapshotEvery int
	// CommandRate and CommandBurst bound one participant's commands a second
	// (sustained, and at once); 0 means 100 and 300. A command over the
	// limit is refused with CodeRateLimited.
	CommandRate, CommandBurst int
	// Metrics, when set, receives the server's Prometheus metrics.
	Metrics prometheus.Registerer
	// RecordingsDir is where lessons' media is recorded, a directory per
	// lesson; empty records nothing (the events are still accepted).
	RecordingsDir string
	// Decks finds uploaded slide decks, which a deck.added must name; nil
	// means the Store, when it keeps decks. Without either, deck.added is
	// refused.
	Decks DeckFinder
	// AbsentAfter is how long a room, once opened, waits for the
	// participants its log lists as present to come back (their server was
	// killed before it stored their leave) before it records their leave
	// (reason domain.LeftAbsent); 0 means 10 seconds.
	AbsentAfter time.Duration
	// Cluster, when set, makes this server one node of several sharing the
	// Store, which must then take fenced appends (eventstore.Postgres): see
	// Cluster. nil: this process owns every lesson it serves.
	Cluster *Cluster
	// MaxSubscribers, when positive, is how many participants' connections
	// this node serves at once; one more is sent to a node with room (see
	// capacity.go). 0 takes everyone.
	MaxSubscribers int
}

// Server serves live lessons. Its zero value is not usable: call New.
type Server struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	engine   *media.Engine
	api      *webrtc.API
	relayAPI *webrtc.API // the relays' between nodes (see relay.go)
	upgrader websocket.Upgrader
	metrics  *metrics // nil records nothing
	// deflaters are compressors of ended catch-ups, for the next
	// (takeDeflater).
	deflaters chan *protocol.Deflater

	// Rooms run until ctx ends; sessions until sessionsCtx ends, first, so
	// that the rooms store their leaves.
	ctx         context.Context
	cancel      context.CancelFunc
	wg          sync.WaitGroup // rooms
	sessionsCtx context.Context
	endSessions context.CancelCauseFunc
	sessions    sync.WaitGroup

	load atomic.Int64 // participants' connections served now (capacity.go)

	// draining is set by Close on a cluster node: sessions end without
	// recording their leaves, since their participants reconnect through
	// another node; the lessons' new owners record the leaves of those who
	// do not.
	draining atomic.Bool

	closeOnce sync.Once // Close may be called again, and at once (a shutdown hook and a defer)
	closeErr  error

	mu     sync.Mutex
	rooms  map[uuid.UUID]*Room
	closed bool
}

// New returns a Server. Close releases it.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Tokens == nil {
		return nil, errors.New("realtime: a store and a token keeper are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ResumeTTL == 0 {
		cfg.ResumeTTL = 12 * time.Hour
	}
	if cfg.AbsentAfter == 0 {
		cfg.AbsentAfter = 10 * time.Second
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = domain.SnapshotEvery
	}
	if cfg.CommandRate == 0 {
		cfg.CommandRate = defaultCommandRate
	}
	if cfg.CommandBurst == 0 {
		cfg.CommandBurst = defaultCommandBurst
	}
	if _, ok := cfg.Store.(fencedStore); cfg.Cluster != nil && !ok {
		return nil, errors.New("realtime: a cluster node needs a store that takes fenced appends (PostgreSQL)")
	}
	if cfg.Decks == nil {
		cfg.Decks, _ = cfg.Store.(DeckFinder)
	}
	engine, err := media.NewEngine(media.EngineConfig{Loopback: cfg.Loopback, NAT1To1IPs: cfg.NAT1To1IPs,
		UDPAddr: cfg.MediaUDPAddr, SCTPMaxMessageSize: 256 << 10})
	if err != nil {
		return nil, fmt.Errorf("realtime: %w", err)
	}
	relayAPI := engine.API
	if cfg.Cluster != nil {
		// Relays between nodes get ports of their own: on the one shared
		// port, the two relays between a pair of nodes (one each way) would
		// come from the same address, which the port tells connections
		// apart by. Nodes reach each other directly, so no public address
		// is announced.
		relays, err := media.NewEngine(media.EngineConfig{Loopback: cfg.Loopback})
		if err != nil {
			engine.Close()
			return nil, fmt.Errorf("realtime: %w", err)
		}
		relayAPI = relays.API // it has no port to close: each connection closes its own
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		engine.Close()
		return nil, fmt.Errorf("realtime: register metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sessions, endSessions := context.WithCancelCause(context.Background())
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now, engine: engine, api: engine.API, relayAPI: relayAPI, metrics: m, ctx: ctx, cancel: cancel,
		sessionsCtx: sessions, endSessions: endSessions, rooms: map[uuid.UUID]*Room{}, deflaters: make(chan *protocol.Deflater, keptDeflaters)}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
		CheckOrigin:      s.checkOrigin,
	}
	return s, nil
}

// checkOrigin admits browsers from the server's own host and from the
// configured origins. Clients that send no Origin (not browsers) are admitted:
// they cannot be driven by another site's page.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || slices.Contains(s.cfg.AllowedOrigins, "*") {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range s.cfg.AllowedOrigins {
		if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// ServeHTTP upgrades GET /api/lessons/{id}/ws to a signaling WebSocket and
// runs a session on it until it ends.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lesson, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		http.Error(w, "not a lesson id", http.StatusBadRequest)
		return
	}
	release, full := s.admitLoad(r.Context(), lesson)
	if full != nil {
		s.refuseFull(w, r, full)
		return
	}
	defer release()
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		refuse(conn, domain.Errorf(domain.CodeUnavailable, "the server is shutting down"))
		return
	}
	s.sessions.Add(1)
	s.mu.Unlock()
	defer s.sessions.Done()
	sess := newSession(s.sessionsCtx, s, lesson, conn)
	sess.host = RequestHost(r)
	sess.run()
}

// RequestHost is the host name a request was sent to, without its port:
// the host the ICE servers (a relay on this server) are named by for it.
func RequestHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		return h
	}
	return r.Host
}

// acquire returns the room of a live lesson, loading it when it is not live
// on this server yet, and counts the caller as one of its holders until
// release. The room's loading happens outside the server's lock.
func (s *Server) acquire(ctx context.Context, lesson uuid.UUID) (*Room, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, domain.Errorf(domain.CodeUnavailable, "the server is shutting down")
	}
	r, ok := s.rooms[lesson]
	if ok && r.finished() {
		ok = false // it stopped following or deciding the lesson: a new room finds its owner
	}
	if !ok {
		r = newRoom(s, lesson)
		s.rooms[lesson] = r
		s.metrics.lessonsDelta(1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			r.run(s.ctx)
		}()
	}
	r.holders++
	s.mu.Unlock()
	select {
	case <-r.ready:
	case <-ctx.Done():
		s.release(r)
		return nil, ctx.Err()
	}
	if r.loadErr != nil {
		s.release(r)
		return nil, r.loadErr
	}
	return r, nil
}

// release undoes acquire; the last holder's release closes the room.
func (s *Server) release(r *Room) {
	s.mu.Lock()
	r.holders--
	last := r.holders == 0
	if last && s.rooms[r.lesson] == r {
		delete(s.rooms, r.lesson)
	}
	if last {
		s.metrics.lessonsDelta(-1)
	}
	s.mu.Unlock()
	if last {
		r.stop()
	}
}

// Rooms returns the number of lessons live on this server.
func (s *Server) Rooms() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rooms)
}

// Close ends every session, telling its client to reconnect (to another
// server, or this one restarted), waits until the rooms have stored their
// participants' leaves, then ends the rooms and waits for their goroutines.
// Later calls wait for the first and return what it returned.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.draining.Store(s.cfg.Cluster != nil)
		s.endSessions(domain.Errorf(domain.CodeUnavailable, "the server is restarting; reconnect"))
		s.sessions.Wait()
		s.cancel()
		s.wg.Wait()
		s.closeErr = s.engine.Close()
	})
	return s.closeErr
}

// MediaAddr returns the address of the shared media UDP port, or nil when
// there is none.
func (s *Server) MediaAddr() net.Addr { return s.engine.UDPAddr() }
