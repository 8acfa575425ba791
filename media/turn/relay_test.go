package turn

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	pionturn "github.com/pion/turn/v4"
	"github.com/pion/webrtc/v4"

	"classroom/media/mediatest"
)

// relayTestSecret is the secret of the relays the tests start.
const relayTestSecret = "a secret of the tests, 32 bytes or more"

// relayTestClock is a clock the tests can move.
type relayTestClock struct{ offset atomic.Int64 }

func (c *relayTestClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *relayTestClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// relayTestLog is a slog.Handler keeping the messages logged, for tests to
// check that the relay refused what it should, and why.
type relayTestLog struct {
	mu   sync.Mutex
	msgs []string
}

func (h *relayTestLog) Enabled(context.Context, slog.Level) bool { return true }

func (h *relayTestLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.msgs = append(h.msgs, r.Message)
	h.mu.Unlock()
	return nil
}

func (h *relayTestLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *relayTestLog) WithGroup(string) slog.Handler      { return h }

func (h *relayTestLog) logged(msg string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Contains(h.msgs, msg)
}

// waitLogged waits up to timeout for msg to be logged.
func (h *relayTestLog) waitLogged(t *testing.T, msg string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !h.logged(msg); {
		if time.Now().After(deadline) {
			t.Fatalf("the relay did not log %q within %v", msg, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startTestRelay starts a relay on 127.0.0.1 as cfg says, filling in what a
// test leaves out, and closes it when the test ends.
func startTestRelay(t *testing.T, cfg RelayConfig) (*Relay, *relayTestLog) {
	t.Helper()
	if cfg.UDPAddr == "" {
		cfg.UDPAddr = "127.0.0.1:0"
	}
	if cfg.Secret == nil {
		cfg.Secret = []byte(relayTestSecret)
	}
	logs := &relayTestLog{}
	cfg.Logger = slog.New(logs)
	r, err := NewRelay(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r, logs
}

func webrtcICEServers(servers []ICEServer) []webrtc.ICEServer {
	var out []webrtc.ICEServer
	for _, s := range servers {
		out = append(out, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return out
}

// newRelayOnlyPeer returns a PeerConnection that gathers relay candidates
// only, from servers, over IPv4 UDP on this machine. With fastFail its ICE
// agent gives up after 2 s without a working pair. It is closed when the test
// ends.
func newRelayOnlyPeer(t *testing.T, servers []ICEServer, fastFail bool) *webrtc.PeerConnection {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// Relay candidates are all there is: no point waiting 2 s for better.
	se.SetRelayAcceptanceMinWait(50 * time.Millisecond)
	if fastFail {
		se.SetICETimeouts(time.Second, time.Second, 200*time.Millisecond)
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{
		ICEServers:         webrtcICEServers(servers),
		ICETransportPolicy: webrtc.ICETransportPolicyRelay,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pc.Close(); err != nil {
			t.Error(err)
		}
	})
	return pc
}

// setLocal sets pc's local description to desc and waits for pc to finish
// gathering candidates.
func setLocal(t *testing.T, pc *webrtc.PeerConnection, desc webrtc.SessionDescription) {
	t.Helper()
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(desc); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
		t.Fatal("gathering did not complete in 10 s")
	}
}

// negotiate has offerer and answerer exchange their descriptions, candidates
// included.
func negotiate(t *testing.T, offerer, answerer *webrtc.PeerConnection) {
	t.Helper()
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	setLocal(t, offerer, offer)
	if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	setLocal(t, answerer, answer)
	if err := offerer.SetRemoteDescription(*answerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
}

// iceStates returns a channel of pc's ICE connection states from now on.
func iceStates(pc *webrtc.PeerConnection) <-chan webrtc.ICEConnectionState {
	states := make(chan webrtc.ICEConnectionState, 16)
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		select {
		case states <- s:
		default:
		}
	})
	return states
}

// startGathering has pc gather candidates for an offer with a data channel.
// The function it returns waits for gathering to complete and returns the
// relay candidates.
func startGathering(t *testing.T, pc *webrtc.PeerConnection) (relayCandidates func() []webrtc.ICECandidate) {
	t.Helper()
	var (
		mu    sync.Mutex
		relay []webrtc.ICECandidate
	)
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil && c.Typ == webrtc.ICECandidateTypeRelay {
			mu.Lock()
			relay = append(relay, *c)
			mu.Unlock()
		}
	})
	wait := mediatest.StartGathering(t, pc)
	return func() []webrtc.ICECandidate {
		t.Helper()
		wait()
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(relay)
	}
}

// exchangeMessage connects offerer and answerer, sends a message on a data
// channel from one to the other and waits for it, failing the test if it
// does not arrive in 15 s.
func exchangeMessage(t *testing.T, offerer, answerer *webrtc.PeerConnection) {
	t.Helper()
	got := make(chan string, 1)
	answerer.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			select {
			case got <- string(m.Data):
			default:
			}
		})
	})
	dc, err := offerer.CreateDataChannel("chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	dc.OnOpen(func() { dc.SendText("hello through the relay") })
	negotiate(t, offerer, answerer)
	select {
	case msg := <-got:
		if msg != "hello through the relay" {
			t.Fatalf("got message %q", msg)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no message in 15 s; ICE states %v and %v", offerer.ICEConnectionState(), answerer.ICEConnectionState())
	}
}

func TestRelayConnectsRelayOnlyPeers(t *testing.T) {
	r, _ := startTestRelay(t, RelayConfig{AllowLoopback: true})
	a := newRelayOnlyPeer(t, r.ICEServers("127.0.0.1", "teacher"), false)
	b := newRelayOnlyPeer(t, r.ICEServers("127.0.0.1", "student"), false)
	exchangeMessage(t, a, b)

	for _, pc := range []*webrtc.PeerConnection{a, b} {
		pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			t.Fatalf("no selected candidate pair: %v", err)
		}
		if pair.Local.Typ != webrtc.ICECandidateTypeRelay || pair.Remote.Typ != webrtc.ICECandidateTypeRelay {
			t.Errorf("selected pair is %s-%s, want relay-relay", pair.Local.Typ, pair.Remote.Typ)
		}
	}
}

func TestRelayConnectsOverTCP(t *testing.T) {
	r, _ := startTestRelay(t, RelayConfig{TCPAddr: "127.0.0.1:0", AllowLoopback: true})
	// Keep only TURN over TCP.
	tcpOnly := func(participant string) []ICEServer {
		var out []ICEServer
		for _, s := range r.ICEServers("127.0.0.1", participant) {
			for _, u := range s.URLs {
				if strings.HasSuffix(u, "?transport=tcp") {
					out = append(out, ICEServer{URLs: []string{u}, Username: s.Username, Credential: s.Credential})
				}
			}
		}
		if len(out) != 1 {
			t.Fatalf("want one TURN over TCP server, got %v", out)
		}
		return out
	}
	a := newRelayOnlyPeer(t, tcpOnly("teacher"), false)
	b := newRelayOnlyPeer(t, tcpOnly("student"), false)
	exchangeMessage(t, a, b)

	report := a.GetStats()
	found := false
	for _, s := range report {
		if c, ok := s.(webrtc.ICECandidateStats); ok && c.Type == webrtc.StatsTypeLocalCandidate &&
			c.CandidateType == webrtc.ICECandidateTypeRelay {
			found = true
			if c.RelayProtocol != "tcp" {
				t.Errorf("local relay candidate reaches the relay over %q, want tcp", c.RelayProtocol)
			}
		}
	}
	if !found {
		t.Error("no local relay candidate in the stats")
	}
}

func TestRelayRefusesBadCredentials(t *testing.T) {
	clock := &relayTestClock{}
	r, logs := startTestRelay(t, RelayConfig{AllowLoopback: true, TTL: time.Minute, Now: clock.Now})

	valid := r.ICEServers("127.0.0.1", "student")
	clock.Advance(-2 * time.Minute)
	expired := r.ICEServers("127.0.0.1", "student")
	clock.Advance(2 * time.Minute)
	forged := slices.Clone(valid)
	forged[1].Credential = flipFirst(forged[1].Credential)
	malformed := slices.Clone(valid)
	malformed[1].Username = "student"
	malformed[1].Credential = r.password("student")

	cases := []struct {
		name    string
		servers []ICEServer
		refusal string // what the relay logs, "" for none
	}{
		{"valid", valid, ""},
		{"expired", expired, "turn: refused expired credentials"},
		{"forged", forged, "turn: refused wrong password"},
		{"malformed", malformed, "turn: refused malformed username"},
	}
	// The peers gather at once: a refused peer takes about 8 s to give up,
	// as pion/turn v5's client (which pion/webrtc uses) ignores the relay's
	// 400 responses, which carry no MESSAGE-INTEGRITY, and retransmits.
	gathered := make([]func() []webrtc.ICECandidate, len(cases))
	for i, tc := range cases {
		gathered[i] = startGathering(t, newRelayOnlyPeer(t, tc.servers, false))
	}
	for i, tc := range cases {
		relay := gathered[i]()
		switch {
		case tc.refusal == "" && len(relay) == 0:
			t.Errorf("%s: no relay candidate gathered", tc.name)
		case tc.refusal != "" && len(relay) != 0:
			t.Errorf("%s: relay candidates gathered: %v", tc.name, relay)
		case tc.refusal != "" && !logs.logged(tc.refusal):
			t.Errorf("%s: the relay did not log %q", tc.name, tc.refusal)
		}
	}
}

// flipFirst changes the first character of s.
func flipFirst(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestRelayRefusesLoopbackPeers(t *testing.T) {
	r, logs := startTestRelay(t, RelayConfig{PublicIP: "127.0.0.1"})
	a := newRelayOnlyPeer(t, r.ICEServers("127.0.0.1", "teacher"), true)
	b := newRelayOnlyPeer(t, r.ICEServers("127.0.0.1", "student"), true)
	states := iceStates(a)
	if _, err := a.CreateDataChannel("chat", nil); err != nil {
		t.Fatal(err)
	}
	negotiate(t, a, b)

	logs.waitLogged(t, "turn: refused peer", 5*time.Second)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-states:
			switch s {
			case webrtc.ICEConnectionStateConnected, webrtc.ICEConnectionStateCompleted:
				t.Fatalf("peers connected through a relay that must refuse loopback peers")
			case webrtc.ICEConnectionStateFailed:
				return
			}
		case <-timeout:
			t.Fatalf("ICE neither connected nor failed in 10 s; state %v", a.ICEConnectionState())
		}
	}
}

