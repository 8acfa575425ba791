// Package peer holds what both ends of a lesson's PeerConnection set up
// alike, the server's sessions and the Go client (realtime/client): the two
// negotiated data channels, the conversion of trickled ICE candidates
// between pion and the protocol's JSON, the rule that a candidate never
// overtakes the description it belongs to, and the start of SRTP. It is the
// pion side of realtime/protocol, which stays free of pion so that the
// protocol reads as JSON a client in any language can speak. The package
// configures PeerConnections it is given; it must never open a connection,
// send a signal itself or decide anything about a lesson.
package peer

import (
	"sync"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"classroom/realtime/protocol"
)

// Channels creates the two data channels of docs/protocol.md, section 3, on
// pc: events (ordered, reliable) and ephemeral (unordered, no
// retransmissions), both negotiated out of band with their fixed ids, so
// either side may create them before the first offer.
func Channels(pc *webrtc.PeerConnection) (events, ephemeral *webrtc.DataChannel, err error) {
	ordered, unordered, negotiated := true, false, true
	retries := uint16(protocol.EphemeralMaxRetries)
	eventsID, ephemeralID := uint16(protocol.EventsChannelID), uint16(protocol.EphemeralChannelID)
	if events, err = pc.CreateDataChannel(protocol.EventsChannel, &webrtc.DataChannelInit{
		Ordered: &ordered, Negotiated: &negotiated, ID: &eventsID}); err != nil {
		return nil, nil, err
	}
	if ephemeral, err = pc.CreateDataChannel(protocol.EphemeralChannel, &webrtc.DataChannelInit{
		Ordered: &unordered, MaxRetransmits: &retries, Negotiated: &negotiated, ID: &ephemeralID}); err != nil {
		return nil, nil, err
	}
	return events, ephemeral, nil
}

// Candidate is a gathered candidate as the protocol sends it (RTCIceCandidateInit).
func Candidate(c *webrtc.ICECandidate) protocol.ICECandidate {
	init := c.ToJSON()
	return protocol.ICECandidate{Candidate: init.Candidate, SDPMid: init.SDPMid,
		SDPMLineIndex: init.SDPMLineIndex, UsernameFragment: init.UsernameFragment}
}

// CandidateInit is a trickled candidate as pion adds it.
func CandidateInit(c protocol.ICECandidate) webrtc.ICECandidateInit {
	return webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid,
		SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}
}

// StartSRTP starts pc's SRTP once it is connected. pion starts it only when
// a negotiation brings media, or when RTCP is first sent, and drops the
// media written before: started now, the first packets of a track (its
// keyframe) are not lost.
func StartSRTP(pc *webrtc.PeerConnection) {
	pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverReport{}})
}

// Trickle sends one side's own ICE candidates as they are gathered, but
// none before the first description (offer or answer) of that side has
// gone: the other side could not add a candidate that came before it, and
// the candidate would be lost. Its zero value is ready; it is safe for
// concurrent use.
type Trickle struct {
	mu        sync.Mutex
	described bool                    // the first description has gone
	early     []protocol.ICECandidate // gathered before that
}

// Gathered sends a candidate pion gathered, or holds it until Describe.
func (t *Trickle) Gathered(c *webrtc.ICECandidate, send func(protocol.Signal) error) error {
	cand := Candidate(c)
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.described {
		t.early = append(t.early, cand)
		return nil
	}
	return send(protocol.Signal{Type: protocol.SignalCandidate, Candidate: &cand})
}

// Describe sends an offer or answer, then every candidate held for it.
func (t *Trickle) Describe(sig protocol.Signal, send func(protocol.Signal) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := send(sig); err != nil {
		return err
	}
	t.described = true
	for _, c := range t.early {
		if err := send(protocol.Signal{Type: protocol.SignalCandidate, Candidate: &c}); err != nil {
			return err
		}
	}
	t.early = nil
	return nil
}

// Described reports whether the first description has gone.
func (t *Trickle) Described() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.described
}
