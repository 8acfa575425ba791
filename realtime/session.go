package realtime

import (
	"context"
	"errors"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"

	"classroom/domain"
	"classroom/media"
	"classroom/media/sfu"
	"classroom/realtime/peer"
	"classroom/realtime/protocol"
	"classroom/realtime/token"
)

// Timing and flow limits of a session.
const (
	joinTimeout         = 10 * time.Second
	pingEvery           = 20 * time.Second
	pongWait            = 60 * time.Second
	writeWait           = 10 * time.Second
	signalQueue         = 64
	liveQueue           = 4096      // messages waiting for a slow client before it is dropped
	highWater           = 256 << 10 // bytes buffered on the events channel before the writer waits
	lowWater            = 64 << 10  // the writer resumes below this
	ephemeralBuffer     = 64 << 10  // an ephemeral message is dropped for a peer with more than this buffered
	defaultCommandRate  = 100       // commands a second, sustained
	defaultCommandBurst = 300
	ephemeralRate       = 60
	ephemeralBurst      = 120
	resendRate          = 100  // commands a second over the command rate the room still looks at, sustained
	resendBurst         = 2000 // and at once: a backlog resent after a reconnect
	heldSignals         = 256  // signals held while the session waits to enter (a student in the lobby)
)

// session is one participant's connection to a live lesson, from the join
// to the leave: it admits the participant (admit), sets up their
// PeerConnection, enters the room, reads their signals until they leave or
// the session is ended, and leaves the room (run). Its other conversations
// are types of their own: the WebSocket (signaling), the offers, answers
// and candidates (negotiation), and what the events channel carries to the
// client (delivery); commands.go hands what the client sends on the data
// channels to the room. run owns the session; three goroutines help, each
// ended by run before it returns: the WebSocket writer, the negotiator and
// the events writer (and, through pion, the data channel readers).
type session struct {
	srv    *Server
	lesson uuid.UUID
	host   string // the server's name as the participant reached it

	participant string
	role        domain.Role
	name        string
	lastSeq     int64 // what the client said it has, when it joined
	compress    bool  // the client takes compressed events messages (protocol.Compressed)

	sig *signaling   // the WebSocket
	neg *negotiation // set by connect
	out *delivery    // the events channel; set by connect

	room      *Room
	member    *sfu.Member // on the room's stage, once entered
	pc        *webrtc.PeerConnection
	direct    *media.Direct // sends pc's forwarded media, when the engine can (see media.Engine.NewMemberConnection)
	ephemeral *webrtc.DataChannel

	commands *rate.Limiter
	resends  *rate.Limiter // over-rate commands the room checks for resends (commands.go)
	cursors  *rate.Limiter

	ctx    context.Context
	cancel context.CancelFunc

	// remote is set on a session of an owner's room whose participant a
	// follower node serves: the room's answers go over this node link
	// (nodes.go). linkKey names the session on its node link, on both ends.
	remote  *nodeLink
	linkKey string

	mu     sync.Mutex
	reason error // why the session ended, when the server ended it
}

func newSession(parent context.Context, srv *Server, lesson uuid.UUID, ws *websocket.Conn) *session {
	s := &session{srv: srv, lesson: lesson,
		commands: rate.NewLimiter(rate.Limit(srv.cfg.CommandRate), srv.cfg.CommandBurst),
		resends:  rate.NewLimiter(resendRate, resendBurst), cursors: rate.NewLimiter(ephemeralRate, ephemeralBurst)}
	s.ctx, s.cancel = context.WithCancel(parent)
	s.sig = newSignaling(ws, srv.log, s.cancel)
	return s
}

// kill ends the session from outside run, saying why.
func (s *session) kill(why error) {
	if s.remote != nil {
		s.remote.send(linkMsg{Type: linkKill, Key: s.linkKey}.withErr(why))
	}
	s.mu.Lock()
	if s.reason == nil {
		s.reason = why
	}
	s.mu.Unlock()
	s.cancel() // run's AfterFunc wakes its read
}

