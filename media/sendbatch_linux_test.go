package media

import (
	"net"
	"net/netip"
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
