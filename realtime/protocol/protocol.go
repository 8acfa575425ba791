// Package protocol defines the messages of a live lesson: the JSON signaling
// messages on the WebSocket, and the messages on the two WebRTC data
// channels — "events" (reliable, ordered: commands, acknowledgements,
// committed events, history) and "ephemeral" (unreliable, unordered: live
// cursors, laser pointer, stroke previews). docs/protocol.md describes them
// for people writing a client; this package is the same contract for Go.
//
// The package only encodes and decodes; it must never act on a message.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/google/uuid"

	"classroom/domain"
)

// Size limits of one message.
const (
	MaxSignalBytes    = 256 << 10                         // one WebSocket message: an offer with many tracks is large
	MaxCommandBytes   = domain.MaxEncodedEventBytes       // one message from a client on the events channel
	MaxEphemeralBytes = 16 << 10                          // one message on the ephemeral channel
	MaxChunkBytes     = 48 << 10                          // the server's target size for an events or snapshot message
	MaxServerMessage  = domain.MaxEncodedEventBytes + 512 // the largest message the server sends
)

// Data channel labels and ids. Both are negotiated out of band (negotiated:
// true), so either side may create them before the first offer.
const (
	EventsChannel       = "events"
	EventsChannelID     = 0
	EphemeralChannel    = "ephemeral"
	EphemeralChannelID  = 1
	EphemeralMaxRetries = 0
)

// Protocol versions. A client says in its join which version it speaks, and
// the server in its welcome which it speaks. The server serves clients of
// versions MinVersion to Version and refuses others with ReasonIncompatible
// (CheckVersion). Version grows when the protocol changes in a way an older
// client cannot follow, such as a new event kind; MinVersion grows with it
// when the server can no longer serve the older clients.
const (
	Version    = 3
	MinVersion = 2
	// UnversionedClient is the version of a join that names none: clients
	// from before versions were announced spoke version 1.
	UnversionedClient = 1
	// Compressed is the first version whose clients accept compressed
	// events messages (Deflate): version 3 added them, and a server sends
	// a client of version 2 every message as JSON text.
	Compressed = 3
)

// CheckVersion refuses a client version the server does not serve, with
// CodeInvalid and ReasonIncompatible; 0 means the join named none.
func CheckVersion(v int) error {
	if v == 0 {
		v = UnversionedClient
	}
	if v < MinVersion || v > Version {
		return domain.Errorf(domain.CodeInvalid, "this client speaks version %d of the protocol and the server versions %d to %d; reload the page",
			v, MinVersion, Version).Because(domain.ReasonIncompatible)
	}
	return nil
}

// Signal types on the WebSocket.
const (
	SignalJoin      = "join"      // client: the first message, with a token
	SignalWelcome   = "welcome"   // server: admitted; who you are and the ICE servers
	SignalOffer     = "offer"     // either side: an SDP offer
	SignalAnswer    = "answer"    // either side: an SDP answer
	SignalCandidate = "candidate" // either side: a trickled ICE candidate
	SignalError     = "error"     // server: a refusal or failure, with a code
	SignalLeave     = "leave"     // client: leaving for good
	SignalBye       = "bye"       // server: the session ends, with a reason
	SignalWaiting   = "waiting"   // server: the student waits in the lobby until the teacher admits them
	SignalMedia     = "media"     // server: a forwarded track the client is sent nothing of, and why
)

// ReasonCodecUnsupported is the reason of a media signal: the client's
// connection negotiated none of the codec a forwarded track is in (an
// H.264 or AV1 camera and a browser that decodes only VP8), so the track's
// media section carries nothing.
const ReasonCodecUnsupported domain.Reason = "codec_unsupported"

