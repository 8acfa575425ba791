package client

import (
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// unnegotiated reports whether pc has something of its own that the
// descriptions last applied on both sides do not carry: a track added
// (AddTrack) or removed (RemoveTrack) since, a transceiver whose direction
// changed. It is the check "negotiation needed" of the WebRTC
// specification (section 4.7.3) in pion's (v4.2) version, which compares
// the msid with the track's ids rather than the sender's streams, made
// again when the client is about to offer: pion fires the event after a
// check it made earlier, which may no longer hold (see conn.offer). It
// departs from pion's in two ways: a transceiver with nothing to send is
// skipped (pion counts a sendonly one without a sender as needing
// negotiation, which it never stops needing), and the data channels are
// not looked at (the client makes both before its first offer, which
// carries them).
func unnegotiated(pc *webrtc.PeerConnection) bool {
	local, remote := pc.CurrentLocalDescription(), pc.CurrentRemoteDescription()
	if local == nil || remote == nil {
		return true
	}
	// Parsed here: Unmarshal would write to the descriptions pion keeps,
	// which its own goroutines read.
	var ls, rs sdp.SessionDescription
	if ls.UnmarshalString(local.SDP) != nil || rs.UnmarshalString(remote.SDP) != nil {
		return true
	}
	for _, tr := range pc.GetTransceivers() {
		m := mediaByMid(&ls, tr.Mid())
		if m == nil {
			return true // never negotiated
		}
		dir := tr.Direction()
		if dir == webrtc.RTPTransceiverDirectionSendrecv || dir == webrtc.RTPTransceiverDirectionSendonly {
			// A transceiver with nothing to send needs nothing of the
			// client's: one pion made for a recvonly section of the
			// server's (sendonly, without a sender), or a sender whose
			// track was replaced by none. pion counts the first as
			// needing negotiation, for ever: a receive-only client would
			// offer after every round. Its direction is not checked
			// either: only the server's offers change it, and the
			// client's answer carries that (RemoveTrack leaves a
			// transceiver recvonly or inactive, checked below).
			sender := tr.Sender()
			if sender == nil || sender.Track() == nil {
				continue
			}
			track := sender.Track()
			if msid, ok := m.Attribute(sdp.AttrKeyMsid); !ok || msid != track.StreamID()+" "+track.ID() {
				return true
			}
		}
		switch local.Type {
		case webrtc.SDPTypeOffer:
			rm := mediaByMid(&rs, tr.Mid())
			if rm == nil {
				return true
			}
			if direction(m, &ls) != dir && direction(rm, &rs) != dir.Revers() {
				return true
			}
		case webrtc.SDPTypeAnswer:
			if direction(m, &ls) != dir {
				return true
			}
		}
	}
	return false
}

// mediaByMid returns the media section of d whose mid is mid, or nil.
func mediaByMid(d *sdp.SessionDescription, mid string) *sdp.MediaDescription {
	for _, m := range d.MediaDescriptions {
		if v, ok := m.Attribute(sdp.AttrKeyMID); ok && v == mid {
			return m
		}
	}
	return nil
}

// direction is the direction a media section of d states (or d states for
// all of them); sendrecv when neither does.
func direction(m *sdp.MediaDescription, d *sdp.SessionDescription) webrtc.RTPTransceiverDirection {
	for _, attrs := range [][]sdp.Attribute{m.Attributes, d.Attributes} {
		for _, a := range attrs {
			if dir := webrtc.NewRTPTransceiverDirection(a.Key); dir != webrtc.RTPTransceiverDirectionUnknown {
				return dir
			}
		}
	}
	return webrtc.RTPTransceiverDirectionSendrecv
}
