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
	"github.com/pion/ice/v4"
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
	// sequence order, from the client's receiving goroutine. With Batches
	// the event may be shared with other clients: read it, never change it.
	OnEvent func(domain.Event)
	// ReadBuffer, when above 0, is the receive buffer in bytes the client
	// asks for its UDP sockets (the kernel caps it at net.core.rmem_max):
	// a load tool's many clients, whose readers wait for a CPU, overflow
	// Linux's default of 208 KB, and every datagram dropped there costs its
	// data channel a retransmission timeout.
	ReadBuffer int
	// Batches, when set, decodes an events message once for every client
	// given the same Batches (a load tool's students of one lesson).
	Batches *Batches
	// OnEphemeral, when set, is called with every relayed ephemeral message.
	OnEphemeral func(protocol.Ephemeral)
	// OnTrack, when set, is called with every media track the server
	// forwards to this client (its stream id is the publisher's participant
	// id); it must read the track until it ends. Unset, tracks are read and
	// discarded.
	OnTrack func(*webrtc.TrackRemote, *webrtc.RTPReceiver)
	// VideoCodecs, when set, are the only video codecs the client's
	// connection negotiates (with Opus for audio), as a browser that
	// decodes only some does; unset, pion's defaults.
	VideoCodecs []webrtc.RTPCodecParameters
	// OnSignal, when set, is called with every signal of the server the
	// client does not act on itself (media), from its receiving goroutine.
	OnSignal func(protocol.Signal)
	// RelayOnly makes the connection use TURN relays only, as a client
	// behind a strict firewall would.
	RelayOnly bool
	// Version is the protocol version the client says it speaks; 0 means
	// protocol.Version, the one it does speak. Tests set another to see
	// the server refuse it; below protocol.Compressed the server sends the
	// client every events message as JSON text.
	Version int
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
	waiters     map[uuid.UUID]chan Answer
	unacked     []command // in the order sent
	snapshot    []byte    // the parts of a snapshot received so far
	snapWant    int       // its size; 0 when none is expected
	snapSeq     int64
	live        chan struct{} // closed when the catch-up is complete
	failure     error         // a protocol violation seen, such as a gap
	bye         *protocol.Signal

	conn *conn // the current connection

	// inflater inflates the compressed events messages (onBinary) with
	// one decompressor; inflateMu lets the events channel of a
	// connection being replaced finish with it.
	inflateMu sync.Mutex
	inflater  protocol.Inflater
}

type command struct {
	id      uuid.UUID
	payload domain.Payload
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
	if opts.ReadBuffer > 0 {
		n, err := withReadBuffer(opts.Net, opts.ReadBuffer)
		if err != nil {
			return nil, err
		}
		se.SetNet(n)
	} else if opts.Net != nil {
		se.SetNet(opts.Net)
	}
	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m, opts.VideoCodecs); err != nil {
		return nil, err
	}
	c := &Client{opts: opts, api: webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(m)), state: domain.NewState(),
		waiters: map[uuid.UUID]chan Answer{}}
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

// URL returns the signaling URL the client joined through: Options.URL, or
// the node a full node sent it to.
func (c *Client) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opts.URL
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

// Send sends a command and waits for its acknowledgement: the sequence of
// the event it became, or the server's refusal as a *domain.Error.
func (c *Client) Send(ctx context.Context, p domain.Payload) (int64, error) {
	return c.SendID(ctx, uuid.New(), p)
}

// SendID is Send with the command's id chosen by the caller. While the
// client is disconnected the command waits, and Resume sends it.
func (c *Client) SendID(ctx context.Context, id uuid.UUID, p domain.Payload) (int64, error) {
	answer, err := c.Post(id, p)
	if err != nil {
		return 0, err
	}
	select {
	case a := <-answer:
		return a.Seq, a.Err
	case <-ctx.Done():
		c.forget(id)
		return 0, ctx.Err()
	}
}

// Answer is the server's answer to a command: the sequence of the event it
// became, or its refusal as a *domain.Error.
type Answer struct {
	Seq int64
	Err error
}

// Post sends a command with the id chosen by the caller and returns once it
// is transmitted (or, while the client is disconnected, queued: Resume sends
// it), without waiting for its answer, which comes on the returned channel,
// once. So a program sends commands one after another without waiting for
// each one's acknowledgement, as the board sends a stroke's parts: the
// server decides them in the order they were posted. An error means the
// command could not be encoded, and was not sent.
func (c *Client) Post(id uuid.UUID, p domain.Payload) (<-chan Answer, error) {
	cmd := command{id: id, payload: p}
	b, err := cmd.encode()
	if err != nil {
		return nil, err
	}
	w := make(chan Answer, 1)
	c.mu.Lock()
	c.waiters[id] = w
	c.unacked = append(c.unacked, cmd)
	cn := c.conn
	c.mu.Unlock()
	if cn != nil {
		// If this fails, the connection is going down: the command stays
		// unacknowledged and Resume sends it again.
		cn.events.SendText(string(b))
	}
	return w, nil
}

// forget stops waiting for the answer to command id, and does not resend it.
func (c *Client) forget(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.waiters, id)
	for i, u := range c.unacked {
		if u.id == id {
			c.unacked = append(c.unacked[:i], c.unacked[i+1:]...)
			break
		}
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
	b, err := cmd.encode()
	if err != nil {
		return err
	}
	if cn == nil {
		return errors.New("not connected")
	}
	return cn.events.SendText(string(b))
}

// encode returns the command message.
func (cmd command) encode() ([]byte, error) {
	data, err := json.Marshal(cmd.payload)
	if err != nil {
		return nil, err
	}
	return json.Marshal(protocol.Message{Type: protocol.TypeCommand, ID: cmd.id, Kind: cmd.payload.Kind(), Data: data})
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
	if err := cn.offer(); err != nil { // pion may not ask (conn.offer)
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
	if err := cn.pc.RemoveTrack(sender); err != nil {
		return err
	}
	return cn.offer() // pion may not ask (conn.offer)
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

// ResumeVia is Resume through another endpoint: the same lesson served by
// another server node, say.
func (c *Client) ResumeVia(ctx context.Context, url string) error {
	c.mu.Lock()
	c.opts.URL = url
	c.mu.Unlock()
	return c.Resume(ctx)
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

// registerCodecs registers pion's default codecs, or Opus and video only.
func registerCodecs(m *webrtc.MediaEngine, video []webrtc.RTPCodecParameters) error {
	if video == nil {
		return m.RegisterDefaultCodecs()
	}
	opus := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}
	if err := m.RegisterCodec(opus, webrtc.RTPCodecTypeAudio); err != nil {
		return fmt.Errorf("register Opus: %w", err)
	}
	for _, c := range video {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return fmt.Errorf("register %s: %w", c.MimeType, err)
		}
	}
	return nil
}