// Signal is one WebSocket message. Type says which fields are set.
type Signal struct {
	Type string `json:"type"`

	// join, welcome and an incompatible error: the protocol version of the
	// client (join) or the server (welcome, error)
	Version int `json:"version,omitempty"`

	// join
	Token   string `json:"token,omitempty"`
	Name    string `json:"name,omitempty"`
	LastSeq int64  `json:"last_seq,omitempty"`

	// welcome
	Participant string      `json:"participant,omitempty"`
	Role        domain.Role `json:"role,omitempty"`
	ResumeToken string      `json:"resume_token,omitempty"`
	ICEServers  []ICEServer `json:"ice_servers,omitempty"`

	// offer, answer
	SDP string `json:"sdp,omitempty"`

	// candidate; nil in a candidate message means the end of candidates
	Candidate *ICECandidate `json:"candidate,omitempty"`

	// error, bye
	Code    domain.Code   `json:"code,omitempty"`
	Reason  domain.Reason `json:"reason,omitempty"`
	Message string        `json:"message,omitempty"`
	// error of reason node_full: the signaling URL (ws:// or wss://) of a
	// node with room, to join through instead
	Redirect string `json:"redirect,omitempty"`

	// media (with participant, reason and message): the publisher's track
	// id, its kind ("video", "audio") and codec ("video/H264"), and the mid
	// of the client's media section that carries it
	Track string `json:"track,omitempty"`
	Kind  string `json:"kind,omitempty"`
	Codec string `json:"codec,omitempty"`
	Mid   string `json:"mid,omitempty"`
}

// ICEServer is a STUN or TURN server for the client's RTCPeerConnection.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ICECandidate is RTCIceCandidateInit.
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// DecodeSignal decodes one WebSocket message, refusing unknown types and
// fields with CodeInvalid.
func DecodeSignal(b []byte) (Signal, error) {
	var s Signal
	if err := decodeBounded(b, MaxSignalBytes, "signal", &s); err != nil {
		return Signal{}, err
	}
	switch s.Type {
	case SignalJoin, SignalOffer, SignalAnswer, SignalCandidate, SignalLeave,
		SignalWelcome, SignalError, SignalBye, SignalWaiting, SignalMedia:
	default:
		return Signal{}, domain.Errorf(domain.CodeInvalid, "unknown signal type %q", s.Type)
	}
	if s.LastSeq < 0 {
		return Signal{}, domain.Errorf(domain.CodeInvalid, "last_seq must not be negative")
	}
	if s.Version < 0 {
		return Signal{}, domain.Errorf(domain.CodeInvalid, "version must not be negative")
	}
	return s, nil
}

// Message types on the events channel.
const (
	TypeCommand  = "command"  // client: do something; answered by ack or error
	TypeAck      = "ack"      // server: the command is stored as event Seq
	TypeError    = "error"    // server: the command (ID) was refused, or the session has a problem (no ID)
	TypeEvents   = "events"   // server: committed events, in sequence order
	TypeSnapshot = "snapshot" // server: the lesson state at Seq follows, in Parts binary messages of Size bytes in all
	TypeLive     = "live"     // server: history is complete up to Seq; what follows is live
)

