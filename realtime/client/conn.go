package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/realtime/peer"
	"classroom/realtime/protocol"
)

// conn is one connection: a WebSocket and a PeerConnection.
type conn struct {
	ws        *websocket.Conn
	wsMu      sync.Mutex   // one writer at a time
	trickle   peer.Trickle // our candidates wait for our first offer
	pc        *webrtc.PeerConnection
	events    *webrtc.DataChannel
	ephemeral *webrtc.DataChannel
	opened    chan struct{} // closed when the events channel opens
	done      chan struct{} // closed when the WebSocket reader ends
	negotiate sync.Mutex    // one offer at a time

	// theirs is set from when an offer of the server's is read until it is
	// answered: the client makes no offer of its own meanwhile (see offer);
	// deferred records that it did not make one it was asked for. Both
	// are guarded by negotiate.
	theirs, deferred bool

	iceStarted chan struct{} // closed when the ICE connection state leaves new
	iceOnce    sync.Once
}

// iceStartWait bounds how long the server's offer waits for the ICE
// transport to start (see conn.waitICE); pion starts it as soon as its
// goroutine runs, so the bound is only for a connection that never will.
const iceStartWait = 5 * time.Second

// connect joins with tok on a new connection, from the last sequence the
// client has, and returns once it has caught up; commands not yet
// acknowledged are sent again on it.
func (c *Client) connect(ctx context.Context, tok string) error {
	first := c.URL()
	for hop := 0; ; hop++ {
		err := c.connectTo(ctx, tok)
		var r *redirect
		var next string
		switch {
		case errors.As(err, &r):
			next = r.url
		case errors.As(err, new(*dialError)) && c.URL() != first:
			// The node a full one sent us to is gone (it may stay listed
			// for seconds after it died): ask the first one again.
			next = first
		}
		if next == "" || hop == maxRedirects {
			return err
		}
		// The loads a full node goes by may be a heartbeat old, so a
		// further hop waits a little longer.
		c.mu.Lock()
		c.opts.URL = next
		c.mu.Unlock()
		select {
		case <-time.After(time.Duration(hop) * redirectPause):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// maxRedirects bounds how many full nodes in a row one join follows;
// redirectPause is the wait before the second, twice it before the third...
const (
	maxRedirects  = 5
	redirectPause = 200 * time.Millisecond
)

// redirect is a full node's refusal, naming the signaling URL of a node
// with room.
type redirect struct {
	url string
	err *domain.Error
}

func (r *redirect) Error() string { return r.err.Error() + " (sent to " + r.url + ")" }
func (r *redirect) Unwrap() error { return r.err }

// refused is the server's error signal as an error: a *redirect when it
// names a node to join through instead, a *domain.Error otherwise.
func refused(sig protocol.Signal) error {
	if sig.Reason == domain.ReasonNodeFull && sig.Redirect != "" {
		return &redirect{url: sig.Redirect, err: refusal(sig)}
	}
	return refusal(sig)
}

// dialError is a signaling URL that could not be reached at all.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// connectTo is connect on the client's URL, once.
func (c *Client) connectTo(ctx context.Context, tok string) error {
	cn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			cn.close()
		}
	}()
	c.mu.Lock()
	after := c.state.Seq
	c.live = make(chan struct{})
	c.snapshot, c.snapWant, c.snapSeq = nil, 0, 0 // a snapshot cut off with the last connection is dropped
	c.mu.Unlock()
	welcome, err := c.join(ctx, cn, tok, after)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.participant, c.role, c.resume = welcome.Participant, welcome.Role, welcome.ResumeToken
	c.mu.Unlock()
	if err := c.open(cn, welcome.ICEServers); err != nil {
		// The room may have refused us after the welcome (an ended lesson)
		// and closed the socket while we sent the offer.
		return refusedInstead(cn.ws, err)
	}
	go c.readSignals(cn)

	select {
	case <-cn.opened:
	case <-cn.done:
		return c.ended("before the connection opened")
	case <-ctx.Done():
		return ctx.Err()
	}
	// So that the first packets of a track the server forwards (its
	// keyframe) are not lost.
	peer.StartSRTP(cn.pc)
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

// dial opens the signaling WebSocket.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	dialer := *websocket.DefaultDialer
	dialer.TLSClientConfig = c.opts.TLS
	ws, resp, err := dialer.DialContext(ctx, c.opts.URL, c.opts.Header)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: %w (HTTP %d)", c.opts.URL, err, resp.StatusCode)
		}
		return nil, &dialError{fmt.Errorf("dial %s: %w", c.opts.URL, err)}
	}
	return &conn{ws: ws, opened: make(chan struct{}), done: make(chan struct{}), iceStarted: make(chan struct{})}, nil
}

