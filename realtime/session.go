package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/media/sfu"
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
)

// session is one participant's connection: a signaling WebSocket, a
// PeerConnection and its data channels. run owns it; three goroutines help,
// each ended by run before it returns: the WebSocket writer, the events
// writer and (through pion) the data channel readers.
type session struct {
	srv    *Server
	lesson uuid.UUID
	ws     *websocket.Conn
	host   string // the server's name as the participant reached it

	participant string
	role        domain.Role
	name        string
	lastSeq     int64 // what the client said it has, when it joined

	room      *Room
	member    *sfu.Member // on the room's stage, once entered
	pc        *webrtc.PeerConnection
	events    *webrtc.DataChannel
	ephemeral *webrtc.DataChannel

	signals chan protocol.Signal // to the WebSocket writer; closed by run at the end
	live    chan []byte          // to the events writer
	opened  chan struct{}        // the events channel is open
	low     chan struct{}        // the events channel drained below lowWater

	// sigMu orders signal's sends with closeSignals: pion's callbacks and
	// the negotiator may still signal while run ends.
	sigMu     sync.Mutex
	sigClosed bool

	commands *rate.Limiter
	cursors  *rate.Limiter

	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	reason error // why the session ended, when the server ended it

	// Candidates wait until the description they belong to has gone (ours)
	// or been set (the client's): sent or added earlier, they are lost.
	iceMu       sync.Mutex
	described   bool                    // our first description has been sent
	localICE    []protocol.ICECandidate // gathered before that
	remoteSet   bool                    // the client's first description is set
	remoteEarly []webrtc.ICECandidateInit

	negotiating sync.Mutex    // one offer or answer at a time
	needOffer   chan struct{} // pion says negotiation is needed; to the negotiator
}

func newSession(srv *Server, lesson uuid.UUID, ws *websocket.Conn) *session {
	return &session{srv: srv, lesson: lesson, ws: ws,
		signals: make(chan protocol.Signal, signalQueue), live: make(chan []byte, liveQueue),
		needOffer: make(chan struct{}, 1),
		opened:    make(chan struct{}), low: make(chan struct{}, 1),
		commands: rate.NewLimiter(rate.Limit(srv.cfg.CommandRate), srv.cfg.CommandBurst), cursors: rate.NewLimiter(ephemeralRate, ephemeralBurst)}
}

// refuse answers a WebSocket with an error and closes it.
func refuse(ws *websocket.Conn, err error) {
	ws.SetWriteDeadline(time.Now().Add(writeWait))
	ws.WriteJSON(errorSignal(err))
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	ws.Close()
}

func errorSignal(err error) protocol.Signal {
	return protocol.Signal{Type: protocol.SignalError, Code: domain.ErrorCode(err), Message: domain.ErrorMessage(err)}
}

// kill ends the session from outside run, saying why.
func (s *session) kill(why error) {
	s.mu.Lock()
	if s.reason == nil {
		s.reason = why
	}
	s.mu.Unlock()
	s.cancel() // run's AfterFunc wakes its read
}

func (s *session) run(parent context.Context) {
	s.ctx, s.cancel = context.WithCancel(parent)
	defer s.cancel()
	// However the session ends (the server closing, the room failing),
	// wake the read that waits for the client's next signal.
	defer context.AfterFunc(s.ctx, func() { s.ws.UnderlyingConn().SetReadDeadline(time.Now()) })()
	var helpers sync.WaitGroup
	helpers.Go(s.writeSignals)
	helpers.Go(s.negotiate)
	defer func() {
		s.cancel() // ends the negotiator
		s.closeSignals()
		helpers.Wait()
		s.ws.Close()
	}()

	if err := s.admit(); err != nil {
		s.signal(errorSignal(err))
		s.signal(protocol.Signal{Type: protocol.SignalBye, Code: domain.ErrorCode(err), Message: domain.ErrorMessage(err)})
		return
	}
	room, err := s.srv.acquire(s.ctx, s.lesson)
	if err != nil {
		s.bye(err)
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

	reply := make(chan enterReply, 1)
	if err := room.send(s.ctx, &enter{s: s, after: s.lastSeq, reply: reply}); err != nil {
		s.bye(err)
		return
	}
	var res enterReply
	select {
	case res = <-reply:
	case <-s.ctx.Done():
		s.bye(s.why())
		return
	}
	if res.err != nil {
		s.bye(res.err)
		return
	}
	defer s.leave()
	s.member = room.stage.Join(s.participant, s.pc)
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
	helpers.Go(func() { s.writeEvents(res.plan) })

	s.readSignals()
	s.bye(s.why())
}

// why is the reason the session ended: the server's, or nil when the client left.
func (s *session) why() error {
	s.mu.Lock()
	defer s.mu.Unlock()
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
		case <-s.room.done:
		case <-ctx.Done():
		}
	}
}

