package media_test

import (
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"classroom/media"
	"classroom/media/mediatest"
)

// enginePeer returns a PeerConnection of an engine built with cfg; both
// are closed when the test ends.
func enginePeer(t *testing.T, cfg media.EngineConfig) *webrtc.PeerConnection {
	t.Helper()
	e, err := media.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	pc, err := e.API.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// TestEnginePublicAddress: behind a 1:1 NAT, the host candidates a
// connection offers carry the public address instead of the host's own.
func TestEnginePublicAddress(t *testing.T) {
	const public = "203.0.113.7"
	pc := enginePeer(t, media.EngineConfig{Loopback: true, NAT1To1IPs: []string{public}})
	mediatest.StartGathering(t, pc)()
	var hosts []string
	for _, line := range strings.Split(pc.LocalDescription().SDP, "\n") {
		if strings.HasPrefix(line, "a=candidate:") && strings.Contains(line, "typ host") {
			hosts = append(hosts, strings.TrimSpace(line))
		}
	}
	if len(hosts) == 0 {
		t.Fatal("no host candidate offered")
	}
	for _, c := range hosts {
		if !strings.Contains(c, " "+public+" ") {
			t.Errorf("host candidate without the public address: %s", c)
		}
	}
}

// TestEngineAnswersAsDTLSServer: the server answers a participant's offer
// as the DTLS server and answers its ClientHello at once, without the
// cookie exchange: the participant connects having been sent no
// HelloVerifyRequest, one round trip sooner.
func TestEngineAnswersAsDTLSServer(t *testing.T) {
	server := enginePeer(t, media.EngineConfig{Loopback: true})

	base, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	watch := &helloVerifyNet{Net: base}
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNet(watch)
	participant, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer participant.Close()
	connected := make(chan struct{})
	participant.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			close(connected)
		}
	})

	mediatest.StartGathering(t, participant)()
	if err := server.SetRemoteDescription(*participant.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := server.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(server)
	if err := server.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if sdp := server.LocalDescription().SDP; !strings.Contains(sdp, "a=setup:passive") {
		t.Errorf("the answer does not make the server the DTLS server:\n%s", sdp)
	}
	if err := participant.SetRemoteDescription(*server.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-connected:
	case <-time.After(15 * time.Second):
		t.Fatal("the participant did not connect in 15 s")
	}
	if n := watch.helloVerifies.Load(); n != 0 {
		t.Errorf("the participant was sent %d HelloVerifyRequests", n)
	}
}

// helloVerifyNet is the operating system's network, counting the DTLS
// HelloVerifyRequests its UDP sockets receive.
type helloVerifyNet struct {
	transport.Net
	helloVerifies atomic.Int64
}

func (n *helloVerifyNet) ListenUDP(network string, addr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, addr)
	if err != nil {
		return nil, err
	}
	return &helloVerifyConn{UDPConn: c, n: n}, nil
}

// helloVerifyConn is a UDP socket counting the HelloVerifyRequests it reads.
type helloVerifyConn struct {
	transport.UDPConn
	n *helloVerifyNet
}

func (c *helloVerifyConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.UDPConn.ReadFrom(p)
	c.check(p[:n])
	return n, addr, err
}

func (c *helloVerifyConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	n, addr, err := c.UDPConn.(interface {
		ReadFromAddrPort([]byte) (int, netip.AddrPort, error)
	}).ReadFromAddrPort(p)
	c.check(p[:n])
	return n, addr, err
}

// check counts p when it is a DTLS handshake record (content type 22, a
// 13-byte record header) carrying a HelloVerifyRequest (handshake type 3).
func (c *helloVerifyConn) check(p []byte) {
	if len(p) > 13 && p[0] == 22 && p[13] == 3 {
		c.n.helloVerifies.Add(1)
	}
}

// TestEngineAsksPublisherAgain: the engine's connections still ask a
// publisher again for a video packet that did not arrive, now that a
// connection's NACK generator starts only with a stream it receives.
func TestEngineAsksPublisherAgain(t *testing.T) {
	server := enginePeer(t, media.EngineConfig{Loopback: true})
	server.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
		}
	})

	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	publisher, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer publisher.Close()
	camera, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "publisher")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := publisher.AddTrack(camera)
	if err != nil {
		t.Fatal(err)
	}
	asked := make(chan uint16, 64)
	go func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if n, ok := p.(*rtcp.TransportLayerNack); ok {
					for _, pair := range n.Nacks {
						for _, seq := range pair.PacketList() {
							asked <- seq
						}
					}
				}
			}
		}
	}()
	connected := make(chan struct{})
	publisher.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			close(connected)
		}
	})
	mediatest.Gather(t, publisher)()
	if err := server.SetRemoteDescription(*publisher.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := server.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(server)
	if err := server.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := publisher.SetRemoteDescription(*server.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-connected:
	case <-time.After(15 * time.Second):
		t.Fatal("the publisher did not connect in 15 s")
	}

	// A keyframe's worth of packets, every twentieth never sent, until the
	// server asks for one of those.
	const lost = 20
	deadline := time.After(15 * time.Second)
	for seq := uint16(1000); ; seq++ {
		if seq%lost != 0 {
			p := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 3000},
				Payload: append([]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a}, make([]byte, 600)...)}
			if err := camera.WriteRTP(p); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case got := <-asked:
			if got%lost != 0 {
				t.Fatalf("the server asked again for %d, which was sent", got)
			}
			return
		case <-deadline:
			t.Fatal("the server never asked again for a packet that did not arrive")
		case <-time.After(5 * time.Millisecond):
		}
	}
}