// Message is one message on the events channel. Type says which fields are set.
type Message struct {
	Type string `json:"type"`

	// command, ack, error
	ID uuid.UUID `json:"id,omitzero"`
	// command
	Kind domain.Kind     `json:"kind,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
	// ack, snapshot, live
	Seq int64 `json:"seq,omitempty"`
	// error
	Code    domain.Code   `json:"code,omitempty"`
	Reason  domain.Reason `json:"reason,omitempty"`
	Message string        `json:"message,omitempty"`
	// events: each element is an event in its stable JSON form
	Events []json.RawMessage `json:"events,omitempty"`
	// snapshot: the state's JSON follows in Parts binary messages, in order,
	// Size bytes in all; concatenated, they are one JSON document
	Parts int `json:"parts,omitempty"`
	Size  int `json:"size,omitempty"`
}

// DecodeCommand decodes a client's message on the events channel. Only
// commands are accepted; the payload is decoded and checked on its own.
func DecodeCommand(b []byte) (uuid.UUID, domain.Payload, error) {
	var m Message
	if err := decodeBounded(b, MaxCommandBytes, "message", &m); err != nil {
		return uuid.Nil, nil, err
	}
	if m.Type != TypeCommand {
		return m.ID, nil, domain.Errorf(domain.CodeInvalid, "a client sends commands, not %q", m.Type)
	}
	if m.ID == uuid.Nil {
		return uuid.Nil, nil, domain.Errorf(domain.CodeInvalid, "command has no id")
	}
	p, err := domain.DecodePayload(m.Kind, m.Data)
	if err != nil {
		return m.ID, nil, err
	}
	return m.ID, p, nil
}

// Ephemeral message types.
const (
	EphemeralCursor  = "cursor"  // where a participant points (the laser pointer when Laser is set)
	EphemeralPreview = "preview" // the points of a stroke being drawn, before it is committed
)

// Ephemeral is a message on the ephemeral channel. The server sets Actor
// when it relays one; a client's Actor is ignored.
type Ephemeral struct {
	Type   string        `json:"type"`
	Actor  string        `json:"actor,omitempty"`
	Slide  domain.Slide  `json:"slide"`
	X      float64       `json:"x,omitempty"`
	Y      float64       `json:"y,omitempty"`
	Laser  bool          `json:"laser,omitempty"`
	Object uuid.UUID     `json:"object,omitzero"`
	Color  string        `json:"color,omitempty"`
	Width  float64       `json:"width,omitempty"`
	Points domain.Points `json:"points,omitempty"`
}

// MaxPreviewPoints bounds the points of one preview message.
const MaxPreviewPoints = 200

// DecodeEphemeral decodes and checks a client's ephemeral message.
func DecodeEphemeral(b []byte) (Ephemeral, error) {
	var e Ephemeral
	if err := decodeBounded(b, MaxEphemeralBytes, "ephemeral message", &e); err != nil {
		return Ephemeral{}, err
	}
	switch e.Type {
	case EphemeralCursor:
		if len(e.Points) > 0 {
			return Ephemeral{}, domain.Errorf(domain.CodeInvalid, "a cursor has no points")
		}
	case EphemeralPreview:
		if e.Object == uuid.Nil || len(e.Points) == 0 || len(e.Points) > MaxPreviewPoints {
			return Ephemeral{}, domain.Errorf(domain.CodeInvalid, "a preview names its stroke and has 1 to %d points", MaxPreviewPoints)
		}
	default:
		return Ephemeral{}, domain.Errorf(domain.CodeInvalid, "unknown ephemeral type %q", e.Type)
	}
	if abs(e.X) > domain.MaxCoordinate || abs(e.Y) > domain.MaxCoordinate || e.Width < 0 || e.Width > domain.MaxStrokeWidth ||
		e.Slide.Page < 0 || e.Slide.Page >= domain.MaxDeckPages || len(e.Color) > 9 {
		return Ephemeral{}, domain.Errorf(domain.CodeInvalid, "ephemeral message out of bounds")
	}
	for _, p := range e.Points {
		if abs(p.X) > domain.MaxCoordinate || abs(p.Y) > domain.MaxCoordinate {
			return Ephemeral{}, domain.Errorf(domain.CodeInvalid, "preview point off the board")
		}
	}
	e.Actor = ""
	return e, nil
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// decodeBounded decodes b into v strictly (see strict), refusing with
// CodeInvalid a b of more than limit bytes or one that does not decode; what
// names the message in the error.
func decodeBounded(b []byte, limit int, what string, v any) error {
	if len(b) > limit {
		return domain.Errorf(domain.CodeInvalid, "%s is larger than %d bytes", what, limit)
	}
	if err := strict(b, v); err != nil {
		return domain.Errorf(domain.CodeInvalid, "malformed %s: %v", what, err)
	}
	return nil
}

// strict decodes one JSON value into v, refusing unknown fields and trailing data.
func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if len(bytes.TrimSpace(b[dec.InputOffset():])) != 0 {
		return errors.New("trailing data")
	}
	return nil
}
