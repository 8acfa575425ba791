package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// Pion's UDP mux writes through AddrPortReaderWriter when its connection
// offers it; without it, every packet would cost a net.Addr.
var _ ice.AddrPortReaderWriter = (*batchConn)(nil)
var _ net.PacketConn = (*batchConn)(nil)

// listenUDP returns a loopback UDP socket with a receive buffer large
// enough for the tests' bursts, closed when the test ends.
func listenUDP(tb testing.TB) *net.UDPConn {
	tb.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.SetReadBuffer(4 << 20); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// newTestBatchConn returns a batchConn on a loopback socket, closed when
// the test ends.
func newTestBatchConn(tb testing.TB) *batchConn {
	tb.Helper()
	c := newBatchConn(listenUDP(tb))
	tb.Cleanup(func() { c.Close() })
	return c
}

func addrPort(c *net.UDPConn) netip.AddrPort {
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// receiver collects the datagrams arriving on a socket.
type receiver struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  [][]byte
	done chan struct{}
}

// startReceiver reads conn until the test ends.
func startReceiver(t *testing.T, conn *net.UDPConn) *receiver {
	r := &receiver{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, 2048)
		for {
			n, _, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.got = append(r.got, bytes.Clone(buf[:n]))
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		<-r.done
	})
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func (r *receiver) datagrams() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got
}

// payload fills buf with the datagram number seq for receiver to and
// returns it: its length and bytes depend on both.
func payload(buf []byte, to, seq int) []byte {
	b := buf[:8+(seq*37)%280]
	binary.BigEndian.PutUint32(b, uint32(to))
	binary.BigEndian.PutUint32(b[4:], uint32(seq))
	for i := 8; i < len(b); i++ {
		b[i] = byte(seq*7 + i + to)
	}
	return b
}