// newTURNClient returns a pion TURN client of r with the given credentials,
// listening on its own socket; both are closed when the test ends.
func newTURNClient(t *testing.T, r *Relay, username, password string) *pionturn.Client {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c, err := pionturn.NewClient(&pionturn.ClientConfig{
		STUNServerAddr: r.Addr().String(),
		TURNServerAddr: r.Addr().String(),
		Username:       username,
		Password:       password,
		Conn:           conn,
		LoggerFactory:  turnLoggerFactory{slog.New(slog.DiscardHandler)},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	return c
}

// listenPeer returns a UDP socket on this machine for a TURN client to relay
// to; it is closed when the test ends.
func listenPeer(t *testing.T) net.PacketConn {
	t.Helper()
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	return peer
}

func TestRelayKeepsAllocationsPastExpiry(t *testing.T) {
	clock := &relayTestClock{}
	r, _ := startTestRelay(t, RelayConfig{AllowLoopback: true, TTL: time.Minute, Now: clock.Now})
	username, password, _ := r.Credentials("student")

	c := newTURNClient(t, r, username, password)
	relayed, err := c.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relayed.Close() })

	clock.Advance(2 * time.Minute)

	// The allocation made in time goes on: a new permission (with the
	// expired credentials) is granted and data gets relayed.
	peer := listenPeer(t)
	if _, err := relayed.WriteTo([]byte("still here"), peer.LocalAddr()); err != nil {
		t.Fatalf("relaying after the credentials expired: %v", err)
	}
	buf := make([]byte, 64)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:n]) != "still here" || from.String() != relayed.LocalAddr().String() {
		t.Errorf("peer got %q from %v, want %q from %v", buf[:n], from, "still here", relayed.LocalAddr())
	}

	// A new allocation with the same credentials is refused.
	if _, err := newTURNClient(t, r, username, password).Allocate(); err == nil {
		t.Error("allocated with expired credentials")
	}
}

