//go:build !linux

package media

import (
	"net"
	"net/netip"
)

// gsoSupported reports false: UDP GSO is Linux's.
func gsoSupported(*net.UDPConn) bool { return false }

// writeSegments is never called where gsoSupported is false.
func (c *sendConn) writeSegments([]byte, int, netip.AddrPort) bool { return false }