func (s *session) run() {
	defer s.cancel()
	// However the session ends (the server closing, the room failing),
	// wake the read that waits for the client's next signal.
	defer context.AfterFunc(s.ctx, func() { s.sig.ws.UnderlyingConn().SetReadDeadline(time.Now()) })()
	var helpers sync.WaitGroup
	helpers.Go(s.sig.write)
	defer func() {
		s.cancel() // ends the negotiator
		s.sig.close()
		helpers.Wait()
		s.sig.ws.Close()
	}()

	if err := s.admit(); err != nil {
		s.bye(s.orWhy(err))
		return
	}
	room, err := s.srv.acquire(s.ctx, s.lesson)
	if err != nil {
		s.bye(s.orWhy(err))
		return
	}
	s.room = room
	defer s.srv.release(room)

	if err := s.connect(); err != nil {
		s.srv.log.Error("create peer connection", "err", err)
		s.bye(domain.Errorf(domain.CodeInternal, "could not set up the connection"))
		return
	}
	defer s.pc.Close()
	helpers.Go(func() { s.neg.run(s.ctx) })
	// The client's signals are read from now on, in the lobby too, so
	// that a student who leaves while waiting is seen to go; what the
	// negotiation needs is held until the session entered.
	signals := make(chan struct{})
	entered := make(chan struct{})
	helpers.Go(func() {
		defer close(signals)
		s.readSignals(entered)
	})

	res, ok := s.enter(room, signals)
	if !ok {
		return
	}
	s.member = room.stage.JoinDirect(s.participant, s.pc, s.direct)
	s.member.OnCodecUnsupported(func(u sfu.UnsupportedTrack) { s.sig.send(codecSignal(u)) })
	close(entered) // the negotiation may publish tracks to s.member from now on
	defer func() {
		s.member.Leave()
		s.pc.Close()
		s.member.Wait()
	}()
	s.srv.metrics.participantsDelta(1)
	defer s.srv.metrics.participantsDelta(-1)
	if res.plan.snapshot != nil {
		s.srv.metrics.replay("snapshot")
	} else {
		s.srv.metrics.replay("events")
	}
	s.srv.log.Debug("session entered", "lesson", s.lesson, "participant", s.participant, "role", s.role,
		"after", s.lastSeq, "snapshot", res.plan.snapshot != nil, "seq", res.plan.seq)
	helpers.Go(func() { s.out.run(s.ctx, res.plan) })

	<-signals
	// The leave is stored before the bye goes: a client that waits for the
	// bye finds its leave in the log.
	s.leave()
	s.bye(s.why())
}

// enter enters the room, waiting in the lobby for as long as the lesson's
// rules hold the student there. When it cannot, it says goodbye and returns
// false.
func (s *session) enter(room *Room, signals <-chan struct{}) (enterReply, bool) {
	for {
		reply := make(chan enterReply, 1)
		if err := room.send(s.ctx, &enter{s: s, after: s.lastSeq, reply: reply}); err != nil {
			s.bye(s.orWhy(err))
			return enterReply{}, false
		}
		var res enterReply
		select {
		case res = <-reply:
		case <-room.stopped: // the enter may have been queued as the room stopped
			select {
			case res = <-reply:
			default:
				res = enterReply{err: errRoomGone}
			}
		case <-s.ctx.Done():
			// The room may still take the enter, register the session and store
			// its join: the exit queued after it stores the leave, or nothing.
			s.leave()
			s.bye(s.why())
			return enterReply{}, false
		}
		if res.err != nil {
			s.bye(res.err)
			return enterReply{}, false
		}
		if res.wait == nil {
			return res, true
		}
		s.sig.send(protocol.Signal{Type: protocol.SignalWaiting, Code: domain.CodeForbidden, Reason: domain.ReasonWaiting,
			Message: "the teacher will let you in"})
		select {
		case err := <-res.wait:
			if err == nil {
				continue // admitted, or the lobby switched off: enter again
			}
			s.leave()
			s.bye(err)
			return enterReply{}, false
		case <-signals: // the client left, or the session was ended
		case <-s.ctx.Done():
		case <-room.stopped:
			s.bye(errRoomGone)
			return enterReply{}, false
		}
		s.leave()
		s.bye(s.why())
		return enterReply{}, false
	}
}