func (s *session) bye(err error) {
	if err != nil {
		s.signal(errorSignal(err))
	}
	sig := protocol.Signal{Type: protocol.SignalBye}
	if err != nil {
		sig.Code, sig.Message = domain.ErrorCode(err), domain.ErrorMessage(err)
	}
	s.signal(sig)
}

// signal queues a message for the WebSocket writer; it never blocks. Once
// the session has ended it drops the message.
func (s *session) signal(sig protocol.Signal) {
	s.sigMu.Lock()
	defer s.sigMu.Unlock()
	if s.sigClosed {
		return
	}
	select {
	case s.signals <- sig:
	default:
		s.srv.log.Warn("signaling queue full; dropping the session", "participant", s.participant)
		s.cancel()
	}
}

// closeSignals ends the queue: the writer sends what it holds and stops.
func (s *session) closeSignals() {
	s.sigMu.Lock()
	defer s.sigMu.Unlock()
	s.sigClosed = true
	close(s.signals)
}

// writeSignals is the WebSocket's one writer: queued signals and pings.
func (s *session) writeSignals() {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case sig, ok := <-s.signals:
			if !ok {
				s.ws.SetWriteDeadline(time.Now().Add(writeWait))
				s.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
				return
			}
			s.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := s.ws.WriteJSON(sig); err != nil {
				s.cancel()
				s.drain()
				return
			}
		case <-ping.C:
			if err := s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				s.cancel()
				s.drain()
				return
			}
		}
	}
}

// drain empties the signal queue after the socket failed, until run closes it.
func (s *session) drain() {
	for range s.signals {
	}
}

// readSignal reads one signal, waiting until deadline at the most.
func (s *session) readSignal(deadline time.Time) (protocol.Signal, error) {
	s.ws.SetReadDeadline(deadline)
	if s.ctx.Err() != nil { // killed before the deadline was set: kill's own deadline was overwritten
		return protocol.Signal{}, s.ctx.Err()
	}
	kind, b, err := s.ws.ReadMessage()
	if err != nil {
		return protocol.Signal{}, err
	}
	if kind != websocket.TextMessage {
		return protocol.Signal{}, domain.Errorf(domain.CodeInvalid, "signals are JSON text messages")
	}
	return protocol.DecodeSignal(b)
}

// admit reads the join message and checks its token.
func (s *session) admit() error {
	s.ws.SetReadLimit(protocol.MaxSignalBytes)
	join, err := s.readSignal(time.Now().Add(joinTimeout))
	if err != nil {
		if isInvalid(err) {
			return err
		}
		return domain.Errorf(domain.CodeInvalid, "no join message")
	}
	if join.Type != protocol.SignalJoin {
		return domain.Errorf(domain.CodeInvalid, "the first message must be a join")
	}
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
	s.signal(protocol.Signal{Type: protocol.SignalWelcome, Participant: s.participant, Role: s.role,
		Name: s.name, ResumeToken: resume, ICEServers: servers})
	return nil
}

func isInvalid(err error) bool {
	var e *domain.Error
	return errors.As(err, &e) && e.Code == domain.CodeInvalid
}

