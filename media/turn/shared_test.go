package turn

import (
	"net"
	"slices"
	"strings"
	"testing"
)

// TestRelaySharedPort: a relay given the HTTP(S) port's TURN clients offers
// TURN over TLS (or TCP) on that port, after its own UDP and TCP ports.
func TestRelaySharedPort(t *testing.T) {
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	r, _ := startTestRelay(t, RelayConfig{AllowLoopback: true, Shared: listen(), SharedPort: 443, SharedTLS: true})
	_, udpPort, _ := net.SplitHostPort(r.Addr().String())
	want := []string{"turn:class.example.org:" + udpPort + "?transport=udp", "turns:class.example.org:443?transport=tcp"}
	if got := r.ICEServers("class.example.org", "student")[1].URLs; !slices.Equal(got, want) {
		t.Errorf("TURN URLs %v, want %v", got, want)
	}

	plain, _ := startTestRelay(t, RelayConfig{AllowLoopback: true, Shared: listen(), SharedPort: 8080})
	if got := plain.ICEServers("10.1.2.3", "student")[1].URLs; !strings.HasSuffix(got[len(got)-1], "turn:10.1.2.3:8080?transport=tcp") {
		t.Errorf("TURN URLs on a plain shared port: %v", got)
	}

	for _, port := range []int{0, -1, 70000} {
		ln := listen()
		if _, err := NewRelay(RelayConfig{UDPAddr: "127.0.0.1:0", Secret: make([]byte, MinSecretSize), AllowLoopback: true,
			Shared: ln, SharedPort: port}); err == nil {
			t.Errorf("shared port %d accepted", port)
		}
		ln.Close()
	}
}
