package sfu

import "sync"

// historySize is how many sent packets a subscriber can ask again for.
const historySize = 1024

// history remembers what was sent to one subscriber: which source packet
// each of its sequence numbers carried, and with which timestamp, so that a
// NACK is answered from the track's cache with the packet as first sent.
// The down track's writer records; its RTCP reader looks up.
type history struct {
	mu    sync.Mutex
	slots [historySize]sent
}

// sent is what one sequence number sent carried.
type sent struct {
	from    *publication // the layer; nil for the down track's first
	out, in uint16       // the sequence number sent, and the source's
	ts      uint32       // the timestamp sent
	ok      bool
}

// record remembers that sequence number out carried the source packet in
// of layer from, with timestamp ts.
func (h *history) record(from *publication, out, in uint16, ts uint32) {
	h.mu.Lock()
	h.slots[out%historySize] = sent{from: from, out: out, in: in, ts: ts, ok: true}
	h.mu.Unlock()
}

// resend returns what sequence number out carried, when it is remembered.
func (h *history) resend(out uint16) (sent, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.slots[out%historySize]
	if !s.ok || s.out != out {
		return sent{}, false
	}
	return s, true
}
