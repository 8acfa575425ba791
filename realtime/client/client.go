// Package client is a Go participant of a live lesson: it joins over the
// signaling WebSocket, connects its PeerConnection and data channels, sends
// commands and keeps a local copy of the lesson's state by applying every
// committed event with domain.Apply. Tests and the load tool use it; it is
// also the reference for writing a client in another language.
//
// A Client resumes after a dropped connection from the last sequence it
// has, and resends the commands it has not seen acknowledged.
package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/realtime/protocol"
)

// Options configures a Client.
type Options struct {
	// URL is the lesson's signaling endpoint, ws(s)://host/api/lessons/{id}/ws.
	URL string
	// Token admits the client: a link's token, or a resume token.
	Token string
	// Name is the display name, when the token does not carry one.
	Name string
	// Header is sent with the WebSocket handshake (an Origin, say).
	Header http.Header
	// TLS configures wss:// connections; nil means the system's roots.
	TLS *tls.Config
	// Loopback lets the PeerConnection use loopback addresses (tests).
	Loopback bool
	// OnEvent, when set, is called with every event the client applies, in
	// sequence order, from the client's receiving goroutine.
	OnEvent func(domain.Event)
	// OnEphemeral, when set, is called with every relayed ephemeral message.
	OnEphemeral func(protocol.Ephemeral)
	// OnTrack, when set, is called with every media track the server
	// forwards to this client (its stream id is the publisher's participant
	// id); it must read the track until it ends. Unset, tracks are read and
	// discarded.
	OnTrack func(*webrtc.TrackRemote, *webrtc.RTPReceiver)
	// RelayOnly makes the connection use TURN relays only, as a client
	// behind a strict firewall would.
	RelayOnly bool
	// Net, when set, is the network the PeerConnection's ICE agent opens
	// its sockets on (pion's transport.Net): a virtual network, or a
	// wrapper that watches the datagrams (cmd/mediaload). Unset, the
	// operating system's.
	Net transport.Net
}

// Client is one participant in a live lesson.
type Client struct {
	opts Options
	api  *webrtc.API

	mu          sync.Mutex
	state       *domain.State
	participant string
	role        domain.Role
	resume      string
	waiters     map[uuid.UUID]chan result
	unacked     []command // in the order sent
	snapshot    []byte    // the parts of a snapshot received so far
	snapWant    int       // its size; 0 when none is expected
	snapSeq     int64
	live        chan struct{} // closed when the catch-up is complete
	failure     error         // a protocol violation seen, such as a gap
	bye         *protocol.Signal

	conn *conn // the current connection
}

type command struct {
	id      uuid.UUID
	payload domain.Payload
}

type result struct {
	seq int64
	err error
}

// conn is one connection: a WebSocket and a PeerConnection.
type conn struct {
	ws        *websocket.Conn
	wsMu      sync.Mutex
	described bool                    // our offer has been sent; guarded by wsMu
	early     []protocol.ICECandidate // candidates gathered before it; guarded by wsMu
	pc        *webrtc.PeerConnection
	events    *webrtc.DataChannel
	ephemeral *webrtc.DataChannel
	done      chan struct{} // closed when the WebSocket reader ends
	negotiate sync.Mutex    // one offer at a time
}

// Dial joins a lesson and returns once the client has caught up with it.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	var se webrtc.SettingEngine
	se.SetSCTPMaxMessageSize(256 << 10)
	se.SetSCTPRTOMax(2 * time.Second) // as the server (media.SCTPRTOMax): resend lost events within seconds
	// pion's default receive window (1 MiB) halves the rate a late
	// joiner's history arrives at on a fast link; browsers' is larger.
	se.SetSCTPMaxReceiveBufferSize(8 << 20)
	if opts.Loopback {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		se.SetIncludeLoopbackCandidate(true)
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	if opts.Net != nil {
		se.SetNet(opts.Net)
	}
	c := &Client{opts: opts, api: webrtc.NewAPI(webrtc.WithSettingEngine(se)), state: domain.NewState(),
		waiters: map[uuid.UUID]chan result{}}
	if err := c.connect(ctx, opts.Token); err != nil {
		return nil, err
	}
	return c, nil
}

// Participant returns the participant id the server gave this client.
func (c *Client) Participant() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.participant
}

// ResumeToken returns the token that admits this participant again.
func (c *Client) ResumeToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resume
}

// Seq returns the sequence of the last event applied.
func (c *Client) Seq() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state.Seq
}

// Hash returns the hash of the client's copy of the lesson state.
func (c *Client) Hash() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state.Hash()
}

// State returns a copy of the client's lesson state.
func (c *Client) State() *domain.State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state.Clone()
}

// Err returns the first protocol violation the client saw (a gap or a
// duplicate in the event stream, a malformed message), or nil.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failure
}

// Ended returns a channel closed when the current session's signaling
// connection ends: the server said bye, or the connection was lost (the
// server was killed). Then Resume reconnects and resends the commands not
// answered. With no session (after Drop), the channel is closed already.
func (c *Client) Ended() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		closed := make(chan struct{})
		close(closed)
		return closed
	}
	return c.conn.done
}

// Bye returns the server's farewell, once the server has ended the session.
func (c *Client) Bye() *protocol.Signal {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bye
}

func (c *Client) connect(ctx context.Context, tok string) error {
	dialer := *websocket.DefaultDialer
	dialer.TLSClientConfig = c.opts.TLS
	ws, resp, err := dialer.DialContext(ctx, c.opts.URL, c.opts.Header)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("dial %s: %w (HTTP %d)", c.opts.URL, err, resp.StatusCode)
		}
		return fmt.Errorf("dial %s: %w", c.opts.URL, err)
	}
	cn := &conn{ws: ws, done: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			cn.close()
		}
	}()
	c.mu.Lock()
	after := c.state.Seq
	c.live = make(chan struct{})
	c.snapshot = nil
	c.mu.Unlock()
	if err := cn.send(protocol.Signal{Type: protocol.SignalJoin, Token: tok, Name: c.opts.Name, LastSeq: after}); err != nil {
		// A server that refused us may already have said why and closed:
		// its reason is worth more than the broken pipe.
		ws.SetReadDeadline(time.Now().Add(time.Second))
		if sig, rerr := readSignal(ws); rerr == nil && sig.Type == protocol.SignalError {
			return &domain.Error{Code: sig.Code, Message: sig.Message}
		}
		return err
	}
	if d, ok := ctx.Deadline(); ok {
		ws.SetReadDeadline(d)
	}
	welcome, err := readSignal(ws)
	if err != nil {
		return err
	}
	ws.SetReadDeadline(time.Time{})
	if welcome.Type == protocol.SignalError {
		return &domain.Error{Code: welcome.Code, Message: welcome.Message}
	}
	if welcome.Type != protocol.SignalWelcome {
		return fmt.Errorf("expected a welcome, got %q", welcome.Type)
	}
	c.mu.Lock()
	c.participant, c.role, c.resume = welcome.Participant, welcome.Role, welcome.ResumeToken
	c.mu.Unlock()

	var servers []webrtc.ICEServer
	for _, s := range welcome.ICEServers {
		servers = append(servers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	config := webrtc.Configuration{ICEServers: servers}
	if c.opts.RelayOnly {
		config.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	if cn.pc, err = c.api.NewPeerConnection(config); err != nil {
		return err
	}
	cn.pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		if c.opts.OnTrack != nil {
			c.opts.OnTrack(t, r)
			return
		}
		buf := make([]byte, 1500)
		for {
			if _, _, err := t.Read(buf); err != nil {
				return
			}
		}
	})
	cn.pc.OnNegotiationNeeded(func() { cn.offer() })
	ordered, unordered, retries, negotiated := true, false, uint16(protocol.EphemeralMaxRetries), true
	eventsID, ephemeralID := uint16(protocol.EventsChannelID), uint16(protocol.EphemeralChannelID)
	if cn.events, err = cn.pc.CreateDataChannel(protocol.EventsChannel, &webrtc.DataChannelInit{
		Ordered: &ordered, Negotiated: &negotiated, ID: &eventsID}); err != nil {
		return err
	}
	if cn.ephemeral, err = cn.pc.CreateDataChannel(protocol.EphemeralChannel, &webrtc.DataChannelInit{
		Ordered: &unordered, MaxRetransmits: &retries, Negotiated: &negotiated, ID: &ephemeralID}); err != nil {
		return err
	}
	cn.events.OnMessage(func(m webrtc.DataChannelMessage) {
		if m.IsString {
			c.onMessage(m.Data)
		} else {
			c.onSnapshotPart(m.Data)
		}
	})
	cn.ephemeral.OnMessage(func(m webrtc.DataChannelMessage) {
		if c.opts.OnEphemeral == nil {
			return
		}
		var e protocol.Ephemeral
		if json.Unmarshal(m.Data, &e) == nil {
			c.opts.OnEphemeral(e)
		}
	})
	opened := make(chan struct{})
	cn.events.OnOpen(func() { close(opened) })
	cn.pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		init := cand.ToJSON()
		ic := protocol.ICECandidate{Candidate: init.Candidate, SDPMid: init.SDPMid,
			SDPMLineIndex: init.SDPMLineIndex, UsernameFragment: init.UsernameFragment}
		cn.wsMu.Lock()
		if !cn.described { // a candidate must not overtake the offer it belongs to
			cn.early = append(cn.early, ic)
			cn.wsMu.Unlock()
			return
		}
		cn.wsMu.Unlock()
		cn.send(protocol.Signal{Type: protocol.SignalCandidate, Candidate: &ic})
	})
	offer, err := cn.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := cn.pc.SetLocalDescription(offer); err != nil {
		return err
	}
	if err := cn.describe(protocol.Signal{Type: protocol.SignalOffer, SDP: offer.SDP}); err != nil {
		return err
	}
	go c.readSignals(cn)

	select {
	case <-opened:
	case <-cn.done:
		return c.ended("before the connection opened")
	case <-ctx.Done():
		return ctx.Err()
	}
	// pion starts SRTP only once a negotiation brings media, or when RTCP
	// is first sent; media the server forwards before then is dropped.
	// Start it now, so that the first packets of a track (its keyframe)
	// are not lost.
	cn.pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverReport{}})
	c.mu.Lock()
	c.conn = cn
	live := c.live
	resend := append([]command(nil), c.unacked...)
	c.mu.Unlock()
	ok = true
	// Commands never acknowledged go again; their ids make this harmless.
	for _, cmd := range resend {
		if err := c.transmit(cn, cmd); err != nil {
			return err
		}
	}
	select {
	case <-live:
		return nil
	case <-cn.done:
		return c.ended("before catching up")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) ended(when string) error {
	if bye := c.Bye(); bye != nil && bye.Code != "" {
		return &domain.Error{Code: bye.Code, Message: bye.Message}
	}
	return fmt.Errorf("the server closed the session %s", when)
}

func readSignal(ws *websocket.Conn) (protocol.Signal, error) {
	_, b, err := ws.ReadMessage()
	if err != nil {
		return protocol.Signal{}, err
	}
	return protocol.DecodeSignal(b)
}

func (cn *conn) send(s protocol.Signal) error {
	cn.wsMu.Lock()
	defer cn.wsMu.Unlock()
	cn.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return cn.ws.WriteJSON(s)
}

// describe sends an offer or answer, then the candidates gathered before it.
func (cn *conn) describe(s protocol.Signal) error {
	cn.wsMu.Lock()
	defer cn.wsMu.Unlock()
	cn.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := cn.ws.WriteJSON(s); err != nil {
		return err
	}
	cn.described = true
	for _, c := range cn.early {
		if err := cn.ws.WriteJSON(protocol.Signal{Type: protocol.SignalCandidate, Candidate: &c}); err != nil {
			return err
		}
	}
	cn.early = nil
	return nil
}

func (cn *conn) close() {
	if cn.pc != nil {
		cn.pc.Close()
	}
	cn.ws.Close()
}

// readSignals handles the server's signals. The client is the polite peer of
// perfect negotiation: an offer that crosses its own rolls its own back.
func (c *Client) readSignals(cn *conn) {
	defer close(cn.done)
	for {
		sig, err := readSignal(cn.ws)
		if err != nil {
			return
		}
		switch sig.Type {
		case protocol.SignalAnswer:
			if err := cn.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sig.SDP}); err != nil {
				c.fail(fmt.Errorf("the server's answer: %w", err))
			}
		case protocol.SignalOffer:
			if cn.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
				// The polite peer rolls its offer back. pion (v4.2) refuses
				// rollback from have-local-offer, so this fails and the
				// collision is reported through Err; a browser rolls back.
				rollback := webrtc.SessionDescription{Type: webrtc.SDPTypeRollback, SDP: cn.pc.LocalDescription().SDP}
				if err := cn.pc.SetLocalDescription(rollback); err != nil {
					c.fail(fmt.Errorf("roll back an offer that crossed the server's: %w", err))
					continue
				}
			}
			if err := cn.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sig.SDP}); err != nil {
				c.fail(fmt.Errorf("the server's offer: %w", err))
				continue
			}
			answer, err := cn.pc.CreateAnswer(nil)
			if err == nil {
				err = cn.pc.SetLocalDescription(answer)
			}
			if err == nil {
				cn.describe(protocol.Signal{Type: protocol.SignalAnswer, SDP: answer.SDP})
			}
		case protocol.SignalCandidate:
			if sig.Candidate != nil {
				cn.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: sig.Candidate.Candidate,
					SDPMid: sig.Candidate.SDPMid, SDPMLineIndex: sig.Candidate.SDPMLineIndex,
					UsernameFragment: sig.Candidate.UsernameFragment})
			}
		case protocol.SignalBye:
			c.mu.Lock()
			c.bye = &sig
			c.mu.Unlock()
			return
		case protocol.SignalError:
			c.mu.Lock()
			if c.bye == nil {
				c.bye = &sig
			}
			c.mu.Unlock()
		}
	}
}

