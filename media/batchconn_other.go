//go:build !linux

package media

import (
	"net"

	"golang.org/x/net/ipv4"
)

// batchWriter sends datagrams with x/net's WriteBatch: one at a time where
// the system has no sendmmsg.
type batchWriter struct {
	pc    *ipv4.PacketConn
	msgs  []ipv4.Message
	addrs []net.UDPAddr
}

func newBatchWriter(c *net.UDPConn) batchWriter {
	return batchWriter{pc: ipv4.NewPacketConn(c)}
}

// write sends the longest prefix of ds the system takes in one call and
// says how many went; an error is the first refused datagram's.
func (w *batchWriter) write(ds []datagram) (int, error) {
	for len(w.msgs) < len(ds) {
		w.msgs = append(w.msgs, ipv4.Message{Buffers: make([][]byte, 1)})
		w.addrs = append(w.addrs, net.UDPAddr{})
	}
	ms := w.msgs[:len(ds)]
	for i := range ds {
		a := &w.addrs[i]
		ip := ds[i].dst.Addr()
		if ip.Is4() || ip.Is4In6() {
			b := ip.As4()
			a.IP = append(a.IP[:0], b[:]...)
		} else {
			b := ip.As16()
			a.IP = append(a.IP[:0], b[:]...)
		}
		a.Port, a.Zone = int(ds[i].dst.Port()), ip.Zone()
		ms[i].Buffers[0] = ds[i].b
		ms[i].Addr = a
	}
	return w.pc.WriteBatch(ms, 0)
}
