package realtime_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"classroom/domain"
	"classroom/internal/tcpproxy"
	"classroom/media/mediatest"
	"classroom/realtime"
	"classroom/realtime/client"
)

// teacherOnStage starts the lesson with a teacher whose camera and
// microphone send, and returns once a first student receives both: the
// server has the teacher's tracks, and offers them to whoever joins.
func teacherOnStage(t *testing.T, ctx context.Context, ls *lessonServer) {
	t.Helper()
	teacher, _ := ls.joinMedia(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	mediatest.Start(t, teacher.AddTrack, "teacher", 30, 3000)
	_, first := ls.joinMedia(ctx, domain.RoleStudent, "Bob")
	waitFor(t, 20*time.Second, "the first student to receive the teacher", func() bool {
		return first.flowing("teacher", webrtc.RTPCodecTypeVideo) && first.flowing("teacher", webrtc.RTPCodecTypeAudio)
	})
}

// TestStageOfferedBeforeConnected: a student joining while the teacher's
// camera is on is offered the teacher's tracks as soon as its own offer is
// answered, while its connection is still being made, not once it is made:
// so the tracks are negotiated, and a keyframe asked for, in the time the
// connection takes. The joining student's UDP sends are dropped here, so
// its connection is never made; the server's offer must come all the same.
func TestStageOfferedBeforeConnected(t *testing.T) {
	registry := prometheus.NewRegistry()
	ls := startServer(t, openStore(t, "sqlite"), func(c *realtime.Config) { c.Metrics = registry })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacherOnStage(t, ctx, ls)
	before := serverOffers(t, registry)

	base, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	joining, stop := context.WithTimeout(ctx, 20*time.Second)
	defer stop()
	go func() {
		c, err := client.Dial(joining, client.Options{URL: ls.url(), Token: ls.token(domain.RoleStudent, "", time.Hour),
			Name: "Ada", Loopback: true, Net: &muteNet{Net: base}})
		if err == nil {
			c.Close()
		}
	}()
	waitFor(t, 10*time.Second, "the server to offer the teacher's tracks to the joining student", func() bool {
		return serverOffers(t, registry) > before
	})
}

// TestEarlyOfferKeepsICE: the server's offer of the stage's tracks, which
// follows its answer at once, does not restart the Go client's ICE. pion
// starts the ICE transport of the answer on a goroutine of its own and takes
// an offer set before that for an ICE restart (new credentials, the
// candidates of both sides thrown away, gathering again), after which a
// student behind a firewall did not connect in 30 s. Here the server's
// signals reach the joining student together, as over a slow or busy link,
// and the process has one processor, so that the student reads the offer
// before pion's goroutine has run: its candidates must all be of its first
// gathering, and the teacher's media must reach it.
func TestEarlyOfferKeepsICE(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacherOnStage(t, ctx, ls)

	url := strings.Replace(ls.url(), strings.TrimPrefix(ls.http.URL, "http://"), batchingProxy(t, ls.http.Listener.Addr().String(), 100*time.Millisecond), 1)
	for i := range 3 {
		rc := &receiver{}
		procs := runtime.GOMAXPROCS(1)
		c, err := client.Dial(ctx, client.Options{URL: url, Token: ls.token(domain.RoleStudent, "", time.Hour),
			Name: fmt.Sprintf("Ada %d", i), Loopback: true, OnTrack: rc.onTrack})
		runtime.GOMAXPROCS(procs)
		if err != nil {
			t.Fatalf("student %d joins: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		if gen := candidateGenerations(c.PeerConnection().LocalDescription()); len(gen) != 1 || gen[0] != "0" {
			t.Errorf("student %d's candidates are of gatherings %v, want only the first (0): its ICE restarted", i, gen)
		}
		waitFor(t, 20*time.Second, fmt.Sprintf("student %d to receive the teacher", i), func() bool {
			return rc.flowing("teacher", webrtc.RTPCodecTypeVideo)
		})
	}
}

// candidateGenerations returns the distinct ICE generations of the
// candidates in d (pion marks each candidate with the gathering it came
// from, 0 for the first; an ICE restart gathers again).
func candidateGenerations(d *webrtc.SessionDescription) []string {
	var gens []string
	if d == nil {
		return nil
	}
	for line := range strings.Lines(d.SDP) {
		if !strings.HasPrefix(line, "a=candidate:") {
			continue
		}
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "generation" && !slices.Contains(gens, f[i+1]) {
				gens = append(gens, f[i+1])
			}
		}
	}
	return gens
}

// batchingProxy forwards TCP connections to addr and returns its own
// address. What the client sends goes on at once; what the server sends is
// held for hold after its first byte and delivered in one write, as over a
// slow or busy link, so that messages the server writes in a row are read
// together.
func batchingProxy(t *testing.T, addr string, hold time.Duration) string {
	return tcpproxy.Start(t, addr, func(client, server net.Conn) { batched(client, server, hold) })
}

// batched copies src to dst, each burst of src held for hold after its
// first byte and written at once.
func batched(dst, src net.Conn, hold time.Duration) {
	chunks := make(chan []byte, 64)
	go func() {
		defer close(chunks)
		for {
			b := make([]byte, 64<<10)
			n, err := src.Read(b)
			if n > 0 {
				chunks <- b[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		src.Close()
		for range chunks { // until the reader ends
		}
	}()
	for c := range chunks {
		burst := c
		timer := time.NewTimer(hold)
	collect:
		for {
			select {
			case c, ok := <-chunks:
				if !ok {
					break collect
				}
				burst = append(burst, c...)
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		if _, err := dst.Write(burst); err != nil {
			return
		}
	}
}

// serverOffers returns the offers the server has made (its sdp_offers_total
// of server/sent).
func serverOffers(t *testing.T, g prometheus.Gatherer) float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "classroom_sdp_offers_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["from"] == "server" && labels["outcome"] == "sent" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// muteNet is the operating system's network with UDP sockets that send
// nothing: a connection over it is never made.
type muteNet struct{ transport.Net }

func (n *muteNet) ListenUDP(network string, addr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, addr)
	if err != nil {
		return nil, fmt.Errorf("mute socket: %w", err)
	}
	return muteConn{c}, nil
}

// muteConn drops every datagram written to it.
type muteConn struct{ transport.UDPConn }

func (muteConn) Write(p []byte) (int, error)                      { return len(p), nil }
func (muteConn) WriteTo(p []byte, _ net.Addr) (int, error)        { return len(p), nil }
func (muteConn) WriteToUDP(p []byte, _ *net.UDPAddr) (int, error) { return len(p), nil }
func (muteConn) WriteToAddrPort(p []byte, _ netip.AddrPort) (int, error) {
	return len(p), nil
}
