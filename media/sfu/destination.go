package sfu

import (
	"net/netip"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"classroom/media"
)

// destinationCheck is how often a member's address is looked up again: it
// changes only when ICE selects another pair.
const destinationCheck = time.Second

// destination is where a member's media goes, for sending several packets
// to it at once through the stage's SendBatcher, and for the packets a
// media.Direct sends. A writer that holds the
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
}

// hold starts keeping what is sent to the member; release sends it. ok is
// false when nothing is held.
func (d *destination) hold() (to netip.AddrPort, ok bool) {
	if d == nil || d.batcher == nil || d.pc == nil {
		return netip.AddrPort{}, false
	}
	to = d.lookup(time.Now())
	if !to.IsValid() {
		return to, false
	}
	d.batcher.Hold(to)
	return to, true
}

func (d *destination) release(to netip.AddrPort) { d.batcher.Release(to) }

// forget has the next lookup look the address up again: ICE selected
// another pair.
func (d *destination) forget() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.checked = time.Time{}
}

// lookup returns the member's address, looked up again when it was last
// more than destinationCheck ago or ICE has selected another pair since
// (forget).
func (d *destination) lookup(now time.Time) netip.AddrPort {
	d.mu.Lock()
	defer d.mu.Unlock()
	if now.Sub(d.checked) < destinationCheck {
		if d.addr.IsValid() && gone(d.pc.ICEConnectionState()) {
			d.addr = netip.AddrPort{} // ICE failed since: as pion, send nothing more
		}
		return d.addr
	}
	d.checked = now
	d.addr = netip.AddrPort{}
	if gone(d.pc.ICEConnectionState()) {
		return d.addr
	}
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

// gone says ICE has no pair to send on any more: it failed (its consent
// expired) or was closed. pion then sends nothing.
func gone(st webrtc.ICEConnectionState) bool {
	return st == webrtc.ICEConnectionStateFailed || st == webrtc.ICEConnectionStateClosed
}
