package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestMungerContinuity: sequence numbers sent run on without a hole across
// padding skipped and across packets dropped until a keyframe (resume), and
// keep the source's timestamp spacing; across the wrap of the source's
// numbers too.
func TestMungerContinuity(t *testing.T) {
	m := munger{clockRate: 90000}
	at := time.Now()
	send := func(seq uint16, ts uint32, resume bool) (uint16, uint32) {
		return m.rewrite(&rtp.Header{SequenceNumber: seq, Timestamp: ts}, at, resume, false)
	}
	s0, t0 := send(65534, 1000, false)
	s1, t1 := send(65535, 4000, false)
	m.skip() // 0: padding
	s2, _ := send(1, 7000, false)
	// 2 to 9 dropped until a keyframe.
	s3, t3 := send(10, 31000, true)
	if want := []uint16{s0 + 1, s0 + 2, s0 + 3}; s1 != want[0] || s2 != want[1] || s3 != want[2] {
		t.Fatalf("sequence numbers %d %d %d %d, want four in a row", s0, s1, s2, s3)
	}
	if t1-t0 != 3000 || t3-t0 != 30000 {
		t.Fatalf("timestamps +%d, +%d: not the source's spacing", t1-t0, t3-t0)
	}
	// A packet reordered upstream keeps its place, and the numbers
	// after it run on from the newest.
	if s, _ := send(9, 28000, false); s != s3-1 {
		t.Fatalf("a reordered packet numbered %d, want %d", s, s3-1)
	}
	m.skip() // 11: padding
	if s, _ := send(12, 34000, false); s != s3+1 {
		t.Fatalf("after a reordered packet and padding, %d follows %d", s, s3)
	}
}

// TestMungerSwitch: the first packet of another layer, with numbers and
// timestamps of its own, carries on from the last sent: the next sequence
// number, and a timestamp as much later as time passed (at least one tick,
// even when it reached the server earlier).
func TestMungerSwitch(t *testing.T) {
	m := munger{clockRate: 90000}
	start := time.Now()
	s0, t0 := m.rewrite(&rtp.Header{SequenceNumber: 100, Timestamp: 5000}, start, false, false)
	s1, t1 := m.rewrite(&rtp.Header{SequenceNumber: 40000, Timestamp: 123456789}, start.Add(100*time.Millisecond), false, true)
	if s1 != s0+1 {
		t.Fatalf("sequence %d after %d across a switch", s1, s0)
	}
	if t1-t0 != 9000 {
		t.Fatalf("timestamp +%d across a switch 100 ms later, want +9000", t1-t0)
	}
	s2, t2 := m.rewrite(&rtp.Header{SequenceNumber: 40001, Timestamp: 123459789}, start.Add(133*time.Millisecond), false, false)
	if s2 != s1+1 || t2-t1 != 3000 {
		t.Fatalf("after the switch: %d/+%d, want %d/+3000", s2, t2-t1, s1+1)
	}
	_, t3 := m.rewrite(&rtp.Header{SequenceNumber: 7, Timestamp: 0}, start, false, true)
	if t3-t2 != 1 {
		t.Fatalf("a switch to a packet that arrived earlier: timestamp +%d, want +1", t3-t2)
	}
}