// version is the protocol version the client says it speaks.
func (c *Client) version() int {
	if c.opts.Version == 0 {
		return protocol.Version
	}
	return c.opts.Version
}

// join sends the join and reads the server's welcome, or its refusal as a
// *domain.Error.
func (c *Client) join(ctx context.Context, cn *conn, tok string, after int64) (protocol.Signal, error) {
	ws := cn.ws
	version := c.version()
	join := protocol.Signal{Type: protocol.SignalJoin, Version: version, Token: tok, Name: c.opts.Name, LastSeq: after}
	if err := cn.send(join); err != nil {
		return protocol.Signal{}, refusedInstead(ws, err)
	}
	if d, ok := ctx.Deadline(); ok {
		ws.SetReadDeadline(d)
	}
	welcome, err := readSignal(ws)
	if err != nil {
		return protocol.Signal{}, err
	}
	ws.SetReadDeadline(time.Time{})
	if welcome.Type == protocol.SignalError {
		return protocol.Signal{}, refused(welcome)
	}
	if welcome.Type != protocol.SignalWelcome {
		return protocol.Signal{}, fmt.Errorf("expected a welcome, got %q", welcome.Type)
	}
	return welcome, nil
}

// open creates the connection's PeerConnection with the welcome's ICE
// servers and its two data channels, and sends the first offer.
func (c *Client) open(cn *conn, iceServers []protocol.ICEServer) error {
	var servers []webrtc.ICEServer
	for _, s := range iceServers {
		servers = append(servers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	config := webrtc.Configuration{ICEServers: servers}
	if c.opts.RelayOnly {
		config.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	var err error
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
	cn.pc.OnNegotiationNeeded(func() { cn.offer() }) // no one to tell: a failed offer leaves the change unnegotiated
	if cn.events, cn.ephemeral, err = peer.Channels(cn.pc); err != nil {
		return err
	}
	cn.events.OnMessage(func(m webrtc.DataChannelMessage) {
		if m.IsString {
			c.onMessage(m.Data)
		} else {
			c.onBinary(m.Data)
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
	cn.events.OnOpen(func() { close(cn.opened) })
	cn.pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		if s != webrtc.ICEConnectionStateNew {
			cn.iceOnce.Do(func() { close(cn.iceStarted) })
		}
	})
	cn.pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil { // a candidate must not overtake the offer it belongs to
			cn.trickle.Gathered(cand, cn.send)
		}
	})
	offer, err := cn.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := cn.pc.SetLocalDescription(offer); err != nil {
		return err
	}
	return cn.describe(protocol.Signal{Type: protocol.SignalOffer, SDP: offer.SDP})
}

func (c *Client) ended(when string) error {
	if bye := c.Bye(); bye != nil && bye.Code != "" {
		return refusal(*bye)
	}
	return fmt.Errorf("the server closed the session %s", when)
}

// refusal is the server's error or bye signal as a *domain.Error.
func refusal(sig protocol.Signal) *domain.Error {
	return &domain.Error{Code: sig.Code, Reason: sig.Reason, Message: sig.Message}
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
func (cn *conn) describe(s protocol.Signal) error { return cn.trickle.Describe(s, cn.send) }

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
			c.answerOffer(cn, sig)
		case protocol.SignalCandidate:
			if sig.Candidate != nil {
				cn.pc.AddICECandidate(peer.CandidateInit(*sig.Candidate))
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
		case protocol.SignalMedia:
			if c.opts.OnSignal != nil {
				c.opts.OnSignal(sig)
			}
		}
	}
}

// answerOffer sets an offer of the server's and answers it. From when it
// is read until it is answered the client makes no offer of its own: pion
// may ask for one meanwhile (its negotiationneeded fires on a goroutine of
// its own, while the offer waits in waitICE, say), and that offer would
// cross the server's, which the server, the impolite peer, ignores, and
// which pion (v4.2) cannot roll back: neither offer would ever be
// answered, and the tracks the server offered never come. An offer asked
// for meanwhile is made once the server's is answered, if the client
// still has something to negotiate (see offer).
func (c *Client) answerOffer(cn *conn, sig protocol.Signal) {
	cn.negotiate.Lock()
	cn.theirs = true
	cn.negotiate.Unlock()
	defer func() {
		cn.negotiate.Lock()
		deferred := cn.deferred
		cn.theirs, cn.deferred = false, false
		cn.negotiate.Unlock()
		if deferred {
			cn.offer()
		}
	}()
	cn.waitICE()
	if cn.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		// The polite peer rolls its offer back. pion (v4.2) refuses
		// rollback from have-local-offer, so this fails and the
		// collision is reported through Err; a browser rolls back.
		// Only an offer of the client's already sent when the server's
		// was read can cross it, and the client offers only what it has
		// to negotiate (a track added or removed), so a receive-only
		// client, offering nothing after its first, should not get here.
		rollback := webrtc.SessionDescription{Type: webrtc.SDPTypeRollback, SDP: cn.pc.LocalDescription().SDP}
		if err := cn.pc.SetLocalDescription(rollback); err != nil {
			c.fail(fmt.Errorf("roll back an offer that crossed the server's: %w", err))
			return
		}
	}
	if err := cn.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sig.SDP}); err != nil {
		c.fail(fmt.Errorf("the server's offer: %w", err))
		return
	}
	answer, err := cn.pc.CreateAnswer(nil)
	if err == nil {
		err = cn.pc.SetLocalDescription(answer)
	}
	if err == nil {
		cn.describe(protocol.Signal{Type: protocol.SignalAnswer, SDP: answer.SDP})
	}
}

