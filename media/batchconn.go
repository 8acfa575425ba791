package media

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// maxBatch is the number of queued datagrams a batchConn sends in one
// sendmmsg call, and the queue length at which a writer sends them at once
// instead of waiting for the hold to end. Past a few dozen messages the
// system call's fixed cost is already shared out, while a longer queue only
// delays its first datagram and costs memory: a batch of 64 full-size
// datagrams (96 KB) fits in Linux's default socket send buffer (208 KB), so
// sending it rarely waits for room, and the two queues hold under 200 KB.
const maxBatch = 64

// datagramSize is the buffer a queued datagram is first given: an Ethernet
// MTU, which every RTP packet pion sends fits.
const datagramSize = 1500

// datagram is a queued write. Its buffers are reused by later writes.
type datagram struct {
	b   []byte
	dst netip.AddrPort
}

// batchConn is the shared media socket, sending datagrams in batches (one
// sendmmsg system call for many of them on Linux) while the forwarding code
// holds it, and one at a time, at once, otherwise.
//
// Between hold and the matching release, writes from any goroutine are
// copied into a queue and reported written; the queue is sent when it
// reaches maxBatch datagrams and at every release. Datagrams leave in the
// order their writes returned. A queued datagram the kernel refuses is lost,
// as UDP may lose any datagram: its write has already returned, so it is
// only counted (see stats).
//
// batchConn implements net.PacketConn and pion's ice.AddrPortReaderWriter,
// which pion's UDP mux uses for all it sends, media included, when its
// connection offers it.
type batchConn struct {
	conn *net.UDPConn

	// holds counts the holds not yet released.
	holds atomic.Int64
	// unsent counts the datagrams queued or being sent. A write that finds
	// it non-zero queues its datagram even without a hold, so as not to
	// overtake them.
	unsent atomic.Int64

	// mu guards pending and closed. It is held only to append to or take
	// the queue, never across a system call.
	mu      sync.Mutex
	pending []datagram
	closed  bool

	// sendMu is held while the queue is taken and sent, so that one
	// sender's datagrams cannot overtake another's. It guards sending and
	// out.
	sendMu  sync.Mutex
	sending []datagram // the queue taken, its slots reused as the next pending
	out     batchWriter

	sent    atomic.Uint64 // datagrams the kernel took, batched or not
	batches atomic.Uint64 // sendmmsg calls
	failed  atomic.Uint64 // datagrams refused (by the kernel or after Close) or dropped by Close
}

// newBatchConn returns c, batching while held. Closing the batchConn closes c.
func newBatchConn(c *net.UDPConn) *batchConn {
	return &batchConn{conn: c, out: newBatchWriter(c)}
}

// hold starts queueing writes, until the matching release. Holds may
// overlap, from any goroutines.
func (c *batchConn) hold() { c.holds.Add(1) }

// release ends a hold and sends every datagram queued, even if other holds
// remain, so that a datagram waits at most for the end of one burst. It
// panics without a matching hold.
func (c *batchConn) release() {
	if c.holds.Add(-1) < 0 {
		panic("media: batchConn release without hold")
	}
	if c.unsent.Load() > 0 {
		c.flush()
	}
}

// stats returns the numbers of datagrams the kernel took (batched or not),
// of sendmmsg calls made, and of datagrams refused (by the kernel or after
// Close) or dropped by Close.
func (c *batchConn) stats() (sent, batches, failed uint64) {
	return c.sent.Load(), c.batches.Load(), c.failed.Load()
}

// WriteToAddrPort sends b to addr, or queues a copy of it while the
// connection is held. A queued write returns len(b) and no error.
func (c *batchConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if c.holds.Load() == 0 && c.unsent.Load() == 0 {
		return c.direct(c.conn.WriteToUDPAddrPort(b, addr))
	}
	return c.enqueue(b, addr)
}

// WriteTo is WriteToAddrPort for an addr of type *net.UDPAddr; other
// types are refused as *net.UDPConn refuses them.
func (c *batchConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || (c.holds.Load() == 0 && c.unsent.Load() == 0) {
		return c.direct(c.conn.WriteTo(b, addr))
	}
	return c.enqueue(b, ua.AddrPort())
}

