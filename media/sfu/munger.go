package sfu

import (
	"math/rand/v2"
	"time"

	"github.com/pion/rtp"
)

// munger rewrites the sequence numbers and timestamps of the packets sent
// to one subscriber, so that what it receives is one stream: sequence
// numbers continuous across packets the forwarder chose not to send
// (padding, video dropped until a keyframe), which leave no hole for it to
// ask about, and timestamps that run on across a switch of simulcast layer,
// as much later as time has passed. Both start at random offsets. It
// belongs to the down track's writer.
type munger struct {
	clockRate uint32 // of the track's codec

	started  bool
	seqDelta uint16    // sent = received + seqDelta
	tsDelta  uint32    // likewise for timestamps
	lastSeq  uint16    // the newest sequence number sent
	lastTS   uint32    // the last timestamp sent
	lastAt   time.Time // when the last packet sent reached the server
}

// skip takes a packet that is not sent and will never be asked for
// (padding): the next packet sent takes its sequence number.
func (m *munger) skip() {
	if m.started {
		m.seqDelta--
	}
}

// rewrite returns the sequence number and timestamp a packet that reached
// the server at at is sent with. resume says packets were dropped since
// the last one sent (while waiting for a keyframe): the sequence carries on
// from the last one sent. switched says the packet is the first of another
// simulcast layer, whose sequence numbers and timestamps are its own: both
// carry on.
func (m *munger) rewrite(h *rtp.Header, at time.Time, resume, switched bool) (seq uint16, ts uint32) {
	if (resume || switched) && m.started {
		m.seqDelta = m.lastSeq + 1 - h.SequenceNumber
	}
	if switched && m.started {
		gap := uint32(max(at.Sub(m.lastAt), 0).Seconds() * float64(m.clockRate))
		m.tsDelta = m.lastTS + max(gap, 1) - h.Timestamp
	}
	if !m.started {
		m.started = true
		m.seqDelta = uint16(rand.Uint32()) - h.SequenceNumber
		m.tsDelta = rand.Uint32() - h.Timestamp
		m.lastSeq = h.SequenceNumber + m.seqDelta - 1
	}
	seq = h.SequenceNumber + m.seqDelta
	if seqBefore(m.lastSeq, seq) {
		m.lastSeq = seq
	}
	ts = h.Timestamp + m.tsDelta
	m.lastTS, m.lastAt = ts, at
	return seq, ts
}
