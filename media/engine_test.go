package media

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestEnginePublicAddress: behind a 1:1 NAT, the host candidates a
// connection offers carry the public address instead of the host's own.
func TestEnginePublicAddress(t *testing.T) {
	const public = "203.0.113.7"
	e, err := NewEngine(EngineConfig{Loopback: true, NAT1To1IPs: []string{public}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	pc, err := e.API.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.CreateDataChannel("events", nil); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
		t.Fatal("gathering did not complete")
	}
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
