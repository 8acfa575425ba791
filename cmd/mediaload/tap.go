package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5"
)

// maxNACKGap is the widest hole a tap asks to have resent: the SFU
// renumbers what it skips without a hole, so a hole is loss, but a wider
// one is past what its cache would still hold.
const maxNACKGap = 64

// tap counts one subscriber's media at its sockets instead of in pion.
//
// A subscriber's track is read through pion (SRTP decryption, the
// interceptors, the track's buffer) until it has shown what only the
// payload can show: the first complete keyframe of its video, the first
// packet of its audio. From then on the track's reception is marked
// counted-at-the-socket, and every later RTP datagram of its SSRC is counted
// where the ICE agent reads it from the socket and is not handed to pion:
// RTP headers are not encrypted (RFC 3711), so its sequence number and
// timestamp count as they would after decryption. STUN, DTLS, RTCP and the
// data channel still go to pion.
//
// The server's work is the same either way; the load generator's falls to a
// read and a header a packet, so that one core of load can receive more than
// one core of server sends and the server is what saturates. A hole in a
// tapped track's sequence is asked for again at once, with one NACK (pion's
// generator, which no longer sees the packets, would ask a few times, after
// a short wait): so the server still answers loss from its cache. What the
// subscriber no longer does for a tapped track: report its reception in
// RTCP receiver reports (which the classroom server ignores), and drop
// duplicates before counting them (SRTP's replay check; they are counted as
// duplicates).
//
// A tap belongs to one subscriber, whose connection gives every track a
// distinct SSRC: two subscribers' senders may draw the same one.
type tap struct {
	mu     sync.RWMutex
	tracks map[uint32]*reception // by the SSRC the server sends it with
	// writeRTCP, once set, sends RTCP on the subscriber's connection.
	writeRTCP atomic.Pointer[func([]rtcp.Packet) error]

	counted atomic.Int64 // RTP datagrams counted at the socket
	passed  atomic.Int64 // RTP datagrams handed to pion
	nacked  atomic.Int64 // sequence numbers asked for again

	// When the join's steps were first seen on the subscriber's sockets
	// (unix nanoseconds; 0: not yet), for the timed joins' log.
	steps [stepCount]atomic.Int64
}

// A join's steps as its sockets see them (RFC 7983 tells the protocols
// apart by a datagram's first byte).
const (
	stepICEOut  = iota // the first STUN datagram sent: ICE checks begin
	stepICEIn          // the first STUN datagram received
	stepDTLSOut        // the first DTLS datagram sent: the ClientHello
	stepDTLSIn         // the first DTLS datagram received
	stepDTLSEnd        // the first one received that begins with ChangeCipherSpec: the server's last flight
	stepRTPIn          // the first RTP (not RTCP) datagram received
	stepCount
)

// mark notes a datagram sent (out) or received, if it is the first of its
// step.
func (t *tap) mark(p []byte, out bool) {
	if len(p) == 0 {
		return
	}
	step := -1
	switch b := p[0]; {
	case b <= 3:
		step = stepICEIn
		if out {
			step = stepICEOut
		}
	case b >= 20 && b <= 63:
		switch {
		case out:
			step = stepDTLSOut
		case t.steps[stepDTLSIn].Load() == 0:
			step = stepDTLSIn
		case b == 20:
			step = stepDTLSEnd
		}
	case !out && b >= 128 && b <= 191 && len(p) > 1 && (p[1] < 192 || p[1] > 223):
		step = stepRTPIn
	}
	if step >= 0 && t.steps[step].Load() == 0 {
		t.steps[step].CompareAndSwap(0, time.Now().UnixNano())
	}
}

// stepsAfter returns how long after start each step was first seen, in
// milliseconds (-1: not seen), as key-value pairs for a log line.
func (t *tap) stepsAfter(start time.Time) []any {
	names := [stepCount]string{"ice_out_ms", "ice_in_ms", "dtls_out_ms", "dtls_in_ms", "dtls_end_ms", "rtp_in_ms"}
	kv := make([]any, 0, 2*stepCount)
	for i, name := range names {
		after := -1.0
		if at := t.steps[i].Load(); at != 0 {
			after = ms(time.Duration(at - start.UnixNano()))
		}
		kv = append(kv, name, after)
	}
	return kv
}

func newTap() *tap {
	return &tap{tracks: map[uint32]*reception{}}
}

// register makes r the reception of the track sent with ssrc.
func (t *tap) register(ssrc uint32, r *reception) {
	t.mu.Lock()
	t.tracks[ssrc] = r
	t.mu.Unlock()
}