// direct counts a datagram written without a batch.
func (c *batchConn) direct(n int, err error) (int, error) {
	if err != nil {
		c.failed.Add(1)
	} else {
		c.sent.Add(1)
	}
	return n, err
}

// enqueue queues a copy of b for addr and sends the queue if it is full or
// if no hold remains to send it.
func (c *batchConn) enqueue(b []byte, addr netip.AddrPort) (int, error) {
	if !addr.IsValid() {
		c.failed.Add(1)
		return 0, c.writeError(addr, errors.New("invalid address"))
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.failed.Add(1)
		return 0, c.writeError(addr, net.ErrClosed)
	}
	var d *datagram
	if n := len(c.pending); n < cap(c.pending) {
		c.pending = c.pending[:n+1]
		d = &c.pending[n]
	} else {
		c.pending = append(c.pending, datagram{})
		d = &c.pending[n]
	}
	if cap(d.b) < len(b) {
		d.b = make([]byte, 0, max(len(b), datagramSize))
	}
	d.b = append(d.b[:0], b...)
	d.dst = addr
	full := len(c.pending) >= maxBatch
	c.unsent.Add(1)
	c.mu.Unlock()
	// A release between the caller's look at holds and the append above
	// may have taken the queue without this datagram: if no hold remains,
	// nobody else will send it.
	if full || c.holds.Load() == 0 {
		c.flush()
	}
	return len(b), nil
}

func (c *batchConn) writeError(addr netip.AddrPort, err error) error {
	return &net.OpError{Op: "write", Net: "udp", Source: c.conn.LocalAddr(), Addr: net.UDPAddrFromAddrPort(addr), Err: err}
}

// flush sends every datagram queued, in order, waiting for any send in
// progress to end first.
func (c *batchConn) flush() {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	c.mu.Lock()
	c.pending, c.sending = c.sending[:0], c.pending
	c.mu.Unlock()
	for ds := c.sending; len(ds) > 0; {
		k := min(len(ds), maxBatch)
		c.send(ds[:k])
		ds = ds[k:]
	}
	c.unsent.Add(-int64(len(c.sending)))
}

// send writes ds with as few system calls as the kernel allows, skipping a
// datagram it refuses. It is called with sendMu held.
func (c *batchConn) send(ds []datagram) {
	for len(ds) > 0 {
		n, err := c.out.write(ds)
		c.batches.Add(1)
		n = max(n, 0)
		c.sent.Add(uint64(n))
		ds = ds[n:]
		switch {
		case n > 0:
			// The rest next time round; an error would be the next one's.
		case errors.Is(err, net.ErrClosed), errors.Is(err, os.ErrDeadlineExceeded):
			// The socket takes no more: drop the lot.
			c.failed.Add(uint64(len(ds)))
			return
		default:
			// The kernel refused the first (or, without an error,
			// took none): skip it and send the rest.
			c.failed.Add(1)
			ds = ds[1:]
		}
	}
}

// Close drops the datagrams queued and closes the socket. Writes return an
// error from then on.
func (c *batchConn) Close() error {
	c.mu.Lock()
	c.closed = true
	if n := len(c.pending); n > 0 {
		c.failed.Add(uint64(n))
		c.unsent.Add(-int64(n))
		c.pending = c.pending[:0]
	}
	c.mu.Unlock()
	return c.conn.Close()
}

// ReadFromAddrPort reads a datagram from the socket.
func (c *batchConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	return c.conn.ReadFromUDPAddrPort(b)
}

// ReadFrom reads a datagram from the socket.
func (c *batchConn) ReadFrom(b []byte) (int, net.Addr, error) { return c.conn.ReadFrom(b) }

// LocalAddr returns the socket's address, a *net.UDPAddr.
func (c *batchConn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// SetDeadline sets the socket's read and write deadlines. A write deadline
// applies to writes sent at once and to batches, not to queueing.
func (c *batchConn) SetDeadline(t time.Time) error { return c.conn.SetDeadline(t) }

// SetReadDeadline sets the socket's read deadline.
func (c *batchConn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// SetWriteDeadline sets the socket's write deadline; see SetDeadline.
func (c *batchConn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }
