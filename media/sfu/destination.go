package sfu

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v4"

	"classroom/media"
)

// destination is where a member's media goes, for sending several packets
// to it at once through the stage's SendBatcher. A writer that holds the
// member's address while it forwards what its queue holds has the port send
// those packets together. The address is the remote candidate of the
// member's selected ICE pair, looked up the first time a writer holds it and
// then kept up to date by ICE's pair-change callback, so that holding costs
// a writer no look-up; while unknown, or when the port is not the stage's (a
// relay's own connection), nothing is held and packets go out one by one, as
// without a batcher. An address gone stale (ICE selected another pair and
// the callback is still to come) only sends one by one: what pion writes to
// the new address is not held.
type destination struct {
	batcher media.SendBatcher // nil: no batching
	pc      *webrtc.PeerConnection

	watchOnce sync.Once
	addr      atomic.Pointer[netip.AddrPort] // nil while unknown
}

// hold starts keeping what is sent to the member; release sends it. ok is
// false when nothing is held.
func (d *destination) hold() (to netip.AddrPort, ok bool) {
	if d == nil || d.batcher == nil || d.pc == nil {
		return netip.AddrPort{}, false
	}
	d.watchOnce.Do(d.watch)
	a := d.addr.Load()
	if a == nil || !a.IsValid() {
		return netip.AddrPort{}, false
	}
	d.batcher.Hold(*a)
	return *a, true
}

func (d *destination) release(to netip.AddrPort) { d.batcher.Release(to) }

// watch has the address follow the member's selected ICE pair: the pair
// selected now, and every pair selected after. A change reported while the
// first look-up runs wins over what the look-up found.
func (d *destination) watch() {
	t := d.pc.SCTP().Transport().ICETransport()
	t.OnSelectedCandidatePairChange(d.selected)
	pair, err := t.GetSelectedCandidatePair()
	if err != nil || pair == nil {
		return
	}
	a := remoteAddr(pair)
	d.addr.CompareAndSwap(nil, &a)
}

// selected takes the pair ICE selected: the member's address from now on.
func (d *destination) selected(pair *webrtc.ICECandidatePair) {
	a := remoteAddr(pair)
	d.addr.Store(&a)
}

// remoteAddr is the address of a pair's remote candidate, invalid when it
// has none (an mDNS name, say).
func remoteAddr(pair *webrtc.ICECandidatePair) netip.AddrPort {
	if pair == nil || pair.Remote == nil {
		return netip.AddrPort{}
	}
	ip, err := netip.ParseAddr(pair.Remote.Address)
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ip.Unmap(), pair.Remote.Port)
}