func TestBatchConnWritesAtOnceWithoutHold(t *testing.T) {
	c := newTestBatchConn(t)
	rc := listenUDP(t)
	if _, err := c.WriteToAddrPort([]byte("hello"), addrPort(rc)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteTo([]byte("world"), rc.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	rc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	for _, want := range []string{"hello", "world"} {
		n, _, err := rc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:n]); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if sent, batches, failed := c.stats(); sent != 2 || batches != 0 || failed != 0 {
		t.Errorf("stats = %d sent, %d batches, %d failed; want 2, 0, 0", sent, batches, failed)
	}
}

// A held connection queues copies of what it is given, sends full batches
// at once and the rest at release, in order.
func TestBatchConnHold(t *testing.T) {
	const n = 500
	c := newTestBatchConn(t)
	var rs []*receiver
	var dsts []netip.AddrPort
	for range 3 {
		rc := listenUDP(t)
		dsts = append(dsts, addrPort(rc))
		rs = append(rs, startReceiver(t, rc))
	}
	buf := make([]byte, 1500)
	write := func(i int) {
		to := i % len(dsts)
		b := payload(buf, to, i)
		var (
			m   int
			err error
		)
		if i%2 == 0 {
			m, err = c.WriteToAddrPort(b, dsts[to])
		} else {
			m, err = c.WriteTo(b, net.UDPAddrFromAddrPort(dsts[to]))
		}
		if m != len(b) || err != nil {
			t.Fatalf("write %d: %d, %v; want %d, nil", i, m, err, len(b))
		}
		// The caller reuses its buffer.
		for j := range b {
			b[j] = 0xff
		}
	}

	c.hold()
	for i := range maxBatch - 1 {
		write(i)
	}
	if sent, batches, _ := c.stats(); sent != 0 || batches != 0 {
		t.Fatalf("%d sent in %d batches before the queue was full", sent, batches)
	}
	time.Sleep(20 * time.Millisecond)
	for i, r := range rs {
		if k := r.count(); k > 0 {
			t.Fatalf("receiver %d got %d datagrams during the hold", i, k)
		}
	}
	for i := maxBatch - 1; i < n; i++ {
		write(i)
	}
	full := n / maxBatch * maxBatch
	if sent, _, _ := c.stats(); sent != uint64(full) {
		t.Fatalf("%d sent before release, want the %d of full batches", sent, full)
	}
	c.release()

	sent, batches, failed := c.stats()
	if sent != n || failed != 0 {
		t.Errorf("stats = %d sent, %d failed; want %d, 0", sent, failed, n)
	}
	if batches > n/maxBatch+2 {
		t.Errorf("%d datagrams took %d batches", n, batches)
	}
	waitUntil(t, func() bool {
		total := 0
		for _, r := range rs {
			total += r.count()
		}
		return total == n
	})
	for to, r := range rs {
		seq := to
		for _, d := range r.datagrams() {
			if want := payload(make([]byte, 1500), to, seq); !bytes.Equal(d, want) {
				t.Fatalf("receiver %d: got % x..., want datagram %d", to, d[:8], seq)
			}
			seq += len(rs)
		}
	}
}

// A datagram the kernel refuses is skipped; the rest are sent.
func TestBatchConnSkipsRefused(t *testing.T) {
	c := newTestBatchConn(t)
	rc := listenUDP(t)
	r := startReceiver(t, rc)
	c.hold()
	for i := range 10 {
		dst := addrPort(rc)
		if i == 4 {
			// An IPv6 destination on an IPv4 socket.
			dst = netip.AddrPortFrom(netip.IPv6Loopback(), dst.Port())
		}
		if _, err := c.WriteToAddrPort([]byte{byte(i)}, dst); err != nil {
			t.Fatal(err)
		}
	}
	c.release()
	if sent, _, failed := c.stats(); sent != 9 || failed != 1 {
		t.Errorf("stats = %d sent, %d failed; want 9, 1", sent, failed)
	}
	waitUntil(t, func() bool { return r.count() == 9 })
	var got []byte
	for _, d := range r.datagrams() {
		got = append(got, d...)
	}
	if want := []byte{0, 1, 2, 3, 5, 6, 7, 8, 9}; !bytes.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// Writers and holders on many goroutines lose nothing and keep each
// writer's order, held or not.
func TestBatchConnConcurrent(t *testing.T) {
	const (
		writers = 4
		rounds  = 40
		perHold = 25
	)
	c := newTestBatchConn(t)
	var rs []*receiver
	var dsts []netip.AddrPort
	for range 3 {
		rc := listenUDP(t)
		dsts = append(dsts, addrPort(rc))
		rs = append(rs, startReceiver(t, rc))
	}
	stop := make(chan struct{})
	var holders sync.WaitGroup
	for range 2 {
		holders.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				c.hold()
				time.Sleep(50 * time.Microsecond)
				c.release()
			}
		})
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			buf := make([]byte, 64)
			seq := 0
			for round := range rounds {
				held := round%4 != 3
				if held {
					c.hold()
				}
				for range perHold {
					for _, dst := range dsts {
						binary.BigEndian.PutUint32(buf, uint32(w))
						binary.BigEndian.PutUint32(buf[4:], uint32(seq))
						if _, err := c.WriteToAddrPort(buf, dst); err != nil {
							t.Error(err)
							return
						}
					}
					seq++
				}
				if held {
					c.release()
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	holders.Wait()

	const perReceiver = writers * rounds * perHold
	if sent, batches, failed := c.stats(); sent != perReceiver*3 || failed != 0 {
		t.Errorf("stats = %d sent, %d failed; want %d, 0", sent, failed, perReceiver*3)
	} else {
		t.Logf("%d datagrams in %d batches", sent, batches)
	}
	if u := c.unsent.Load(); u != 0 {
		t.Errorf("%d datagrams left unsent", u)
	}
	waitUntil(t, func() bool {
		for _, r := range rs {
			if r.count() < perReceiver {
				return false
			}
		}
		return true
	})
	for i, r := range rs {
		next := make([]uint32, writers)
		for _, d := range r.datagrams() {
			w, seq := binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:])
			if seq != next[w] {
				t.Fatalf("receiver %d: writer %d's datagram %d came after %d", i, w, seq, next[w]-1)
			}
			next[w]++
		}
		if got := r.count(); got != perReceiver {
			t.Errorf("receiver %d got %d datagrams, want %d", i, got, perReceiver)
		}
	}
}

