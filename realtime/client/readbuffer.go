package client

import (
	"fmt"
	"net"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// readBufferNet is a network whose UDP sockets ask the kernel for a receive
// buffer of size bytes (Options.ReadBuffer).
type readBufferNet struct {
	transport.Net
	size int
}

// withReadBuffer returns base, or the operating system's network when base
// is nil, with UDP sockets of a size-byte receive buffer.
func withReadBuffer(base transport.Net, size int) (transport.Net, error) {
	if base == nil {
		std, err := stdnet.NewNet()
		if err != nil {
			return nil, fmt.Errorf("client: the network: %w", err)
		}
		base = std
	}
	return &readBufferNet{Net: base, size: size}, nil
}

// ListenUDP opens a UDP socket and sets its receive buffer, as far as the
// kernel allows (net.core.rmem_max caps it). The socket is returned as it
// is, so that pion reads it as it would unwrapped.
func (n *readBufferNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	if b, ok := c.(interface{ SetReadBuffer(int) error }); ok {
		_ = b.SetReadBuffer(n.size) // best effort, as the server's shared port
	}
	return c, nil
}
