package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// gsoSupported reports whether the kernel takes UDP_SEGMENT on the socket
// (Linux 4.18 and later).
func gsoSupported(c *net.UDPConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	_ = raw.Control(func(fd uintptr) {
		_, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_SEGMENT)
		ok = err == nil
	})
	return ok
}

// The shared port's reads and writes are system calls that tell the Go
// runtime nothing (unix.RawSyscall), made through the socket's RawConn, which
// keeps the descriptor open meanwhile and, when the kernel would block
// (EAGAIN), waits in the network poller as the net package does. The socket
// is non-blocking, so no such call blocks: what the runtime's entersyscall
// and exitsyscall would do around each, to let other goroutines run while a
// call blocks, is wasted on them, and worse, the first after the program was
// idle wakes the runtime's monitor thread (sysmon), which then polls every
// 20 µs on the server's core and preempts it (docs/benchmarks.md). The server
// sends tens of thousands of datagrams a second through this socket and can
// go idle between hand-outs: each burst used to start with such a wake-up.

// rawConn returns the socket's RawConn, or nil when it has none or is not
// an IPv4 socket (the raw calls speak IPv4 addresses only; another socket
// keeps the net package's calls).
func rawConn(c *net.UDPConn) syscall.RawConn {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	domain, serr := -1, error(nil)
	if err := raw.Control(func(fd uintptr) {
		domain, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
	}); err != nil || serr != nil || domain != unix.AF_INET {
		return nil
	}
	return raw
}

// rawOp holds one raw system call's arguments and results, and the
// functions RawConn runs with them, made once: a closure made for each call
// would be allocated for each.
type rawOp struct {
	b     []byte
	sa    unix.RawSockaddrInet4
	salen uint32
	msg   unix.Msghdr
	iov   unix.Iovec
	oob   [unix.SizeofCmsghdr + 8]byte
	n     int
	errno syscall.Errno

	sendto, sendmsg, recvfrom func(fd uintptr) bool
}

func (c *sendConn) op() *rawOp {
	if op, ok := c.ops.Get().(*rawOp); ok {
		return op
	}
	op := &rawOp{}
	op.sendto = op.doSendto
	op.sendmsg = op.doSendmsg
	op.recvfrom = op.doRecvfrom
	return op
}

func (c *sendConn) done(op *rawOp) {
	op.b, op.iov.Base, op.msg.Control = nil, nil, nil
	c.ops.Put(op)
}

// to sets the destination, reporting false for one that is not IPv4 (the
// shared port is an IPv4 socket).
func (op *rawOp) to(to netip.AddrPort) bool {
	a := to.Addr().Unmap()
	if !a.Is4() {
		return false
	}
	op.sa = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.As4()}
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&op.sa.Port))[:], to.Port())
	return true
}

// The do functions return false when the kernel would block: RawConn then
// waits for the socket to be ready and calls them again.

func (op *rawOp) doSendto(fd uintptr) bool {
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(unsafe.SliceData(op.b))), uintptr(len(op.b)),
			0, uintptr(unsafe.Pointer(&op.sa)), unix.SizeofSockaddrInet4)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		op.n, op.errno = int(n), e
		return true
	}
}

func (op *rawOp) doSendmsg(fd uintptr) bool {
	for {
		n, _, e := unix.RawSyscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&op.msg)), 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		op.n, op.errno = int(n), e
		return true
	}
}

func (op *rawOp) doRecvfrom(fd uintptr) bool {
	for {
		op.salen, op.sa.Family = unix.SizeofSockaddrInet4, 0 // no earlier call's address
		n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(unsafe.SliceData(op.b))), uintptr(len(op.b)),
			0, uintptr(unsafe.Pointer(&op.sa)), uintptr(unsafe.Pointer(&op.salen)))
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		op.n, op.errno = int(n), e
		return true
	}
}