// orWhy returns the reason the session was ended, when it was ended (the
// server stopping, a newer session) and so made err, a cancelled read or
// wait, happen; err otherwise. A client is told to reconnect, not that its
// join was malformed.
func (s *session) orWhy(err error) error {
	if s.ctx.Err() != nil {
		if why := s.why(); why != nil {
			return why
		}
	}
	return err
}

// why is the reason the session ended: the server's, or nil when the client left.
func (s *session) why() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reason == nil && s.srv.sessionsCtx.Err() != nil {
		return context.Cause(s.srv.sessionsCtx) // the server is stopping
	}
	return s.reason
}

// leave tells the room the session is gone and waits until that is stored,
// so that the participant's leave is in the log before the room may close.
func (s *session) leave() {
	s.cancel()
	done := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.room.send(ctx, &exit{s: s, done: done}) == nil {
		select {
		case <-done:
		case <-s.room.stopped:
		case <-ctx.Done():
		}
	}
}

// bye says goodbye to the client: why the server ended the session, when it did.
func (s *session) bye(err error) {
	if err != nil {
		s.sig.send(errorSignal(err))
	}
	sig := protocol.Signal{Type: protocol.SignalBye}
	if err != nil {
		sig.Code, sig.Reason, sig.Message = domain.ErrorCode(err), domain.ErrorReason(err), domain.ErrorMessage(err)
	}
	s.sig.send(sig)
}

// admit reads the join message and checks its token.
func (s *session) admit() error {
	s.sig.ws.SetReadLimit(protocol.MaxSignalBytes)
	join, err := s.sig.read(s.ctx, time.Now().Add(joinTimeout))
	if err != nil {
		if isInvalid(err) {
			return err
		}
		return domain.Errorf(domain.CodeInvalid, "no join message")
	}
	if join.Type != protocol.SignalJoin {
		return domain.Errorf(domain.CodeInvalid, "the first message must be a join")
	}
	if err := protocol.CheckVersion(join.Version); err != nil {
		return err
	}
	s.compress = join.Version >= protocol.Compressed
	claims, err := s.srv.cfg.Tokens.Verify(join.Token, s.lesson)
	if err != nil {
		return err
	}
	if claims.Participant == "" { // an invitation: is it still the lesson's?
		l, err := s.srv.cfg.Store.Lesson(s.ctx, s.lesson)
		if err != nil {
			return err
		}
		if err := claims.CheckInvitation(l.Invitation); err != nil {
			return err
		}
	}
	s.role, s.participant, s.name = claims.Role, claims.Participant, claims.Name
	if s.name == "" {
		s.name = join.Name
	}
	if s.name == "" && s.role == domain.RoleTeacher {
		s.name = "Teacher"
	}
	if n := utf8.RuneCountInString(s.name); n == 0 || n > domain.MaxNameRunes || !utf8.ValidString(s.name) {
		return domain.Errorf(domain.CodeInvalid, "a name of 1 to %d characters is needed", domain.MaxNameRunes)
	}
	if s.participant == "" {
		s.participant = uuid.NewString() // an invitation: this student is someone new
	}
	s.sig.named(s.participant)
	expires := s.srv.now().Add(s.srv.cfg.ResumeTTL)
	if claims.Expires.After(expires) {
		expires = claims.Expires
	}
	resume, err := s.srv.cfg.Tokens.Issue(token.Claims{Lesson: s.lesson, Role: s.role, Participant: s.participant,
		Name: s.name, Expires: expires})
	if err != nil {
		return err
	}
	s.lastSeq = join.LastSeq
	var servers []protocol.ICEServer
	if s.srv.cfg.ICEServers != nil {
		servers = s.srv.cfg.ICEServers(s.host, s.participant)
	}
	s.sig.send(protocol.Signal{Type: protocol.SignalWelcome, Version: protocol.Version, Participant: s.participant,
		Role: s.role, Name: s.name, ResumeToken: resume, ICEServers: servers})
	return nil
}

