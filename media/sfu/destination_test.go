package sfu

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"classroom/media/mediatest"
)

// heldAddrs is a SendBatcher that records what is held and released.
type heldAddrs struct {
	mu              sync.Mutex
	holds, releases []netip.AddrPort
}

func (b *heldAddrs) Hold(to netip.AddrPort) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.holds = append(b.holds, to)
}

func (b *heldAddrs) Release(to netip.AddrPort) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.releases = append(b.releases, to)
}

func candidatePair(remote string, port uint16) *webrtc.ICECandidatePair {
	local := webrtc.ICECandidate{Address: "127.0.0.1", Port: 9, Protocol: webrtc.ICEProtocolUDP, Typ: webrtc.ICECandidateTypeHost}
	r := webrtc.ICECandidate{Address: remote, Port: port, Protocol: webrtc.ICEProtocolUDP, Typ: webrtc.ICECandidateTypeHost}
	return webrtc.NewICECandidatePair(&local, &r)
}

// A member's address is the remote candidate of the pair ICE selected, and a
// pair selected later is the address from then on, at once: nothing is held
// before a pair is known, nor for a remote without an IP address.
func TestDestinationFollowsSelectedPair(t *testing.T) {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	b := &heldAddrs{}
	d := &destination{batcher: b, pc: pc}
	if to, ok := d.hold(); ok {
		t.Fatalf("held %v before ICE selected a pair", to)
	}
	for _, c := range []struct {
		remote string
		port   uint16
		want   string // "" for nothing held
	}{
		{"127.0.0.1", 5000, "127.0.0.1:5000"},
		{"::ffff:10.0.0.2", 6000, "10.0.0.2:6000"}, // IPv4 as the shared IPv4 port sees it
		{"2001:db8::1", 7000, "[2001:db8::1]:7000"},
		{"0b9e3f4c-2a1d-4c5e-9f7a-1b2c3d4e5f60.local", 8000, ""},
	} {
		d.selected(candidatePair(c.remote, c.port))
		to, ok := d.hold()
		if c.want == "" {
			if ok {
				t.Errorf("pair to %s: held %v", c.remote, to)
			}
			continue
		}
		if !ok || to.String() != c.want {
			t.Errorf("pair to %s: hold = %v, %t; want %s", c.remote, to, ok, c.want)
			continue
		}
		d.release(to)
	}
	if len(b.holds) != 3 || len(b.releases) != 3 {
		t.Errorf("held %v, released %v; want the three addresses each once", b.holds, b.releases)
	}
}

// A member connected before its writer first holds its address is looked up
// then: the pair ICE selected.
func TestDestinationOfConnectedPeer(t *testing.T) {
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	server, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	client, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	connected := make(chan struct{})
	var once sync.Once
	server.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	mediatest.StartGathering(t, client)()
	if err := server.SetRemoteDescription(*client.LocalDescription()); err != nil {
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
	if err := client.SetRemoteDescription(*server.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-connected:
	case <-time.After(15 * time.Second):
		t.Fatal("not connected in 15 s")
	}
	pair, err := client.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		t.Fatalf("the client's selected pair: %v, %v", pair, err)
	}
	want := netip.AddrPortFrom(netip.MustParseAddr(pair.Local.Address), pair.Local.Port)

	d := &destination{batcher: &heldAddrs{}, pc: server}
	to, ok := d.hold()
	if !ok || to != want {
		t.Fatalf("hold = %v, %t; want the client's address %v", to, ok, want)
	}
	d.release(to)
}