// connect creates the PeerConnection and its two negotiated data channels.
func (s *session) connect() error {
	pc, err := s.srv.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	s.pc = pc
	ordered, unordered, retries := true, false, uint16(protocol.EphemeralMaxRetries)
	negotiated := true
	eventsID, ephemeralID := uint16(protocol.EventsChannelID), uint16(protocol.EphemeralChannelID)
	if s.events, err = pc.CreateDataChannel(protocol.EventsChannel, &webrtc.DataChannelInit{
		Ordered: &ordered, Negotiated: &negotiated, ID: &eventsID}); err != nil {
		return err
	}
	if s.ephemeral, err = pc.CreateDataChannel(protocol.EphemeralChannel, &webrtc.DataChannelInit{
		Ordered: &unordered, MaxRetransmits: &retries, Negotiated: &negotiated, ID: &ephemeralID}); err != nil {
		return err
	}
	s.events.SetBufferedAmountLowThreshold(lowWater)
	s.events.OnBufferedAmountLow(func() {
		select {
		case s.low <- struct{}{}:
		default:
		}
	})
	s.events.OnOpen(func() { close(s.opened) })
	s.events.OnMessage(s.onCommand)
	s.ephemeral.OnMessage(s.onEphemeral)
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init := c.ToJSON()
		cand := protocol.ICECandidate{Candidate: init.Candidate, SDPMid: init.SDPMid,
			SDPMLineIndex: init.SDPMLineIndex, UsernameFragment: init.UsernameFragment}
		s.iceMu.Lock()
		defer s.iceMu.Unlock()
		if !s.described {
			s.localICE = append(s.localICE, cand)
			return
		}
		s.signal(protocol.Signal{Type: protocol.SignalCandidate, Candidate: &cand})
	})
	pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) {
		s.srv.log.Debug("peer connection", "participant", s.participant, "state", state.String())
		if state == webrtc.PeerConnectionStateConnected {
			// pion starts SRTP only when a negotiation brings media, or
			// when RTCP is sent, and drops what is sent before it runs:
			// start it now, so that the first packets forwarded to this
			// participant (a keyframe) are not lost.
			pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverReport{}})
		}
		if state == webrtc.PeerConnectionStateFailed {
			s.kill(domain.Errorf(domain.CodeUnavailable, "the connection failed; reconnect"))
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		// Offers are handled only after the session entered the room, so
		// the member exists: whatever the participant sends reaches the
		// stage, which forwards it only while they are on it.
		s.member.Publish(t, r)
	})
	// Offer on the session's negotiator, not here: pion calls this on the
	// goroutine that runs its operations, which an offer would wait for.
	pc.OnNegotiationNeeded(func() {
		select {
		case s.needOffer <- struct{}{}:
		default: // one is pending already
		}
	})
	return nil
}

// negotiate makes the offers pion asks for, one at a time, until the
// session ends.
func (s *session) negotiate() {
	for {
		select {
		case <-s.needOffer:
			s.offer()
		case <-s.ctx.Done():
			return
		}
	}
}

// offer starts a renegotiation from the server's side. The server is the
// impolite peer of perfect negotiation: when offers cross, the client rolls
// its own back and answers the server's.
func (s *session) offer() {
	s.negotiating.Lock()
	defer s.negotiating.Unlock()
	if s.ctx.Err() != nil || s.pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
		return
	}
	s.iceMu.Lock()
	first := !s.described
	s.iceMu.Unlock()
	if first || s.pc.SignalingState() != webrtc.SignalingStateStable {
		// The client makes the first offer (creating the data channels
		// fires this before it); pion asks again, if still needed, each
		// time the state becomes stable.
		return
	}
	offer, err := s.pc.CreateOffer(nil)
	if err != nil {
		s.srv.log.Warn("create offer", "err", err)
		return
	}
	if err := s.pc.SetLocalDescription(offer); err != nil {
		s.srv.log.Warn("set local offer", "err", err)
		return
	}
	s.srv.metrics.offer("server", "sent")
	s.describe(protocol.Signal{Type: protocol.SignalOffer, SDP: offer.SDP})
}

// describe sends an offer or answer, then any candidates gathered before it.
func (s *session) describe(sig protocol.Signal) {
	s.srv.log.Debug("description sent", "participant", s.participant, "type", sig.Type)
	s.iceMu.Lock()
	defer s.iceMu.Unlock()
	s.signal(sig)
	s.described = true
	for _, c := range s.localICE {
		s.signal(protocol.Signal{Type: protocol.SignalCandidate, Candidate: &c})
	}
	s.localICE = nil
}

// remoteDescribed adds the client's candidates that came before its description.
func (s *session) remoteDescribed() {
	s.iceMu.Lock()
	early := s.remoteEarly
	s.remoteEarly, s.remoteSet = nil, true
	s.iceMu.Unlock()
	for _, c := range early {
		if err := s.pc.AddICECandidate(c); err != nil {
			s.signal(errorSignal(domain.Errorf(domain.CodeInvalid, "the candidate was refused: %v", err)))
		}
	}
}