func isInvalid(err error) bool {
	var e *domain.Error
	return errors.As(err, &e) && e.Code == domain.CodeInvalid
}

// connect creates the PeerConnection and its two negotiated data channels,
// and hands them to the session's conversations.
func (s *session) connect() error {
	pc, direct, err := s.srv.engine.NewMemberConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	s.pc, s.direct = pc, direct
	events, ephemeral, err := peer.Channels(pc)
	if err != nil {
		return err
	}
	log := s.srv.log.With("participant", s.participant)
	s.neg = newNegotiation(s.sig.send, log, s.srv.metrics)
	s.neg.attach(pc)
	s.out = newDelivery(s.srv, s.lesson, s.participant, s.role, s.compress, log, s.kill)
	s.out.attach(events)
	s.ephemeral = ephemeral
	events.OnMessage(s.onCommand)
	ephemeral.OnMessage(s.onEphemeral)
	pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) {
		s.srv.log.Debug("peer connection", "participant", s.participant, "state", state.String())
		if state == webrtc.PeerConnectionStateConnected {
			// So that the first packets forwarded to this participant
			// (a keyframe) are not lost.
			peer.StartSRTP(pc)
		}
		if state == webrtc.PeerConnectionStateFailed {
			s.kill(domain.Errorf(domain.CodeUnavailable, "the connection failed; reconnect"))
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		// Offers are handled only after the session entered the room
		// (readSignals holds them until then), so the member exists: whatever the participant sends reaches the
		// stage, which forwards it only while they are on it.
		s.member.Publish(t, r)
	})
	return nil
}

// readSignals handles the client's signals until the socket closes, the
// client leaves, or the session is killed. Offers, answers and candidates
// that come before the session entered the room (entered closes then; a
// student waiting in the lobby) are held, at most heldSignals of them, and
// handled once it has: the PeerConnection's tracks are published to the
// stage, which a session has only once it entered. A leave is acted on at
// once. It cancels the session's context when it returns, and returns only
// once its reader has.
func (s *session) readSignals(entered <-chan struct{}) {
	s.sig.keepAlive(s.ctx)
	in := make(chan protocol.Signal)
	var reader sync.WaitGroup
	defer reader.Wait()
	defer s.cancel() // wakes the reader's read
	reader.Go(func() {
		defer close(in)
		for s.ctx.Err() == nil {
			sig, err := s.sig.read(s.ctx, time.Now().Add(pongWait))
			if err != nil {
				if isInvalid(err) {
					s.sig.send(errorSignal(err)) // a bad message does not end the session
					continue
				}
				return
			}
			select {
			case in <- sig:
			case <-s.ctx.Done():
				return
			}
		}
	})
	var held []protocol.Signal
	for {
		select {
		case <-entered:
			entered = nil
			for _, sig := range held {
				s.handleSignal(sig)
			}
			held = nil
		case sig, ok := <-in:
			if !ok {
				return
			}
			s.srv.log.Debug("signal", "participant", s.participant, "type", sig.Type)
			switch {
			case sig.Type == protocol.SignalLeave:
				return
			case entered == nil:
				s.handleSignal(sig)
			case len(held) < heldSignals:
				held = append(held, sig)
			default:
				s.sig.send(errorSignal(domain.Errorf(domain.CodeInvalid, "more than %d signals before the lesson let you in", heldSignals)))
				return
			}
		}
	}
}

// handleSignal hands an offer, answer or candidate to the negotiation.
func (s *session) handleSignal(sig protocol.Signal) {
	switch sig.Type {
	case protocol.SignalOffer:
		s.neg.answer(sig)
	case protocol.SignalAnswer:
		s.neg.answered(sig)
	case protocol.SignalCandidate:
		s.neg.candidate(sig)
	default:
		s.sig.send(errorSignal(domain.Errorf(domain.CodeInvalid, "unexpected %q signal", sig.Type)))
	}
}
