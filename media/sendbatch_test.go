package media

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// listenUDP returns a loopback UDP socket, closed when the test ends.
func listenUDP(tb testing.TB) *net.UDPConn {
	tb.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// datagram returns a datagram of n bytes that says which it is.
func datagram(i, n int) []byte {
	b := bytes.Repeat([]byte{byte(i)}, n)
	copy(b, fmt.Sprintf("%03d", i))
	return b
}

// expect fails the test unless the next datagram r reads within 2 s is want.
func expect(t *testing.T, r *net.UDPConn, want []byte, what string) {
	t.Helper()
	buf := make([]byte, 65536)
	r.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := r.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !bytes.Equal(buf[:n], want) {
		t.Fatalf("%s: %d bytes %q…, want %d bytes %q…", what, n, buf[:min(n, 3)], len(want), want[:min(len(want), 3)])
	}
}

// nothing fails the test if r reads a datagram within 100 ms.
func nothing(t *testing.T, r *net.UDPConn, what string) {
	t.Helper()
	buf := make([]byte, 65536)
	r.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := r.ReadFromUDP(buf); err == nil {
		t.Fatalf("%s: a datagram of %d bytes arrived", what, n)
	}
}

// TestSendConnHold: datagrams sent to a held address are kept until it is
// released, then arrive one by one as sent, whatever their sizes (runs of
// equal size with a shorter one after, sent segmented where the kernel can);
// those to an address nobody holds go out at once.
func TestSendConnHold(t *testing.T) {
	for _, gso := range []bool{true, false} {
		t.Run(fmt.Sprintf("gso=%v", gso), func(t *testing.T) {
			c := newSendConn(listenUDP(t))
			if gso && !c.gso.Load() {
				t.Skip("the kernel does not segment UDP (UDP_SEGMENT)")
			}
			c.gso.Store(gso)
			held, other := listenUDP(t), listenUDP(t)
			to := held.LocalAddr().(*net.UDPAddr).AddrPort()
			sizes := []int{1100, 1100, 1100, 1100, 1100, 700, 80, 1200, 1200, 1200, 1300}
			c.Hold(to)
			for i, n := range sizes {
				if got, err := c.WriteToAddrPort(datagram(i, n), to); err != nil || got != n {
					t.Fatalf("write %d: %d, %v", i, got, err)
				}
			}
			if _, err := c.WriteTo(datagram(99, 50), other.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			expect(t, other, datagram(99, 50), "the address nobody holds")
			nothing(t, held, "before the release")
			c.Release(to)
			for i, n := range sizes {
				expect(t, held, datagram(i, n), fmt.Sprint("datagram ", i))
			}
			if gso && !c.gso.Load() {
				t.Fatal("the kernel refused the segmented writes")
			}
			if _, err := c.WriteToAddrPort(datagram(7, 10), to); err != nil {
				t.Fatal(err)
			}
			expect(t, held, datagram(7, 10), "after the release")
		})
	}
}

// TestSendConnNestedHolds: two writers holding one address (a subscriber's
// audio and video): each release sends what was kept until then, and
// nothing is kept once both released.
func TestSendConnNestedHolds(t *testing.T) {
	c := newSendConn(listenUDP(t))
	held := listenUDP(t)
	to := held.LocalAddr().(*net.UDPAddr).AddrPort()
	c.Hold(to)
	c.Hold(to)
	c.WriteToAddrPort(datagram(1, 100), to)
	c.Release(to)
	c.WriteToAddrPort(datagram(2, 100), to)
	expect(t, held, datagram(1, 100), "first release")
	nothing(t, held, "while the second writer holds")
	c.Release(to)
	expect(t, held, datagram(2, 100), "second release")
	if len(c.held) != 0 {
		t.Fatalf("%d addresses still held", len(c.held))
	}
}

// TestSendConnFull: past maxHeld datagrams, what is kept goes out at once,
// in order, without waiting for the release.
func TestSendConnFull(t *testing.T) {
	c := newSendConn(listenUDP(t))
	held := listenUDP(t)
	held.SetReadBuffer(1 << 20)
	to := held.LocalAddr().(*net.UDPAddr).AddrPort()
	c.Hold(to)
	defer c.Release(to)
	for i := range maxHeld + 1 {
		c.WriteToAddrPort(datagram(i, 200), to)
	}
	for i := range maxHeld + 1 {
		expect(t, held, datagram(i, 200), fmt.Sprint("datagram ", i))
	}
}

// BenchmarkSendFrame sends a video frame (six datagrams of 1,100 bytes) to
// each of 50 loopback receivers, one write each ("one-by-one") or held and
// released ("held", segmented by the kernel where it can; "held-no-gso",
// one write each after all). Nobody reads the receivers' sockets, so that
// the process's CPU time is the sender's alone (the kernel's delivery into
// them included, as on loopback it is charged to the sender); cpu-ns/datagram
// is that time a datagram, which other work on the machine does not inflate
// as it does ns/op.
func BenchmarkSendFrame(b *testing.B) {
	const receivers, perFrame, size = 50, 6, 1100
	for _, mode := range []string{"one-by-one", "held", "held-no-gso"} {
		b.Run(mode, func(b *testing.B) {
			c := newSendConn(listenUDP(b))
			if mode == "held-no-gso" {
				c.gso.Store(false)
			}
			var tos []netip.AddrPort
			for range receivers {
				tos = append(tos, listenUDP(b).LocalAddr().(*net.UDPAddr).AddrPort())
			}
			frame := datagram(1, size)
			b.SetBytes(size)
			b.ResetTimer()
			cpu := cpuTime(b)
			n := 0
			for n < b.N {
				for _, to := range tos {
					if mode != "one-by-one" {
						c.Hold(to)
					}
					for range perFrame {
						c.WriteToAddrPort(frame, to)
					}
					if mode != "one-by-one" {
						c.Release(to)
					}
					n += perFrame
				}
			}
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(n), "cpu-ns/datagram")
		})
	}
}

// cpuTime is the process's user and system CPU time.
func cpuTime(tb testing.TB) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