func TestRelayRefusesPermissionsForLoopback(t *testing.T) {
	r, logs := startTestRelay(t, RelayConfig{PublicIP: "127.0.0.1"})
	username, password, _ := r.Credentials("student")
	c := newTURNClient(t, r, username, password)
	relayed, err := c.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relayed.Close() })
	peer := listenPeer(t)
	if err := c.CreatePermission(peer.LocalAddr()); err == nil {
		t.Error("permission granted for a loopback peer")
	}
	if !logs.logged("turn: refused peer") {
		t.Error("the relay did not log the refused peer")
	}
}

func TestRelayCloseReleasesPorts(t *testing.T) {
	r, err := NewRelay(RelayConfig{
		UDPAddr:       "127.0.0.1:0",
		TCPAddr:       "127.0.0.1:0",
		Secret:        []byte(relayTestSecret),
		AllowLoopback: true,
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			r.Close()
		}
	})
	username, password, _ := r.Credentials("student")
	relayed, err := newTURNClient(t, r, username, password).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Dial("tcp", r.tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tcp.Close() })
	// A STUN binding request, answered once the server has accepted the
	// connection.
	bindingRequest := []byte{0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if _, err := tcp.Write(bindingRequest); err != nil {
		t.Fatal(err)
	}
	tcp.SetReadDeadline(time.Now().Add(5 * time.Second))
	header := make([]byte, 20)
	if _, err := io.ReadFull(tcp, header); err != nil {
		t.Fatalf("no answer to a binding request over TCP: %v", err)
	}
	if _, err := io.ReadFull(tcp, make([]byte, int(header[2])<<8|int(header[3]))); err != nil {
		t.Fatalf("reading the answer to a binding request over TCP: %v", err)
	}

	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	for _, addr := range []string{r.Addr().String(), relayed.LocalAddr().String()} {
		c, err := net.ListenPacket("udp4", addr)
		if err != nil {
			t.Errorf("UDP port still taken after Close: %v", err)
			continue
		}
		c.Close()
	}
	tcp.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := tcp.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Errorf("TCP connection still open after Close: read returned %v", err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestRelayPolicy(t *testing.T) {
	type verdicts struct{ strict, loopback, private, both bool }
	for _, tc := range []struct {
		ip   string
		want verdicts
	}{
		{"127.0.0.1", verdicts{false, true, false, true}},
		{"127.1.2.3", verdicts{false, true, false, true}},
		{"::1", verdicts{false, true, false, true}},
		{"::ffff:127.0.0.1", verdicts{false, true, false, true}},
		{"10.1.2.3", verdicts{false, false, true, true}},
		{"192.168.1.1", verdicts{false, false, true, true}},
		{"172.20.0.1", verdicts{false, false, true, true}},
		{"::ffff:172.20.0.1", verdicts{false, false, true, true}},
		{"100.64.0.1", verdicts{false, false, true, true}},
		{"169.254.1.1", verdicts{false, false, true, true}},
		{"fe80::1", verdicts{false, false, true, true}},
		{"fd00::1", verdicts{false, false, true, true}},
		{"224.0.0.1", verdicts{}},
		{"239.255.255.250", verdicts{}},
		{"ff02::1", verdicts{}},
		{"0.0.0.0", verdicts{}},
		{"0.1.2.3", verdicts{}},
		{"::", verdicts{}},
		{"255.255.255.255", verdicts{}},
		{"240.0.0.1", verdicts{}},
		{"8.8.8.8", verdicts{true, true, true, true}},
		{"172.32.0.1", verdicts{true, true, true, true}},
		{"100.128.0.1", verdicts{true, true, true, true}},
		{"2001:4860::8888", verdicts{true, true, true, true}},
	} {
		ip := netip.MustParseAddr(tc.ip)
		got := verdicts{
			strict:   relayPolicy{}.allows(ip),
			loopback: relayPolicy{allowLoopback: true}.allows(ip),
			private:  relayPolicy{allowPrivate: true}.allows(ip),
			both:     relayPolicy{allowLoopback: true, allowPrivate: true}.allows(ip),
		}
		if got != tc.want {
			t.Errorf("%s: allowed %+v, want %+v", tc.ip, got, tc.want)
		}
	}
	if (relayPolicy{true, true}).allows(netip.Addr{}) {
		t.Error("the zero netip.Addr is allowed")
	}
}

func TestRelayCredentials(t *testing.T) {
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	r, _ := startTestRelay(t, RelayConfig{Now: func() time.Time { return now }})

	for _, participant := range []string{"teacher", "6f1c8a5e-1d2b-4c3d-9e8f-0a1b2c3d4e5f", "with:colon"} {
		username, password, expires := r.Credentials(participant)
		if !expires.Equal(now.Add(DefaultCredentialTTL)) {
			t.Errorf("expires %v, want %v", expires, now.Add(DefaultCredentialTTL))
		}
		wantUser := strconv.FormatInt(now.Add(DefaultCredentialTTL).Unix(), 10) + ":" + participant
		if username != wantUser {
			t.Errorf("username %q, want %q", username, wantUser)
		}
		mac := hmac.New(sha1.New, []byte(relayTestSecret))
		mac.Write([]byte(username))
		if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); password != want {
			t.Errorf("password %q, want %q", password, want)
		}
		if key, ok := r.authenticate(username, DefaultRealm, &net.UDPAddr{}); !ok ||
			!bytes.Equal(key, pionturn.GenerateAuthKey(username, DefaultRealm, password)) {
			t.Errorf("the relay does not accept its own credentials for %q", participant)
		}
	}
}

func TestRelayICEServers(t *testing.T) {
	r, _ := startTestRelay(t, RelayConfig{TCPAddr: "127.0.0.1:0", AllowLoopback: true})
	_, udpPort, _ := net.SplitHostPort(r.Addr().String())
	_, tcpPort, _ := net.SplitHostPort(r.tcp.Addr().String())

	servers := r.ICEServers("::1", "student")
	if len(servers) != 2 {
		t.Fatalf("got %d servers, want 2: %+v", len(servers), servers)
	}
	if want := []string{"stun:[::1]:" + udpPort}; !slices.Equal(servers[0].URLs, want) ||
		servers[0].Username != "" || servers[0].Credential != "" {
		t.Errorf("STUN server %+v, want URLs %v and no credentials", servers[0], want)
	}
	want := []string{"turn:[::1]:" + udpPort + "?transport=udp", "turn:[::1]:" + tcpPort + "?transport=tcp"}
	if !slices.Equal(servers[1].URLs, want) {
		t.Errorf("TURN URLs %v, want %v", servers[1].URLs, want)
	}
	if !strings.HasSuffix(servers[1].Username, ":student") || servers[1].Credential != r.password(servers[1].Username) {
		t.Errorf("TURN credentials %q/%q are not the relay's for student", servers[1].Username, servers[1].Credential)
	}

	r2, _ := startTestRelay(t, RelayConfig{AllowLoopback: true})
	if urls := r2.ICEServers("turn.example.com", "x")[1].URLs; len(urls) != 1 || !strings.HasPrefix(urls[0], "turn:turn.example.com:") {
		t.Errorf("without TCP, TURN URLs are %v", urls)
	}
}

func TestNewRelayRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  RelayConfig
		want string // in the error
	}{
		{"short secret", RelayConfig{UDPAddr: "127.0.0.1:0", Secret: []byte("too short")}, "secret"},
		{"no secret", RelayConfig{UDPAddr: "127.0.0.1:0"}, "secret"},
		{"no public IP", RelayConfig{UDPAddr: ":0", Secret: []byte(relayTestSecret)}, "public IP"},
		{"IPv6 public IP", RelayConfig{UDPAddr: ":0", Secret: []byte(relayTestSecret), PublicIP: "2001:db8::1"}, "IPv4"},
		{"bad public IP", RelayConfig{UDPAddr: ":0", Secret: []byte(relayTestSecret), PublicIP: "relay.example.com"}, "public IP"},
		{"host name", RelayConfig{UDPAddr: "localhost:0", Secret: []byte(relayTestSecret)}, "IP address"},
		{"half a port range", RelayConfig{UDPAddr: "127.0.0.1:0", Secret: []byte(relayTestSecret), RelayPortMin: 50000}, "port range"},
		{"inverted port range", RelayConfig{UDPAddr: "127.0.0.1:0", Secret: []byte(relayTestSecret), RelayPortMin: 50010, RelayPortMax: 50000}, "port range"},
		{"negative TTL", RelayConfig{UDPAddr: "127.0.0.1:0", Secret: []byte(relayTestSecret), TTL: -time.Second}, "TTL"},
	} {
		r, err := NewRelay(tc.cfg)
		if err == nil {
			r.Close()
			t.Errorf("%s: NewRelay succeeded", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.want)
		}
	}
}

func TestRelayPortRange(t *testing.T) {
	// Find two free consecutive ports to make the range of.
	probe, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lo := uint16(probe.LocalAddr().(*net.UDPAddr).Port)
	probe.Close()
	if lo == 65535 {
		lo--
	}
	r, _ := startTestRelay(t, RelayConfig{AllowLoopback: true, RelayPortMin: lo, RelayPortMax: lo + 1})
	username, password, _ := r.Credentials("student")
	relayed, err := newTURNClient(t, r, username, password).Allocate()
	if err != nil {
		t.Skipf("the port range %d-%d was taken meanwhile: %v", lo, lo+1, err)
	}
	t.Cleanup(func() { relayed.Close() })
	port := relayed.LocalAddr().(*net.UDPAddr).Port
	if port != int(lo) && port != int(lo)+1 {
		t.Errorf("relayed port %d, want %d or %d", port, lo, lo+1)
	}
}
