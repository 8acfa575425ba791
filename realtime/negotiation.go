package realtime

import (
	"context"
	"log/slog"
	"sync"

	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/media"
	"classroom/realtime/peer"
	"classroom/realtime/protocol"
)

// maxEarlyCandidates bounds the client's candidates held until its first
// description is set.
const maxEarlyCandidates = 64

// negotiation is the offer/answer exchange of one session's PeerConnection,
// with the trickled ICE candidates of both sides. The client makes the
// first offer; afterwards either side offers when its tracks change. The
// server is the impolite peer of perfect negotiation: when offers cross, it
// keeps its own and the client rolls its one back (docs/protocol.md,
// section 2.3). One offer or answer is made at a time; the server's own
// offers are made on the negotiator's goroutine (run), never on pion's.
type negotiation struct {
	pc      *webrtc.PeerConnection
	signal  func(protocol.Signal) // to the client's WebSocket; never blocks
	log     *slog.Logger
	metrics *metrics

	busy   sync.Mutex    // one offer or answer at a time
	needed chan struct{} // pion says negotiation is needed; to run

	// Candidates wait until the description they belong to has gone (ours)
	// or been set (the client's): sent or added earlier, they are lost.
	local       peer.Trickle
	mu          sync.Mutex
	remoteSet   bool // the client's first description is set
	remoteEarly []webrtc.ICECandidateInit
}

func newNegotiation(signal func(protocol.Signal), log *slog.Logger, m *metrics) *negotiation {
	return &negotiation{signal: signal, log: log, metrics: m, needed: make(chan struct{}, 1)}
}

// send is signal for peer.Trickle, which wants an error.
func (n *negotiation) send(sig protocol.Signal) error {
	n.signal(sig)
	return nil
}

// attach starts negotiating on pc: its candidates are trickled to the
// client, and its requests for an offer reach run.
func (n *negotiation) attach(pc *webrtc.PeerConnection) {
	n.pc = pc
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			n.local.Gathered(c, n.send)
		}
	})
	// Offer on the negotiator, not here: pion calls this on the goroutine
	// that runs its operations, which an offer would wait for.
	pc.OnNegotiationNeeded(func() {
		select {
		case n.needed <- struct{}{}:
		default: // one is pending already
		}
	})
}

// run makes the offers pion asks for, one at a time, until ctx ends.
func (n *negotiation) run(ctx context.Context) {
	for {
		select {
		case <-n.needed:
			n.offer(ctx)
		case <-ctx.Done():
			return
		}
	}
}

// offer starts a renegotiation from the server's side.
func (n *negotiation) offer(ctx context.Context) {
	n.busy.Lock()
	defer n.busy.Unlock()
	if ctx.Err() != nil || n.pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
		return
	}
	if !n.local.Described() || n.pc.SignalingState() != webrtc.SignalingStateStable {
		// The client makes the first offer (creating the data channels
		// fires this before it); pion asks again, if still needed, each
		// time the state becomes stable.
		return
	}
	offer, err := n.pc.CreateOffer(nil)
	if err != nil {
		n.log.Warn("create offer", "err", err)
		return
	}
	if err := n.pc.SetLocalDescription(offer); err != nil {
		n.log.Warn("set local offer", "err", err)
		return
	}
	n.metrics.offer("server", "sent")
	n.describe(protocol.Signal{Type: protocol.SignalOffer, SDP: offer.SDP})
}

// describe sends an offer or answer, then any candidates gathered before it.
func (n *negotiation) describe(sig protocol.Signal) {
	n.log.Debug("description sent", "type", sig.Type)
	n.local.Describe(sig, n.send)
}

