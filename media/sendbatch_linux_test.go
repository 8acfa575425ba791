package media

import (
	"net"
	"net/netip"
	"os"
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
