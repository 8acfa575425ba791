package sfu

import (
	"sync"
	"sync/atomic"
	"time"
)

const (
	// historySize is how many sent packets a subscriber can ask again for.
	historySize = 1024
	// maxResends is how many times one packet is sent again, however often
	// the subscriber asks for it. A packet lost that often is lost to a
	// path that resending only loads further; the subscriber's decoder
	// copes, or asks for a keyframe.
	maxResends = 4
	// resendHoldOff is how long after resending a packet a NACK of it again
	// is ignored: it was most likely sent before the resent packet could
	// arrive. When the subscriber's round-trip time is known, twice that is
	// used instead when shorter.
	resendHoldOff = 100 * time.Millisecond
)

// history remembers what was sent to one subscriber: which source packet
// each of its sequence numbers carried, and with which timestamp, so that a
// NACK is answered from the track's cache with the packet as first sent;
// and how often and when each was resent, so that a subscriber repeating
// its NACKs does not multiply the traffic of a path already losing packets.
// The down track's writer records; its RTCP reader looks up and sets the
// round-trip time.
type history struct {
	rtt atomic.Int64 // the subscriber's round-trip time, nanoseconds; 0 while unknown

	mu    sync.Mutex
	epoch time.Time // resentAt counts from it
	slots [historySize]sent
}

// sent is what one sequence number sent carried.
type sent struct {
	from     *publication // the layer it came from (nil only in tests that record by hand)
	out, in  uint16       // the sequence number sent, and the source's
	ts       uint32       // the timestamp sent
	ok       bool
	resends  uint8         // times resent
	resentAt time.Duration // when last resent, after epoch
}

// record remembers that sequence number out carried the source packet in
// of layer from, with timestamp ts.
func (h *history) record(from *publication, out, in uint16, ts uint32) {
	h.mu.Lock()
	h.slots[out%historySize] = sent{from: from, out: out, in: in, ts: ts, ok: true}
	h.mu.Unlock()
}

// setRTT takes the subscriber's round-trip time.
func (h *history) setRTT(rtt time.Duration) { h.rtt.Store(int64(rtt)) }

// holdOff is how long a packet resent is not resent again: resendHoldOff,
// or twice the round-trip time when known and shorter.
func (h *history) holdOff() time.Duration {
	if rtt := time.Duration(h.rtt.Load()); rtt > 0 {
		return min(resendHoldOff, 2*rtt)
	}
	return resendHoldOff
}

// resend returns what sequence number out carried, when it is remembered
// and may be resent now: not within the hold-off of its last resend, and
// not more than maxResends times. It counts the resend.
func (h *history) resend(out uint16, now time.Time) (sent, bool) {
	holdOff := h.holdOff()
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &h.slots[out%historySize]
	if !s.ok || s.out != out {
		return sent{}, false
	}
	if h.epoch.IsZero() {
		h.epoch = now
	}
	at := now.Sub(h.epoch)
	if s.resends >= maxResends || s.resends > 0 && at-s.resentAt < holdOff {
		return sent{}, false
	}
	s.resends++
	s.resentAt = at
	return *s, true
}