// writeTo sends a datagram, as WriteToUDPAddrPort does.
func (c *sendConn) writeTo(b []byte, to netip.AddrPort) (int, error) {
	if c.raw == nil || len(b) == 0 {
		return c.WriteToUDPAddrPort(b, to)
	}
	op := c.op()
	defer c.done(op)
	if !op.to(to) {
		return c.WriteToUDPAddrPort(b, to)
	}
	op.b = b
	if err := c.raw.Write(op.sendto); err != nil {
		return 0, c.opError("write", to, err)
	}
	if op.errno != 0 {
		return 0, c.opError("write", to, os.NewSyscallError("sendto", op.errno))
	}
	return op.n, nil
}

// readFrom reads a datagram, as ReadFromUDPAddrPort does.
func (c *sendConn) readFrom(b []byte) (int, netip.AddrPort, error) {
	if c.raw == nil || len(b) == 0 {
		return c.ReadFromUDPAddrPort(b)
	}
	op := c.op()
	defer c.done(op)
	op.b = b
	if err := c.raw.Read(op.recvfrom); err != nil {
		return 0, netip.AddrPort{}, c.opError("read", netip.AddrPort{}, err)
	}
	if op.errno != 0 {
		return 0, netip.AddrPort{}, c.opError("read", netip.AddrPort{}, os.NewSyscallError("recvfrom", op.errno))
	}
	if op.sa.Family != unix.AF_INET || op.salen != unix.SizeofSockaddrInet4 {
		// An IPv4 socket always says where from (rawConn checks it is one).
		return 0, netip.AddrPort{}, c.opError("read", netip.AddrPort{}, fmt.Errorf("recvfrom: a sender's address of family %d, %d bytes", op.sa.Family, op.salen))
	}
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&op.sa.Port))[:])
	return op.n, netip.AddrPortFrom(netip.AddrFrom4(op.sa.Addr), port), nil
}

// opError wraps err as the net package does a socket's (RawConn's own
// errors are net.OpErrors already: what they wrap is taken).
func (c *sendConn) opError(op string, to netip.AddrPort, err error) error {
	if oe, ok := errors.AsType[*net.OpError](err); ok {
		err = oe.Err
	}
	e := &net.OpError{Op: op, Net: "udp4", Source: c.LocalAddr(), Err: err}
	if to.IsValid() {
		e.Addr = net.UDPAddrFromAddrPort(to)
	}
	return e
}

// writeSegments sends b as datagrams of size bytes each (the last may be
// shorter) in one system call, the kernel cutting it up (UDP GSO). It
// reports whether it sent them and, when not, whether the kernel refuses to
// segment on this socket at all (see segmentingRefused).
func (c *sendConn) writeSegments(b []byte, size int, to netip.AddrPort) (sent, refused bool) {
	op := c.op()
	defer c.done(op)
	h := (*unix.Cmsghdr)(unsafe.Pointer(&op.oob[0]))
	h.Level, h.Type = unix.IPPROTO_UDP, unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	binary.NativeEndian.PutUint16(op.oob[unix.CmsgLen(0):], uint16(size))
	if c.raw == nil || !op.to(to) {
		_, _, err := c.WriteMsgUDPAddrPort(b, op.oob[:unix.CmsgSpace(2)], to)
		return err == nil, segmentingRefused(err)
	}
	op.iov.Base = unsafe.SliceData(b)
	op.iov.SetLen(len(b))
	op.msg = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&op.sa)), Namelen: unix.SizeofSockaddrInet4, Iov: &op.iov, Iovlen: 1,
		Control: &op.oob[0]}
	op.msg.SetControllen(unix.CmsgSpace(2))
	if err := c.raw.Write(op.sendmsg); err != nil {
		return false, false // closed, or past a deadline: not the kernel's refusal
	}
	return op.errno == 0, segmentingRefused(op.errno)
}

// segmentingRefused reports whether a segmented send's error says the
// kernel will not segment on this socket at all: EIO when the route's device
// cannot compute the checksums (or the datagram would be transformed),
// EOPNOTSUPP or ENOPROTOOPT without the option. Other errors (a full
// buffer, a firewall's EPERM, EINVAL for one destination whose path is
// narrower than a segment, a deadline) are a send's, as a single datagram's
// would be, and leave GSO on for the next.
func segmentingRefused(err error) bool {
	return errors.Is(err, unix.EIO) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOPROTOOPT)
}