// onMessage handles a message on the events channel.
func (c *Client) onMessage(b []byte) {
	var m protocol.Message
	if err := json.Unmarshal(b, &m); err != nil {
		c.fail(fmt.Errorf("malformed message: %w", err))
		return
	}
	switch m.Type {
	case protocol.TypeSnapshot:
		c.mu.Lock()
		c.snapshot, c.snapWant, c.snapSeq = make([]byte, 0, m.Size), m.Size, m.Seq
		c.mu.Unlock()
	case protocol.TypeEvents:
		for _, raw := range m.Events {
			var e domain.Event
			if err := json.Unmarshal(raw, &e); err != nil {
				c.fail(fmt.Errorf("malformed event: %w", err))
				return
			}
			c.mu.Lock()
			switch {
			case e.Seq <= c.state.Seq:
				c.failure = fmt.Errorf("event %d received again (have %d)", e.Seq, c.state.Seq)
				c.mu.Unlock()
				continue
			case e.Seq != c.state.Seq+1:
				c.failure = fmt.Errorf("gap: event %d after %d", e.Seq, c.state.Seq)
			}
			c.state.Apply(e)
			c.mu.Unlock()
			if c.opts.OnEvent != nil {
				c.opts.OnEvent(e)
			}
		}
	case protocol.TypeLive:
		c.mu.Lock()
		if c.state.Seq != m.Seq {
			c.failure = fmt.Errorf("live at %d, but the state is at %d", m.Seq, c.state.Seq)
		}
		select {
		case <-c.live:
		default:
			close(c.live)
		}
		c.mu.Unlock()
	case protocol.TypeAck:
		c.settle(m.ID, result{seq: m.Seq})
	case protocol.TypeError:
		c.settle(m.ID, result{err: &domain.Error{Code: m.Code, Message: m.Message}})
	default:
		c.fail(fmt.Errorf("unknown message type %q", m.Type))
	}
}

// onSnapshotPart collects the binary parts of a snapshot and restores the
// state from them once all have come.
func (c *Client) onSnapshotPart(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snapWant == 0 {
		c.failure = fmt.Errorf("a binary message without a snapshot header")
		return
	}
	c.snapshot = append(c.snapshot, b...)
	if len(c.snapshot) < c.snapWant {
		return
	}
	st, err := domain.RestoreSnapshot(c.snapshot)
	switch {
	case len(c.snapshot) > c.snapWant:
		c.failure = fmt.Errorf("snapshot of %d bytes, %d announced", len(c.snapshot), c.snapWant)
	case err != nil:
		c.failure = err
	case st.Seq != c.snapSeq:
		c.failure = fmt.Errorf("snapshot says seq %d, its state %d", c.snapSeq, st.Seq)
	default:
		c.state = st
	}
	c.snapshot, c.snapWant = nil, 0
}

func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.failure == nil {
		c.failure = err
	}
	c.mu.Unlock()
}

func (c *Client) settle(id uuid.UUID, r result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, cmd := range c.unacked {
		if cmd.id == id {
			c.unacked = append(c.unacked[:i], c.unacked[i+1:]...)
			break
		}
	}
	if w, ok := c.waiters[id]; ok {
		delete(c.waiters, id)
		w <- r
	}
}

// Send sends a command and waits for its acknowledgement: the sequence of
// the event it became, or the server's refusal as a *domain.Error.
func (c *Client) Send(ctx context.Context, p domain.Payload) (int64, error) {
	return c.SendID(ctx, uuid.New(), p)
}

// SendID is Send with the command's id chosen by the caller. While the
// client is disconnected the command waits, and Resume sends it.
func (c *Client) SendID(ctx context.Context, id uuid.UUID, p domain.Payload) (int64, error) {
	w := make(chan result, 1)
	cmd := command{id: id, payload: p}
	c.mu.Lock()
	c.waiters[id] = w
	c.unacked = append(c.unacked, cmd)
	cn := c.conn
	c.mu.Unlock()
	if cn != nil {
		// If this fails, the connection is going down: the command stays
		// unacknowledged and Resume sends it again.
		c.transmit(cn, cmd)
	}
	select {
	case r := <-w:
		return r.seq, r.err
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.waiters, id)
		for i, u := range c.unacked {
			if u.id == id {
				c.unacked = append(c.unacked[:i], c.unacked[i+1:]...)
				break
			}
		}
		c.mu.Unlock()
		return 0, ctx.Err()
	}
}

