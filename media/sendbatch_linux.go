package media

import (
	"encoding/binary"
	"net"
	"net/netip"
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

// writeSegments sends b as datagrams of size bytes each (the last may be
// shorter) in one system call, the kernel cutting it up (UDP GSO).
func (c *sendConn) writeSegments(b []byte, size int, to netip.AddrPort) bool {
	var oob [unix.SizeofCmsghdr + 8]byte
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level, h.Type = unix.IPPROTO_UDP, unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	binary.NativeEndian.PutUint16(oob[unix.CmsgLen(0):], uint16(size))
	_, _, err := c.WriteMsgUDPAddrPort(b, oob[:unix.CmsgSpace(2)], to)
	return err == nil
}
