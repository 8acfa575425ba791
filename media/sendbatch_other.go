//go:build !linux

package media

import (
	"net"
	"net/netip"
	"syscall"
)

// gsoSupported reports false: UDP GSO is Linux's.
func gsoSupported(*net.UDPConn) bool { return false }

// writeSegments is never called where gsoSupported is false.
func (c *sendConn) writeSegments([]byte, int, netip.AddrPort) (sent, refused bool) {
	return false, true
}

// rawConn returns nil: the net package's calls are used.
func rawConn(*net.UDPConn) syscall.RawConn { return nil }

func (c *sendConn) writeTo(b []byte, to netip.AddrPort) (int, error) {
	return c.WriteToUDPAddrPort(b, to)
}

func (c *sendConn) readFrom(b []byte) (int, netip.AddrPort, error) { return c.ReadFromUDPAddrPort(b) }