// SendRaw sends bytes as they are on the events channel: for tests of the
// server's handling of malformed messages.
func (c *Client) SendRaw(b []byte) error {
	c.mu.Lock()
	cn := c.conn
	c.mu.Unlock()
	return cn.events.SendText(string(b))
}

// SendEphemeral sends a cursor or preview on the ephemeral channel.
func (c *Client) SendEphemeral(e protocol.Ephemeral) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	c.mu.Lock()
	cn := c.conn
	c.mu.Unlock()
	return cn.ephemeral.SendText(string(b))
}

func (c *Client) transmit(cn *conn, cmd command) error {
	data, err := json.Marshal(cmd.payload)
	if err != nil {
		return err
	}
	b, err := json.Marshal(protocol.Message{Type: protocol.TypeCommand, ID: cmd.id, Kind: cmd.payload.Kind(), Data: data})
	if err != nil {
		return err
	}
	if cn == nil {
		return errors.New("not connected")
	}
	return cn.events.SendText(string(b))
}

// AddTrack sends a media track to the server, renegotiating the connection.
// The caller reads the returned sender's RTCP (keyframe requests arrive
// there). Tracks are not sent again after Resume.
func (c *Client) AddTrack(t webrtc.TrackLocal) (*webrtc.RTPSender, error) {
	c.mu.Lock()
	cn := c.conn
	c.mu.Unlock()
	if cn == nil {
		return nil, errors.New("not connected")
	}
	// A transceiver of its own: pion would otherwise reuse one of the
	// receiving ones and start sending before the server knows the stream.
	tr, err := cn.pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return nil, err
	}
	return tr.Sender(), nil
}

// RemoveTrack stops sending a track added with AddTrack.
func (c *Client) RemoveTrack(sender *webrtc.RTPSender) error {
	c.mu.Lock()
	cn := c.conn
	c.mu.Unlock()
	if cn == nil {
		return errors.New("not connected")
	}
	return cn.pc.RemoveTrack(sender)
}

// ConnectionState returns the state of the current PeerConnection.
func (c *Client) ConnectionState() webrtc.PeerConnectionState {
	c.mu.Lock()
	cn := c.conn
	c.mu.Unlock()
	if cn == nil {
		return webrtc.PeerConnectionStateClosed
	}
	return cn.pc.ConnectionState()
}

// PeerConnection returns the current PeerConnection, for inspecting it
// (stats, the selected candidate pair).
func (c *Client) PeerConnection() *webrtc.PeerConnection {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	return c.conn.pc
}

// offer renegotiates from the client's side, once the first offer is out
// and the connection is stable. When the server's offer crosses it, the
// server wins (readSignals rolls this one back) and pion asks again once
// the server's offer is answered.
func (cn *conn) offer() {
	cn.negotiate.Lock()
	defer cn.negotiate.Unlock()
	cn.wsMu.Lock()
	first := !cn.described
	cn.wsMu.Unlock()
	if first || cn.pc.SignalingState() != webrtc.SignalingStateStable {
		return
	}
	offer, err := cn.pc.CreateOffer(nil)
	if err != nil {
		return
	}
	if err := cn.pc.SetLocalDescription(offer); err != nil {
		return
	}
	cn.describe(protocol.Signal{Type: protocol.SignalOffer, SDP: offer.SDP})
}

// Drop cuts the connection without leaving, as a lost network would.
func (c *Client) Drop() {
	c.mu.Lock()
	cn := c.conn
	c.conn = nil
	c.mu.Unlock()
	if cn != nil {
		cn.close()
		<-cn.done
	}
}

// Resume reconnects after Drop (or a lost connection) with the client's own
// token, from the last sequence it has, and resends what was not acknowledged.
func (c *Client) Resume(ctx context.Context) error {
	c.Drop()
	c.mu.Lock()
	c.bye = nil
	tok := c.resume
	c.mu.Unlock()
	return c.connect(ctx, tok)
}

// Close leaves the lesson and releases the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	cn := c.conn
	c.conn = nil
	c.mu.Unlock()
	if cn == nil {
		return nil
	}
	cn.send(protocol.Signal{Type: protocol.SignalLeave})
	select {
	case <-cn.done: // the server closes the socket once the leave is stored
	case <-time.After(5 * time.Second):
	}
	cn.close()
	<-cn.done
	return nil
}
