package sfu

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"classroom/media"
)

// destinationCheck is how often a member's address is looked up again: it
// changes only when ICE selects another pair.
const destinationCheck = time.Second

// An audio packet goes out with the member's next video frame, in the
// frame's system call, when a frame went to the member within frameGap
// (video is flowing, so the next frame is due within about a frame
// interval); it waits for it at most audioWait, then goes alone. At 30
// frames a second that adds 0–33 ms to an audio packet's way, half a frame
// interval on average, and saves a system call (and on loopback a wake-up
// of the receiver) for each of the 50 audio packets a second a subscriber.
const (
	frameGap  = 50 * time.Millisecond
	audioWait = 35 * time.Millisecond
)

// destination is where a member's media goes, for sending several packets
// to it at once through the stage's SendBatcher. A writer that holds the
// member's address while it forwards what its queue holds has the port send
// those packets together. It is looked up from the member's selected ICE
// candidate pair at most once every destinationCheck; while unknown, or
// when the port is not the stage's (a relay's own connection), nothing is
// held and packets go out one by one, as without a batcher.
type destination struct {
	batcher media.SendBatcher // nil: no batching
	pc      *webrtc.PeerConnection

	mu      sync.Mutex
	addr    netip.AddrPort
	checked time.Time

	lastFrame atomic.Int64 // unix nanoseconds a video frame was last released
}

// hold starts keeping what is sent to the member; release sends it. ok is
// false when nothing is held.
func (d *destination) hold(now time.Time) (to netip.AddrPort, ok bool) {
	if d == nil || d.batcher == nil || d.pc == nil {
		return netip.AddrPort{}, false
	}
	to = d.lookup(now)
	if !to.IsValid() {
		return to, false
	}
	d.batcher.Hold(to)
	return to, true
}

// release sends what was kept since hold, with any audio left waiting for a
// video frame; video says the writer sent one.
func (d *destination) release(to netip.AddrPort, now time.Time, video bool) {
	if video {
		d.lastFrame.Store(now.UnixNano())
	}
	d.batcher.Release(to)
}

// frameDue reports whether audio sent now should wait for the member's next
// video frame (see frameGap).
func (d *destination) frameDue(now time.Time) bool {
	return d != nil && now.UnixNano()-d.lastFrame.Load() < int64(frameGap)
}

// releaseWithFrame is release for audio when frameDue: what was kept goes
// out with the next video frame's, or after audioWait.
func (d *destination) releaseWithFrame(to netip.AddrPort) { d.batcher.ReleaseLater(to, audioWait) }

// lookup returns the member's address, looked up again when it was last
// more than destinationCheck ago.
func (d *destination) lookup(now time.Time) netip.AddrPort {
	d.mu.Lock()
	defer d.mu.Unlock()
	if now.Sub(d.checked) < destinationCheck {
		return d.addr
	}
	d.checked = now
	d.addr = netip.AddrPort{}
	pair, err := d.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Remote == nil {
		return d.addr
	}
	ip, err := netip.ParseAddr(pair.Remote.Address)
	if err != nil {
		return d.addr
	}
	d.addr = netip.AddrPortFrom(ip.Unmap(), pair.Remote.Port)
	return d.addr
}
