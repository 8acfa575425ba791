package sfu

import (
	"sync"

	"github.com/pion/webrtc/v4"
)

// UnsupportedTrack is a track on stage that a subscriber is not sent
// because its connection negotiated none of the track's codec: an H.264 or
// AV1 camera and a browser that decodes only VP8. The track stays in the
// subscriber's connection, with no packets, so that the subscriber can show
// why in its place.
type UnsupportedTrack struct {
	Publisher string // the publisher's participant id (the track's stream id)
	Track     string // the publisher's track id
	Kind      webrtc.RTPCodecType
	Codec     string // the track's MIME type, as "video/H264"
	Mid       string // the media section of the subscriber's connection that carries it
}

// codecNotices holds what a member is told of tracks it cannot be sent:
// until the member's owner says where to (OnCodecUnsupported), they wait.
type codecNotices struct {
	mu      sync.Mutex
	tell    func(UnsupportedTrack)
	pending []UnsupportedTrack
}

// OnCodecUnsupported says whom to tell about a forwarded track the member's
// connection cannot take, when its negotiation shows it (from pion's
// goroutine: f must not block). Tracks found before it was set are told at
// once.
func (m *Member) OnCodecUnsupported(f func(UnsupportedTrack)) {
	n := &m.notices
	n.mu.Lock()
	n.tell = f
	pending := n.pending
	n.pending = nil
	n.mu.Unlock()
	for _, u := range pending {
		f(u)
	}
}

// unsupported tells the member's owner, or keeps u until there is one.
func (n *codecNotices) unsupported(u UnsupportedTrack) {
	n.mu.Lock()
	tell := n.tell
	if tell == nil {
		n.pending = append(n.pending, u)
	}
	n.mu.Unlock()
	if tell != nil {
		tell(u)
	}
}