// answer answers the client's offer, unless it crossed one of ours: the
// impolite server keeps its own, and the client rolls its offer back,
// answers, and offers again.
func (n *negotiation) answer(sig protocol.Signal) {
	n.busy.Lock()
	defer n.busy.Unlock()
	if n.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		n.metrics.offer("client", "collided")
		n.log.Debug("offers crossed; keeping ours")
		return
	}
	n.metrics.offer("client", "answered")
	if err := n.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sig.SDP}); err != nil {
		n.signal(errorSignal(domain.Errorf(domain.CodeInvalid, "the offer was refused: %v", err)))
		return
	}
	n.preferClassCodecs()
	answer, err := n.pc.CreateAnswer(nil)
	if err == nil {
		err = n.pc.SetLocalDescription(answer)
	}
	if err != nil {
		n.signal(errorSignal(domain.Errorf(domain.CodeInvalid, "could not answer the offer: %v", err)))
		return
	}
	n.describe(protocol.Signal{Type: protocol.SignalAnswer, SDP: answer.SDP})
	n.remoteDescribed()
	if n.unnegotiated() {
		// Offer them now rather than when pion asks: pion asks only
		// once its operations are done, and the first answer's
		// operation is the connection itself (ICE and DTLS), so the
		// tracks of those on stage would be offered only after it, and
		// a joiner's first frame would wait for that round trip and
		// the keyframe request behind it. Offered now, they are
		// negotiated while the connection is made, and the keyframe
		// waits for it instead.
		select {
		case n.needed <- struct{}{}:
		default: // one is pending already
		}
	}
}

// unnegotiated reports whether the connection sends a track that no
// description has carried yet: one the stage added while the client's offer
// was being answered, which an answer cannot offer.
func (n *negotiation) unnegotiated() bool {
	for _, tr := range n.pc.GetTransceivers() {
		if s := tr.Sender(); s != nil && s.Track() != nil && tr.Mid() == "" {
			return true
		}
	}
	return false
}

// preferClassCodecs orders the codecs of the video the client publishes so
// that its answer asks for VP8 first, which every browser in the class
// decodes (media.PreferClassCodecs; docs/protocol.md, section 9).
// Transceivers that carry forwarded tracks were given their order when
// made.
func (n *negotiation) preferClassCodecs() {
	for _, tr := range n.pc.GetTransceivers() {
		if tr.Kind() != webrtc.RTPCodecTypeVideo || tr.Receiver() == nil || tr.Sender() != nil && tr.Sender().Track() != nil {
			continue
		}
		codecs := tr.Receiver().GetParameters().Codecs
		if err := tr.SetCodecPreferences(media.PreferClassCodecs(codecs)); err != nil {
			n.log.Debug("codec preferences of a published track", "err", err)
		}
	}
}

// answered sets the client's answer to an offer of ours.
func (n *negotiation) answered(sig protocol.Signal) {
	n.busy.Lock()
	err := n.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sig.SDP})
	n.busy.Unlock()
	if err != nil {
		n.signal(errorSignal(domain.Errorf(domain.CodeInvalid, "the answer was refused: %v", err)))
		return
	}
	n.remoteDescribed()
}

// candidate adds a candidate the client trickled, or holds it until the
// client's first description is set.
func (n *negotiation) candidate(sig protocol.Signal) {
	if sig.Candidate == nil {
		return
	}
	c := peer.CandidateInit(*sig.Candidate)
	n.mu.Lock()
	if !n.remoteSet {
		if len(n.remoteEarly) < maxEarlyCandidates {
			n.remoteEarly = append(n.remoteEarly, c)
		}
		n.mu.Unlock()
		return
	}
	n.mu.Unlock()
	n.add(c)
}

// remoteDescribed adds the client's candidates that came before its description.
func (n *negotiation) remoteDescribed() {
	n.mu.Lock()
	early := n.remoteEarly
	n.remoteEarly, n.remoteSet = nil, true
	n.mu.Unlock()
	for _, c := range early {
		n.add(c)
	}
}

func (n *negotiation) add(c webrtc.ICECandidateInit) {
	if err := n.pc.AddICECandidate(c); err != nil {
		n.signal(errorSignal(domain.Errorf(domain.CodeInvalid, "the candidate was refused: %v", err)))
	}
}
