package media

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"
)

// listenUDP returns a loopback UDP socket, closed when the test ends, on a
// port whose two bytes differ: a port read or written in the wrong byte
// order is then another port, so that the tests see it every run (the
// kernel's ephemeral ports have equal bytes once in 256).
func listenUDP(tb testing.TB) *net.UDPConn {
	tb.Helper()
	for range 100 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			tb.Fatal(err)
		}
		// One with equal bytes stays open until the test ends, so that the
		// kernel picks another next.
		tb.Cleanup(func() { c.Close() })
		if p := c.LocalAddr().(*net.UDPAddr).Port; p>>8 != p&0xff {
			return c
		}
	}
	tb.Fatal("100 ports in a row with equal bytes")
	return nil
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
// as it does ns/op (reported where cpuTime knows it: Unix systems).
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
			cpu, cpuKnown := cpuTime(b)
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
			if end, _ := cpuTime(b); cpuKnown {
				b.ReportMetric(float64(end-cpu)/float64(n), "cpu-ns/datagram")
			}
		})
	}
}

// TestSendConnReadWrite: the shared port's own reads and writes (raw system
// calls on Linux) read what peers send with their addresses, waiting for a
// datagram when none has come; write to plain and IPv4-mapped addresses;
// honour read deadlines; end with net.ErrClosed once the port is closed,
// also a read waiting then (which ends the UDP mux's read loop); and
// allocate nothing a datagram.
func TestSendConnReadWrite(t *testing.T) {
	u := listenUDP(t)
	c := newSendConn(u)
	if runtime.GOOS == "linux" && c.raw == nil {
		t.Fatal("no raw access to the socket on Linux")
	}
	self := u.LocalAddr().(*net.UDPAddr).AddrPort()
	peer := listenUDP(t)
	peerAddr := peer.LocalAddr().(*net.UDPAddr).AddrPort()

	go func() {
		time.Sleep(50 * time.Millisecond) // the read below waits for it
		peer.WriteToUDPAddrPort(datagram(5, 300), self)
	}()
	buf := make([]byte, 1500)
	n, from, err := c.ReadFromAddrPort(buf)
	// The exact address: the peer's port has two different bytes (listenUDP).
	if err != nil || from != peerAddr || !bytes.Equal(buf[:n], datagram(5, 300)) {
		t.Fatalf("read %d bytes %q… from %v, %v; want 300 from %v", n, buf[:min(n, 3)], from, err, peerAddr)
	}

	if n, err := c.WriteToAddrPort(datagram(6, 400), peerAddr); err != nil || n != 400 {
		t.Fatalf("write: %d, %v", n, err)
	}
	expect(t, peer, datagram(6, 400), "a write")
	mapped := netip.AddrPortFrom(netip.AddrFrom16(peerAddr.Addr().As16()), peerAddr.Port())
	if _, err := c.WriteToAddrPort(datagram(7, 100), mapped); err != nil {
		t.Fatalf("write to %v: %v", mapped, err)
	}
	expect(t, peer, datagram(7, 100), "a write to an IPv4-mapped address")

	peerBuf := make([]byte, 1500)
	allocs := testing.AllocsPerRun(100, func() {
		c.WriteToAddrPort(buf[:10], peerAddr)
		peer.ReadFromUDPAddrPort(peerBuf)
		peer.WriteToUDPAddrPort(peerBuf[:10], self)
		c.ReadFromAddrPort(buf)
	})
	if allocs > 0 && !raceEnabled {
		t.Errorf("%.1f allocations a write and read", allocs)
	}

	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := c.ReadFromAddrPort(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %v", err)
	}
	c.SetReadDeadline(time.Time{})

	done := make(chan error, 1)
	go func() {
		_, _, err := c.ReadFromAddrPort(buf)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("a read waiting when the port closed: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a read waiting when the port closed did not end")
	}
	if _, err := c.WriteToAddrPort(datagram(9, 10), peerAddr); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a write after closing: %v", err)
	}
}
