package media

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
)

// SendBatcher lets a writer that has several packets for one destination
// send them together: between Hold and Release, whatever the media port is
// asked to send to that address is kept, and Release sends it, where the
// kernel allows in one system call per run of equal-sized datagrams (UDP
// GSO). Every Hold must be followed by a Release of the same address; holds
// of one address by several writers nest, and the datagrams kept go out at
// each Release. Nothing is kept for an address nobody holds.
type SendBatcher interface {
	Hold(to netip.AddrPort)
	Release(to netip.AddrPort)
}

// maxHeld bounds the datagrams kept for one address: one more sends them
// without waiting for Release.
const maxHeld = 64

// sendConn is the shared media port as pion's UDP mux sees it: the UDP
// socket, whose writes to an address a writer holds are kept until it
// releases them (SendBatcher). Reads pass through. It implements pion's
// AddrPortReaderWriter, so that the mux writes to it without allocating.
type sendConn struct {
	*net.UDPConn
	gso atomic.Bool // the kernel segments a datagram by UDP_SEGMENT
	// holding counts the addresses in held, so that a write while nobody
	// holds any (most of them: RTCP, ICE, DTLS, and every packet but a
	// frame's) skips the lock and the lookup. A write racing a Hold of its
	// address by another goroutine may go out at once: either order is one
	// a scheduler could have chosen.
	holding atomic.Int32

	mu   sync.Mutex
	held map[netip.AddrPort]*heldSends
	free []*heldSends

	// raw is the socket's file descriptor, for system calls that tell the
	// runtime nothing (see sendbatch_linux.go); nil where there are none.
	raw syscall.RawConn
	ops sync.Pool // of *rawOp, the arguments of one such call
}

// heldSends is what is kept for one address.
type heldSends struct {
	holders int
	buf     []byte // the datagrams, back to back
	sizes   []int
}

func newSendConn(c *net.UDPConn) *sendConn {
	s := &sendConn{UDPConn: c, held: map[netip.AddrPort]*heldSends{}}
	s.gso.Store(gsoSupported(c))
	s.raw = rawConn(c)
	return s
}

// ReadFromAddrPort reads a datagram.
func (c *sendConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	return c.readFrom(b)
}

// WriteToAddrPort sends a datagram, or keeps it while its address is held.
func (c *sendConn) WriteToAddrPort(b []byte, to netip.AddrPort) (int, error) {
	if c.holding.Load() == 0 {
		return c.writeTo(b, to)
	}
	c.mu.Lock()
	h := c.held[to]
	if h == nil {
		c.mu.Unlock()
		return c.writeTo(b, to)
	}
	if len(h.sizes) >= maxHeld {
		// Full: what is kept goes now, before this one, in order.
		out := &heldSends{buf: h.buf, sizes: h.sizes}
		h.buf, h.sizes = nil, nil
		c.mu.Unlock()
		c.send(out, to)
		return c.writeTo(b, to)
	}
	h.buf = append(h.buf, b...)
	h.sizes = append(h.sizes, len(b))
	c.mu.Unlock()
	return len(b), nil
}

// WriteTo is WriteToAddrPort for a net.Addr.
func (c *sendConn) WriteTo(b []byte, to net.Addr) (int, error) {
	if u, ok := to.(*net.UDPAddr); ok {
		return c.WriteToAddrPort(b, u.AddrPort())
	}
	return c.UDPConn.WriteTo(b, to)
}

// Hold starts keeping the datagrams sent to an address.
func (c *sendConn) Hold(to netip.AddrPort) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.held[to]
	if h == nil {
		if n := len(c.free); n > 0 {
			h, c.free = c.free[n-1], c.free[:n-1]
		} else {
			h = &heldSends{}
		}
		c.held[to] = h
		c.holding.Add(1)
	}
	h.holders++
}

// Release sends what is kept for an address; when nobody else holds it, it
// stops keeping.
func (c *sendConn) Release(to netip.AddrPort) {
	c.mu.Lock()
	h := c.held[to]
	if h == nil {
		c.mu.Unlock()
		return
	}
	h.holders--
	out := &heldSends{buf: h.buf, sizes: h.sizes}
	if h.holders > 0 {
		// Another writer still holds the address: what it writes from
		// now on is kept anew.
		h.buf, h.sizes = nil, nil
		c.mu.Unlock()
		c.send(out, to)
		return
	}
	delete(c.held, to)
	c.holding.Add(-1)
	c.mu.Unlock()
	c.send(out, to)
	h.buf, h.sizes = h.buf[:0], h.sizes[:0]
	c.mu.Lock()
	c.free = append(c.free, h)
	c.mu.Unlock()
}

// send writes the datagrams kept: a run of equal-sized ones, and one
// shorter after them, in one system call when the kernel segments them,
// else one by one. Errors are a lost datagram's, as a single write's would be
// to the forwarder that ignores them.
func (c *sendConn) send(h *heldSends, to netip.AddrPort) {
	off := 0
	for i := 0; i < len(h.sizes); {
		size := h.sizes[i]
		j, total := i+1, size
		if c.gso.Load() {
			for j < len(h.sizes) && h.sizes[j] == size && total+size <= maxGSOBytes {
				total += size
				j++
			}
			if j < len(h.sizes) && h.sizes[j] < size && total+h.sizes[j] <= maxGSOBytes {
				total += h.sizes[j]
				j++
			}
		}
		if j-i == 1 {
			_, _ = c.writeTo(h.buf[off:off+size], to)
		} else if sent, refused := c.writeSegments(h.buf[off:off+total], size, to); !sent {
			// One by one this time; from now on too when the kernel
			// refuses to segment on this socket (a device without
			// checksum offload, say), not after a send's own failure.
			if refused {
				c.gso.Store(false)
			}
			for k, o := i, off; k < j; k++ {
				_, _ = c.writeTo(h.buf[o:o+h.sizes[k]], to)
				o += h.sizes[k]
			}
		}
		off += total
		i = j
	}
}

// maxGSOBytes bounds one segmented write: an IP datagram's payload.
const maxGSOBytes = 65000