// waitICE waits, up to iceStartWait, until the ICE transport has started,
// before an offer of the server's is set. The server offers the stage's
// tracks right after its answer to the first offer (docs/protocol.md,
// section 2.2), and the two may be read together; but pion (v4.2) starts
// the ICE transport that answer brings on a goroutine of its own, and takes
// an offer set before it has, whose ICE credentials it compares with none
// yet, for an ICE restart: new credentials, the candidates the two sides
// had exchanged thrown away, gathering anew (a student behind a firewall
// whose join did that did not connect in 30 s). The transport has the
// credentials before its state leaves new.
func (cn *conn) waitICE() {
	select {
	case <-cn.iceStarted:
	case <-time.After(iceStartWait):
	}
}

// offer renegotiates from the client's side, when pion asks (its
// negotiationneeded): once the first offer is out, the connection is
// stable, no offer of the server's is being answered, and the client has
// something of its own to negotiate (unnegotiated). pion's asking is not
// enough: the event follows a check pion made earlier, and by the time
// this runs the check may no longer hold. The check made before the first
// offer (nothing negotiated yet, so negotiation needed) can be acted on
// after the server has answered that offer; a receive-only client then
// offered nothing new, and that offer could cross the stage's offer the
// server sends right after its answer (the likely cause of one failure
// seen in CI). When the server's offer crosses one of the
// client's, the server wins (answerOffer tries to roll this one back,
// which pion cannot), and the client fails through Err: a client that
// sends tracks can still meet that. AddTrack and RemoveTrack call offer
// themselves: once the client has declined an event of pion's whose check
// pion still holds true, pion keeps its flag set and does not ask again
// until the next negotiation completes. offer returns an error only when
// an offer it made could not be set or sent.
func (cn *conn) offer() error {
	cn.negotiate.Lock()
	defer cn.negotiate.Unlock()
	if cn.theirs {
		cn.deferred = true // made once the server's offer is answered, if still needed
		return nil
	}
	if !cn.trickle.Described() || cn.pc.SignalingState() != webrtc.SignalingStateStable || !unnegotiated(cn.pc) {
		return nil
	}
	offer, err := cn.pc.CreateOffer(nil)
	if err == nil {
		err = cn.pc.SetLocalDescription(offer)
	}
	if err == nil {
		err = cn.describe(protocol.Signal{Type: protocol.SignalOffer, SDP: offer.SDP})
	}
	if err != nil {
		return fmt.Errorf("offer: %w", err)
	}
	return nil
}

// refusedInstead returns the refusal the server sent before it closed the
// socket, which says why a write failed better than the broken pipe does;
// err when it sent none within a second. It reads the socket, so it is for
// before the signal reader starts.
func refusedInstead(ws *websocket.Conn, err error) error {
	ws.SetReadDeadline(time.Now().Add(time.Second))
	for {
		sig, rerr := readSignal(ws)
		if rerr != nil {
			return err
		}
		if sig.Type == protocol.SignalError {
			return refused(sig)
		}
	}
}