// readSignals handles the client's signals until the socket closes, the
// client leaves, or the session is killed.
func (s *session) readSignals() {
	s.ws.SetPongHandler(func(string) error {
		if err := s.ctx.Err(); err != nil {
			return err // ending: do not extend the read
		}
		return s.ws.SetReadDeadline(time.Now().Add(pongWait))
	})
	for s.ctx.Err() == nil {
		sig, err := s.readSignal(time.Now().Add(pongWait))
		if err != nil {
			if isInvalid(err) {
				s.signal(errorSignal(err)) // a bad message does not end the session
				continue
			}
			return
		}
		s.srv.log.Debug("signal", "participant", s.participant, "type", sig.Type)
		switch sig.Type {
		case protocol.SignalOffer:
			s.answerOffer(sig)
		case protocol.SignalAnswer:
			s.negotiating.Lock()
			err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sig.SDP})
			s.negotiating.Unlock()
			if err != nil {
				s.signal(errorSignal(domain.Errorf(domain.CodeInvalid, "the answer was refused: %v", err)))
				continue
			}
			s.remoteDescribed()
		case protocol.SignalCandidate:
			if sig.Candidate == nil {
				continue
			}
			c := webrtc.ICECandidateInit{Candidate: sig.Candidate.Candidate, SDPMid: sig.Candidate.SDPMid,
				SDPMLineIndex: sig.Candidate.SDPMLineIndex, UsernameFragment: sig.Candidate.UsernameFragment}
			s.iceMu.Lock()
			if !s.remoteSet {
				if len(s.remoteEarly) < 64 {
					s.remoteEarly = append(s.remoteEarly, c)
				}
				s.iceMu.Unlock()
				continue
			}
			s.iceMu.Unlock()
			if err := s.pc.AddICECandidate(c); err != nil {
				s.signal(errorSignal(domain.Errorf(domain.CodeInvalid, "the candidate was refused: %v", err)))
			}
		case protocol.SignalLeave:
			return
		default:
			s.signal(errorSignal(domain.Errorf(domain.CodeInvalid, "unexpected %q signal", sig.Type)))
		}
	}
}

// answerOffer answers the client's offer, unless it crossed one of ours:
// the impolite server keeps its own, and the client rolls its offer back,
// answers, and offers again.
func (s *session) answerOffer(sig protocol.Signal) {
	s.negotiating.Lock()
	defer s.negotiating.Unlock()
	if s.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		s.srv.metrics.offer("client", "collided")
		s.srv.log.Debug("offers crossed; keeping ours", "participant", s.participant)
		return
	}
	s.srv.metrics.offer("client", "answered")
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sig.SDP}); err != nil {
		s.signal(errorSignal(domain.Errorf(domain.CodeInvalid, "the offer was refused: %v", err)))
		return
	}
	answer, err := s.pc.CreateAnswer(nil)
	if err == nil {
		err = s.pc.SetLocalDescription(answer)
	}
	if err != nil {
		s.signal(errorSignal(domain.Errorf(domain.CodeInvalid, "could not answer the offer: %v", err)))
		return
	}
	s.describe(protocol.Signal{Type: protocol.SignalAnswer, SDP: answer.SDP})
	s.remoteDescribed()
}

// onCommand handles a message on the events channel.
func (s *session) onCommand(msg webrtc.DataChannelMessage) {
	s.srv.metrics.received(protocol.EventsChannel, len(msg.Data))
	id, payload, err := protocol.DecodeCommand(msg.Data)
	if err != nil {
		s.replyError(id, err)
		return
	}
	switch payload.Kind() {
	case domain.KindLessonCreated, domain.KindParticipantJoined, domain.KindParticipantLeft:
		// The server records these itself, as lessons are made and
		// sessions come and go.
		s.replyError(id, domain.Errorf(domain.CodeForbidden, "%s is recorded by the server, not sent by clients", payload.Kind()))
		return
	}
	if !s.commands.Allow() {
		s.replyError(id, domain.Errorf(domain.CodeRateLimited, "too many commands; slow down"))
		return
	}
	if err := s.room.send(s.ctx, &submit{s: s, id: id, payload: payload}); err != nil && s.ctx.Err() == nil {
		s.replyError(id, err)
	}
}

// onEphemeral relays a cursor or stroke preview to the other participants.
func (s *session) onEphemeral(msg webrtc.DataChannelMessage) {
	s.srv.metrics.received(protocol.EphemeralChannel, len(msg.Data))
	if !s.cursors.Allow() {
		return
	}
	e, err := protocol.DecodeEphemeral(msg.Data)
	if err != nil {
		return // unreliable and unanswered: a bad message is dropped
	}
	e.Actor = s.participant
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	peers := s.room.peers.Load()
	if peers == nil {
		return
	}
	for _, p := range *peers {
		if p != s && p.ephemeral.ReadyState() == webrtc.DataChannelStateOpen && p.ephemeral.BufferedAmount() < ephemeralBuffer {
			if p.ephemeral.SendText(string(b)) == nil {
				s.srv.metrics.sent(protocol.EphemeralChannel, len(b))
			}
		}
	}
}

