package media

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestRawCallsOnlyOnIPv4: the shared port (an IPv4 socket) takes the raw
// system calls; a dual-stack socket keeps the net package's, and either
// reads a sender's address right. The control message's buffer is aligned
// for the header the GSO path writes into it.
func TestRawCallsOnlyOnIPv4(t *testing.T) {
	if c := newSendConn(listenUDP(t)); c.raw == nil {
		t.Error("an IPv4 socket does not take the raw calls")
	}
	if off := unsafe.Offsetof(rawOp{}.oob); off%unsafe.Alignof(unix.Cmsghdr{}) != 0 {
		t.Errorf("the control message's buffer is at offset %d, not aligned for its header", off)
	}
	dual, err := net.ListenUDP("udp", &net.UDPAddr{})
	if err != nil {
		t.Fatal(err)
	}
	defer dual.Close()
	c := newSendConn(dual)
	var family int
	raw, _ := dual.SyscallConn()
	raw.Control(func(fd uintptr) { family, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN) }) //nolint:errcheck // the socket is open
	if family == unix.AF_INET6 && c.raw != nil {
		t.Error("a dual-stack socket takes the raw calls, which speak IPv4 addresses only")
	}
	peer := listenUDP(t)
	to := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(dual.LocalAddr().(*net.UDPAddr).Port))
	if _, err := peer.WriteToUDPAddrPort([]byte("hello"), to); err != nil {
		t.Fatal(err)
	}
	dual.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck // the socket is open
	buf := make([]byte, 64)
	n, from, err := c.ReadFromAddrPort(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if want := peer.LocalAddr().(*net.UDPAddr).AddrPort(); from.Addr().Unmap() != want.Addr().Unmap() || from.Port() != want.Port() {
		t.Errorf("read from %v, want %v", from, want)
	}
}

// TestGSOStaysOnAfterASendsFailure: a segmented send that fails for a
// reason of its own (here the socket closed under it) is lost as a single
// datagram would be, and leaves GSO on; only the kernel's refusal to
// segment on the socket turns it off for good.
func TestGSOStaysOnAfterASendsFailure(t *testing.T) {
	u := listenUDP(t)
	c := newSendConn(u)
	if !c.gso.Load() {
		t.Fatal("this kernel does not segment UDP (UDP_SEGMENT, Linux 4.18): the test needs it")
	}
	u.Close()
	to := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 9)
	c.send(&heldSends{buf: make([]byte, 3*1000), sizes: []int{1000, 1000, 1000}}, to)
	if !c.gso.Load() {
		t.Error("a failed send on a closed socket turned GSO off for good")
	}
	for _, c := range []struct {
		err     error
		refused bool
	}{
		{&net.OpError{Op: "write", Net: "udp4", Err: os.NewSyscallError("sendmsg", unix.EIO)}, true},
		{unix.EOPNOTSUPP, true},
		{os.NewSyscallError("sendmsg", unix.ENOBUFS), false},
		{os.NewSyscallError("sendmsg", unix.EPERM), false},
		{os.NewSyscallError("sendmsg", unix.EINVAL), false},
		{os.ErrDeadlineExceeded, false},
		{net.ErrClosed, false},
	} {
		if got := segmentingRefused(c.err); got != c.refused {
			t.Errorf("segmentingRefused(%v) = %v, want %v", c.err, got, c.refused)
		}
	}
}

// rawSpy is a socket's RawConn that counts the functions it ran to the end,
// reads and writes apart: each such function made its system call (one
// that would have blocked is run again once the socket is ready, and counted
// then). RawConn runs them on the caller's goroutine.
type rawSpy struct {
	syscall.RawConn
	reads, writes int
}

func (s *rawSpy) Read(f func(fd uintptr) bool) error {
	return s.RawConn.Read(func(fd uintptr) bool {
		done := f(fd)
		if done {
			s.reads++
		}
		return done
	})
}

func (s *rawSpy) Write(f func(fd uintptr) bool) error {
	return s.RawConn.Write(func(fd uintptr) bool {
		done := f(fd)
		if done {
			s.writes++
		}
		return done
	})
}

// TestSharedPortCallsAreRaw: the engine's shared port takes the raw system
// calls, and on such a socket (IPv4, as the engine opens it) a write, a
// read and a held frame's segmented write each go through the socket's
// RawConn, one call a write or read, none by the net package's calls
// besides (the peer gets each datagram once).
func TestSharedPortCallsAreRaw(t *testing.T) {
	// Every interface's address, as the server's default port (":7882"):
	// a socket opened for both IP versions there would not take them.
	e, err := NewEngine(EngineConfig{Loopback: true, UDPAddr: ":0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.sends == nil || e.sends.raw == nil || e.sends.UDPConn != e.conn {
		t.Fatal("the engine's shared port does not take the raw system calls")
	}

	u := listenUDP(t)
	c := newSendConn(u)
	if c.raw == nil {
		t.Fatal("an IPv4 socket does not take the raw system calls")
	}
	spy := &rawSpy{RawConn: c.raw}
	c.raw = spy
	self := u.LocalAddr().(*net.UDPAddr).AddrPort()
	peer := listenUDP(t)
	peerAddr := peer.LocalAddr().(*net.UDPAddr).AddrPort()

	if n, err := c.WriteToAddrPort(datagram(1, 100), peerAddr); err != nil || n != 100 {
		t.Fatalf("write: %d, %v", n, err)
	}
	expect(t, peer, datagram(1, 100), "a write")
	if spy.writes != 1 {
		t.Errorf("a write made %d raw calls, want 1", spy.writes)
	}

	if _, err := peer.WriteToUDPAddrPort(datagram(2, 200), self); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	n, from, err := c.ReadFromAddrPort(buf)
	if err != nil || from != peerAddr || !bytes.Equal(buf[:n], datagram(2, 200)) {
		t.Fatalf("read %d bytes %q… from %v, %v; want 200 from %v", n, buf[:min(n, 3)], from, err, peerAddr)
	}
	if spy.reads != 1 {
		t.Errorf("a read made %d raw calls, want 1", spy.reads)
	}

	if !c.gso.Load() {
		t.Fatal("this kernel does not segment UDP (UDP_SEGMENT, Linux 4.18): the test needs it")
	}
	c.Hold(peerAddr)
	for i := range 3 {
		c.WriteToAddrPort(datagram(3+i, 1000), peerAddr)
	}
	c.Release(peerAddr)
	for i := range 3 {
		expect(t, peer, datagram(3+i, 1000), "a held datagram")
	}
	if !c.gso.Load() {
		t.Fatal("the kernel refused the segmented write")
	}
	if spy.writes != 2 {
		t.Errorf("a write and a held frame of three made %d raw calls, want 2 (the frame one segmented write)", spy.writes)
	}
	nothing(t, peer, "after the datagrams sent")
}
