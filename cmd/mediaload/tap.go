package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// tap counts subscribers' media at their sockets instead of in pion.
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
// one core of server sends and the server is what saturates. What the
// subscriber no longer does for a tapped track: ask for retransmissions
// (pion's NACK generator no longer sees its packets; a lost packet stays
// lost, which makes the loss figures stricter) and report reception in its
// RTCP receiver reports (which the classroom server ignores).
type tap struct {
	mu     sync.RWMutex
	tracks map[uint32]*reception // by the SSRC the server sends it with
	clash  map[uint32]bool       // SSRCs two tracks were sent with: never tapped

	counted atomic.Int64 // RTP datagrams counted at a socket
	passed  atomic.Int64 // RTP datagrams handed to pion
}

func newTap() *tap {
	return &tap{tracks: map[uint32]*reception{}, clash: map[uint32]bool{}}
}

// register makes r the reception of the track sent with ssrc. Two tracks
// with one SSRC (two subscribers' senders drew the same random number) are
// never tapped: both stay with pion.
func (t *tap) register(ssrc uint32, r *reception) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.clash[ssrc] {
		return
	}
	if _, ok := t.tracks[ssrc]; ok {
		delete(t.tracks, ssrc)
		t.clash[ssrc] = true
		return
	}
	t.tracks[ssrc] = r
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
	r.count(&h, now)
	r.mu.Unlock()
	t.counted.Add(1)
	return true
}

// net returns a network like the operating system's whose UDP sockets
// count tapped tracks' datagrams.
func (t *tap) net() (transport.Net, error) {
	std, err := stdnet.NewNet()
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	return &tapNet{Net: std, tap: t}, nil
}

// tapNet is the operating system's network with tapped UDP sockets.
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
		return nil, fmt.Errorf("tap: a UDP socket of type %T", c)
	}
	return &tapConn{UDPConn: c, udp: udp, tap: n.tap}, nil
}

// tapConn is a UDP socket whose reads count and skip tapped datagrams. It
// reads as pion's ICE agent reads a plain socket (ReadFromAddrPort), so that
// the untapped path costs what it costs without the tap.
type tapConn struct {
	transport.UDPConn
	udp *net.UDPConn
	tap *tap
}

// ReadFromAddrPort returns the next datagram that is not a tapped track's.
func (c *tapConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	for {
		n, addr, err := c.udp.ReadFromUDPAddrPort(p)
		if err != nil || !c.tap.count(p[:n]) {
			return n, addr, err
		}
	}
}

// WriteToAddrPort writes a datagram to addr.
func (c *tapConn) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	return c.udp.WriteToUDPAddrPort(p, addr)
}

// ReadFrom returns the next datagram that is not a tapped track's.
func (c *tapConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.udp.ReadFrom(p)
		if err != nil || !c.tap.count(p[:n]) {
			return n, addr, err
		}
	}
}