// setRTCPWriter gives the tap the subscriber's connection to ask for
// retransmissions on.
func (t *tap) setRTCPWriter(write func([]rtcp.Packet) error) {
	t.writeRTCP.Store(&write)
}

// count counts a datagram read from a socket when it is RTP of a tapped
// track, and reports whether it did.
func (t *tap) count(p []byte) bool {
	// RFC 7983: RTP and RTCP begin with 128–191; RTCP's packet types are
	// 192–223 (RFC 5761). An RTP header is at least 12 bytes.
	if len(p) < 12 || p[0] < 128 || p[0] > 191 || (p[1] >= 192 && p[1] <= 223) {
		return false
	}
	ssrc := binary.BigEndian.Uint32(p[8:12])
	t.mu.RLock()
	r := t.tracks[ssrc]
	t.mu.RUnlock()
	if r == nil || !r.tapped.Load() {
		t.passed.Add(1)
		return false
	}
	h := rtp.Header{SequenceNumber: binary.BigEndian.Uint16(p[2:4]), Timestamp: binary.BigEndian.Uint32(p[4:8])}
	now := time.Now()
	r.mu.Lock()
	missing := r.count(&h, now)
	r.mu.Unlock()
	t.counted.Add(1)
	if missing > 0 && missing <= maxNACKGap {
		t.nack(ssrc, h.SequenceNumber, missing)
	}
	return true
}

// nack asks for the missing sequence numbers just before seq again.
func (t *tap) nack(ssrc uint32, seq uint16, missing int) {
	write := t.writeRTCP.Load()
	if write == nil {
		return
	}
	seqs := make([]uint16, missing)
	for i := range seqs {
		seqs[i] = seq - uint16(missing-i)
	}
	// An error is a connection closing; the loss stays counted.
	if (*write)([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)}}) == nil {
		t.nacked.Add(int64(missing))
	}
}

// net returns base (the operating system's network) with UDP sockets that
// count the tap's tracks.
func (t *tap) net(base transport.Net) transport.Net {
	return &tapNet{Net: base, tap: t}
}

// tapNet is a network with tapped UDP sockets.
type tapNet struct {
	transport.Net
	tap *tap
}

// ListenUDP opens a UDP socket whose reads skip tapped datagrams.
func (n *tapNet) ListenUDP(network string, addr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, addr)
	if err != nil {
		return nil, err
	}
	udp, ok := c.(*net.UDPConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("tap: a UDP socket of type %T", c)
	}
	// Best effort (the kernel caps it at net.core.rmem_max): with Linux's
	// default, about 90 full-size datagrams, a subscriber's socket
	// overflowed whenever the load generator's goroutines waited a few
	// hundred milliseconds while hundreds joined, and a lost handshake
	// packet cost that join a retransmission timeout.
	_ = udp.SetReadBuffer(subscriberReadBuffer)
	return &tapConn{UDPConn: c, udp: udp, tap: n.tap}, nil
}

// subscriberReadBuffer is the receive buffer asked for a subscriber's socket.
const subscriberReadBuffer = 1 << 20

// tapConn is a UDP socket whose reads count and skip tapped datagrams.
// pion's ICE agent reads a wrapped socket with ReadFromAddrPort (it reads a
// plain one with ReadMsgUDPAddrPort, for ECN, which pion's interceptors here
// do not use); its other reads are not tapped.
type tapConn struct {
	transport.UDPConn
	udp *net.UDPConn
	tap *tap
}

// ReadFromAddrPort returns the next datagram that is not a tapped track's.
func (c *tapConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	for {
		n, addr, err := c.udp.ReadFromUDPAddrPort(p)
		c.tap.mark(p[:n], false)
		if err != nil || !c.tap.count(p[:n]) {
			return n, addr, err
		}
	}
}

// WriteToAddrPort writes a datagram to addr.
func (c *tapConn) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	c.tap.mark(p, true)
	return c.udp.WriteToUDPAddrPort(p, addr)
}

// WriteTo writes a datagram to addr.
func (c *tapConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	c.tap.mark(p, true)
	return c.udp.WriteTo(p, addr)
}

// ReadFrom returns the next datagram that is not a tapped track's.
func (c *tapConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.udp.ReadFrom(p)
		c.tap.mark(p[:n], false)
		if err != nil || !c.tap.count(p[:n]) {
			return n, addr, err
		}
	}
}
