package sfu

import "sync"

// cacheSize is how many of a track's latest packets are kept, for
// retransmissions and for giving new subscribers the current keyframe: about
// five seconds of 1.5 Mbps video.
const cacheSize = 1024

// maxBurst bounds the packets a new subscriber is given at once from the
// cache: about 100 KB, well inside a socket's default receive buffer
// (Linux: 208 KB). A longer run since the last keyframe means asking the
// publisher for a new one instead.
const maxBurst = 80

// cache holds a track's latest packets by sequence number. One cache serves
// every subscriber of the track: packets are shared, never copied.
type cache struct {
	mu     sync.Mutex
	slots  [cacheSize]*packet
	newest uint16
	any    bool
	key    uint16 // sequence of the newest keyframe's first packet
	hasKey bool
}

// put stores a packet, replacing the one cacheSize sequence numbers older.
func (c *cache) put(p *packet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seq := p.Header.SequenceNumber
	c.slots[seq%cacheSize] = p
	if !c.any || seqBefore(c.newest, seq) {
		c.newest, c.any = seq, true
	}
	if p.Keyframe {
		c.key, c.hasKey = seq, true
	}
}

// get returns the packet of sequence number seq, or nil when it is gone.
func (c *cache) get(seq uint16) *packet {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.slots[seq%cacheSize]; p != nil && p.Header.SequenceNumber == seq {
		return p
	}
	return nil
}

// sinceKeyframe returns the packets from the newest keyframe's first packet
// to the newest packet, in sequence order, when all of them are still cached;
// otherwise nil. Holding the lock of the track's fan-out while calling it
// makes the result and the live packets that follow it seamless.
func (c *cache) sinceKeyframe() []*packet {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.hasKey {
		return nil
	}
	n := int(c.newest-c.key) + 1
	if n > maxBurst {
		// An old keyframe: sent back to back, the packets since would
		// overflow the subscriber's socket; better ask for a new one.
		return nil
	}
	out := make([]*packet, 0, n)
	for i := range n {
		seq := c.key + uint16(i)
		p := c.slots[seq%cacheSize]
		if p == nil || p.Header.SequenceNumber != seq {
			continue // lost upstream: the subscriber NACKs it, or the decoder copes
		}
		out = append(out, p)
	}
	if len(out) == 0 || !out[0].Keyframe {
		return nil
	}
	return out
}
