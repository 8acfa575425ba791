package realtime_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"classroom/domain"
	"classroom/media/mediatest"
	"classroom/realtime"
	"classroom/realtime/client"
)

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
	teacher, _ := ls.joinMedia(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	mediatest.Start(t, teacher.AddTrack, "teacher", 30, 3000)
	// A first student receives the teacher: the server has the teacher's
	// tracks, and has offered them to that student.
	_, first := ls.joinMedia(ctx, domain.RoleStudent, "Bob")
	waitFor(t, 20*time.Second, "the first student to receive the teacher", func() bool {
		return first.flowing("teacher", webrtc.RTPCodecTypeVideo) && first.flowing("teacher", webrtc.RTPCodecTypeAudio)
	})
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
