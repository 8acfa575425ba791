package media_test

import (
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

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
	participant, err := participantAPI(webrtc.DTLSRoleAuto, func(se *webrtc.SettingEngine) { se.SetNet(watch) }).
		NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer participant.Close()
	if _, err := participant.CreateDataChannel("chat", nil); err != nil {
		t.Fatal(err)
	}
	negotiate(t, participant, server)
	if sdp := server.LocalDescription().SDP; !strings.Contains(sdp, "a=setup:passive") {
		t.Errorf("the answer does not make the server the DTLS server:\n%s", sdp)
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