// deliver queues a message for the events writer. A client too slow to keep
// up is dropped rather than buffered without bound; it resumes from its last
// sequence when it reconnects.
func (s *session) deliver(b []byte) {
	select {
	case s.live <- b:
	default:
		s.kill(domain.Errorf(domain.CodeUnavailable, "too far behind the lesson; reconnect to catch up"))
	}
}

func (s *session) replyAck(id uuid.UUID, seq int64) {
	b, _ := json.Marshal(protocol.Message{Type: protocol.TypeAck, ID: id, Seq: seq})
	s.deliver(b)
}

func (s *session) replyError(id uuid.UUID, err error) {
	code := domain.ErrorCode(err)
	s.srv.metrics.refuse(string(code))
	if code == domain.CodeInternal {
		s.srv.log.Error("command failed", "participant", s.participant, "err", err)
	}
	b, _ := json.Marshal(protocol.Message{Type: protocol.TypeError, ID: id, Code: code, Message: domain.ErrorMessage(err)})
	s.deliver(b)
}

// writeEvents sends the catch-up, then live messages, on the events channel,
// waiting whenever the channel's buffer is above highWater.
func (s *session) writeEvents(plan catchUp) {
	select {
	case <-s.opened:
	case <-s.ctx.Done():
		return
	}
	s.srv.log.Debug("events channel open", "participant", s.participant)
	if err := s.sendCatchUp(plan); err != nil {
		if s.ctx.Err() == nil {
			s.srv.log.Warn("catch-up failed", "participant", s.participant, "err", err)
			s.kill(domain.Errorf(domain.CodeUnavailable, "could not send the lesson's history; reconnect"))
		}
		return
	}
	for {
		select {
		case b := <-s.live:
			if err := s.sendEvents(b); err != nil {
				return
			}
		case <-s.ctx.Done():
			return
		}
	}
}

func (s *session) sendEvents(b []byte) error { return s.send(b, true) }

// send sends one message on the events channel, as text or binary.
func (s *session) send(b []byte, text bool) error {
	for s.events.BufferedAmount() > highWater {
		select {
		case <-s.low:
		case <-time.After(time.Second): // in case the low mark fired before we waited
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
	}
	var err error
	if text {
		err = s.events.SendText(string(b))
	} else {
		err = s.events.Send(b)
	}
	if err != nil {
		s.kill(domain.Errorf(domain.CodeUnavailable, "the events channel failed; reconnect"))
		return err
	}
	s.srv.metrics.sent(protocol.EventsChannel, len(b))
	return nil
}

func (s *session) sendCatchUp(plan catchUp) error {
	if plan.snapshot != nil {
		// A header, then the state's JSON as it is, in binary parts: no
		// escaping into strings, and the client parses it once.
		parts := chunks(plan.snapshot, protocol.MaxChunkBytes)
		b, err := json.Marshal(protocol.Message{Type: protocol.TypeSnapshot, Seq: plan.from,
			Parts: len(parts), Size: len(plan.snapshot)})
		if err != nil {
			return err
		}
		if err := s.sendEvents(b); err != nil {
			return err
		}
		for _, part := range parts {
			if err := s.send(part, false); err != nil {
				return err
			}
		}
	}
	if plan.seq > plan.from {
		var batch []domain.Event
		var err error
		for e, readErr := range s.srv.cfg.Store.Events(s.ctx, s.lesson, plan.from) {
			if readErr != nil {
				return readErr
			}
			if e.Seq > plan.seq {
				break
			}
			if batch = append(batch, e); len(batch) == 500 {
				if err = s.sendBatch(batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		if err = s.sendBatch(batch); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(protocol.Message{Type: protocol.TypeLive, Seq: plan.seq})
	return s.sendEvents(b)
}

func (s *session) sendBatch(events []domain.Event) error {
	for _, b := range encodeEvents(events, s.srv.log) {
		if err := s.sendEvents(b); err != nil {
			return err
		}
	}
	return nil
}

// chunks cuts b into pieces of at most n bytes.
func chunks(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return append(out, b)
}

func snapshotOf(lesson uuid.UUID, seq int64, state []byte) eventstore.Snapshot {
	return eventstore.Snapshot{Lesson: lesson, Seq: seq, State: state}
}
