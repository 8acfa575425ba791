package media_test

import (
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"classroom/media"
	"classroom/media/mediatest"
)

// TestEnginePublicAddress: behind a 1:1 NAT, the host candidates a
// connection offers carry the public address instead of the host's own.
func TestEnginePublicAddress(t *testing.T) {
	const public = "203.0.113.7"
	e, err := media.NewEngine(media.EngineConfig{Loopback: true, NAT1To1IPs: []string{public}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	pc, err := e.API.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
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