func TestBatchConnClose(t *testing.T) {
	c := newTestBatchConn(t)
	rc := listenUDP(t)
	dst := addrPort(rc)
	c.hold()
	for range 3 {
		if _, err := c.WriteToAddrPort([]byte("queued"), dst); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteToAddrPort([]byte("held"), dst); !errors.Is(err, net.ErrClosed) {
		t.Errorf("held write after Close: %v, want net.ErrClosed", err)
	}
	c.release()
	if _, err := c.WriteTo([]byte("at once"), rc.LocalAddr()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after Close: %v, want net.ErrClosed", err)
	}
	if sent, _, failed := c.stats(); sent != 0 || failed != 5 {
		t.Errorf("stats = %d sent, %d failed; want 0, 5 (3 dropped, 2 refused)", sent, failed)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v, want net.ErrClosed", err)
	}
}

// In steady state, queueing and sending a batch allocates nothing.
func TestBatchConnAllocs(t *testing.T) {
	c := newTestBatchConn(t)
	rc := listenUDP(t) // not read: a receiver's allocations would count
	dst := addrPort(rc)
	b := make([]byte, 1200)
	batch := func() {
		c.hold()
		for range maxBatch {
			c.WriteToAddrPort(b, dst)
		}
		c.release()
	}
	// The first two batches fill the two queues' slots.
	batch()
	batch()
	allocs := testing.AllocsPerRun(100, batch)
	t.Logf("%v allocations per batch of %d", allocs, maxBatch)
	// The race detector empties sync.Pools at random, and x/net keeps its
	// sendmmsg headers in one.
	if allocs > 0 && !raceEnabled() {
		t.Errorf("%v allocations per batch of %d, want 0", allocs, maxBatch)
	}
}

// raceEnabled reports whether the test runs with the race detector.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// Pion's traffic through an engine's shared port waits for release while
// the engine is held.
func TestBatchConnEngine(t *testing.T) {
	e, err := NewEngine(EngineConfig{Loopback: true, UDPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Engine.Close: %v", err)
		}
	})
	server, err := e.API.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	client, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })

	const n = 20
	var (
		mu  sync.Mutex
		got []string
	)
	received := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
	dc, err := client.CreateDataChannel("board", nil)
	if err != nil {
		t.Fatal(err)
	}
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		mu.Lock()
		got = append(got, string(m.Data))
		mu.Unlock()
	})
	serverDC := make(chan *webrtc.DataChannel, 1)
	server.OnDataChannel(func(d *webrtc.DataChannel) {
		d.OnOpen(func() { serverDC <- d })
	})
	negotiate(t, client, server)
	var sdc *webrtc.DataChannel
	select {
	case sdc = <-serverDC:
	case <-time.After(15 * time.Second):
		t.Fatalf("no data channel in 15 s; ICE states %v and %v", client.ICEConnectionState(), server.ICEConnectionState())
	}
	sentBefore, _, _ := e.batch.stats()
	if sentBefore == 0 {
		t.Fatal("the engine's socket sent nothing to connect")
	}

	e.hold()
	for i := range n {
		if err := sdc.SendText(fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, func() bool { return e.batch.unsent.Load() > 0 })
	time.Sleep(100 * time.Millisecond)
	if k := len(received()); k > 0 {
		t.Fatalf("%d messages arrived during the hold", k)
	}
	e.release()
	waitUntil(t, func() bool { return len(received()) == n })
	for i, m := range received() {
		if m != fmt.Sprint(i) {
			t.Fatalf("message %d is %q", i, m)
		}
	}
	if _, batches, failed := e.batch.stats(); batches == 0 || failed != 0 {
		t.Errorf("stats: %d batches, %d failed", batches, failed)
	}
}

// BenchmarkBatchConn compares writing 1200-byte datagrams to 4 loopback
// receivers one system call each (direct), through a batchConn not held
// (passthrough), and in batches of maxBatch (batched). cpu-ns/datagram is
// the process's CPU time (getrusage), the receivers' included: on loopback
// the kernel delivers each datagram in the sender's system call, so
// batching saves less here than towards a network card.
func BenchmarkBatchConn(b *testing.B) {
	setup := func(b *testing.B) (*net.UDPConn, []netip.AddrPort) {
		conn := listenUDP(b)
		var (
			dsts []netip.AddrPort
			rcs  []*net.UDPConn
			wg   sync.WaitGroup
		)
		for range 4 {
			rc := listenUDP(b)
			dsts = append(dsts, addrPort(rc))
			rcs = append(rcs, rc)
			wg.Go(func() {
				buf := make([]byte, 2048)
				for {
					if _, _, err := rc.ReadFromUDPAddrPort(buf); err != nil {
						return
					}
				}
			})
		}
		b.Cleanup(func() {
			for _, rc := range rcs {
				rc.Close()
			}
			wg.Wait()
		})
		return conn, dsts
	}
	p := make([]byte, 1200)
	var cpu0 time.Duration
	start := func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 = cpuTime()
	}
	report := func(b *testing.B) {
		b.StopTimer()
		n := float64(b.N)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/datagram")
		b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/n, "cpu-ns/datagram")
	}
	b.Run("direct", func(b *testing.B) {
		conn, dsts := setup(b)
		addrs := make([]net.Addr, len(dsts))
		for i, d := range dsts {
			addrs[i] = net.UDPAddrFromAddrPort(d)
		}
		start(b)
		for i := range b.N {
			if _, err := conn.WriteTo(p, addrs[i%len(addrs)]); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("passthrough", func(b *testing.B) {
		conn, dsts := setup(b)
		c := newBatchConn(conn)
		start(b)
		for i := range b.N {
			if _, err := c.WriteToAddrPort(p, dsts[i%len(dsts)]); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("batched", func(b *testing.B) {
		conn, dsts := setup(b)
		c := newBatchConn(conn)
		start(b)
		for i := 0; i < b.N; {
			c.hold()
			for j := 0; j < maxBatch && i < b.N; i, j = i+1, j+1 {
				if _, err := c.WriteToAddrPort(p, dsts[i%len(dsts)]); err != nil {
					b.Fatal(err)
				}
			}
			c.release()
		}
		report(b)
		sent, batches, failed := c.stats()
		if failed > 0 {
			b.Errorf("%d datagrams failed", failed)
		}
		b.ReportMetric(float64(batches)/float64(sent), "syscalls/datagram")
	})
}
