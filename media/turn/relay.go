package turn

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/logging"
	pionturn "github.com/pion/turn/v4"
)

const (
	// DefaultRelayUDPAddr is where the relay listens when RelayConfig.UDPAddr
	// is empty: the standard STUN/TURN port on every interface.
	DefaultRelayUDPAddr = ":3478"
	// DefaultRealm is the TURN realm when RelayConfig.Realm is empty.
	DefaultRealm = "classroom"
	// DefaultCredentialTTL is how long credentials are valid when
	// RelayConfig.TTL is zero.
	DefaultCredentialTTL = 10 * time.Minute
	// MinSecretSize is the least number of bytes of RelayConfig.Secret.
	MinSecretSize = 32

	// relayCloseTimeout bounds how long Close waits for the allocations to be
	// torn down after their sockets are closed.
	relayCloseTimeout = 5 * time.Second
)

// RelayConfig configures the embedded TURN relay.
type RelayConfig struct {
	// UDPAddr is the address to listen on for STUN and TURN over UDP, as
	// "host:port" with an IP address or nothing for host; empty means
	// DefaultRelayUDPAddr. Port 0 picks a free port, which Relay.Addr
	// reports.
	UDPAddr string
	// TCPAddr, if not empty, is an address to also listen on for TURN over
	// TCP, for participants whose network lets no UDP out. The relayed
	// transport is UDP either way.
	TCPAddr string

	// Shared, if not nil, gives the relay the TURN clients that reached the
	// server's HTTP(S) port, sorted from the browsers there (web.PortShare
	// does that): for networks that let nothing out but HTTPS. SharedPort is
	// that port and SharedTLS whether it speaks TLS; the relay then offers
	// turns:HOST:SharedPort?transport=tcp (turn: without TLS) as well. The
	// relay closes Shared when it closes.
	Shared     net.Listener
	SharedPort int
	SharedTLS  bool

	// PublicIP is the IPv4 address that participants reach the relay's
	// relayed ports at, announced in their relay candidates: the host's
	// public address, or the public side of a 1:1 NAT. Relayed ports are
	// bound on the UDPAddr's host if it is an IPv4 address, on every
	// interface otherwise.
	//
	// When empty it is derived: the UDPAddr's host if that is a specific
	// IPv4 address; 127.0.0.1 if the host is unspecified (all interfaces) and
	// AllowLoopback is set, for a relay used on one machine. Otherwise
	// NewRelay fails rather than guess.
	PublicIP string

	// Realm is the TURN realm; empty means DefaultRealm.
	Realm string
	// Secret is the key credentials are signed with, shared with nothing but
	// this relay; at least MinSecretSize bytes.
	Secret []byte
	// TTL is how long credentials issued by Credentials and ICEServers are
	// valid; zero means DefaultCredentialTTL. Expiry stops new allocations
	// only: an allocation made in time may go on being refreshed by the same
	// client with the same credentials, so a lesson is not cut off when its
	// participants' credentials expire.
	TTL time.Duration

	// AllowLoopback lets the relay relay to loopback peers (127.0.0.0/8,
	// ::1): for tests, and a relay used on one machine.
	AllowLoopback bool
	// AllowPrivate lets the relay relay to peers at private addresses
	// (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7), shared
	// (carrier-grade NAT) addresses (100.64.0.0/10) and link-local addresses
	// (169.254.0.0/16, fe80::/10): for a relay serving a private network.
	// Without it, a relay whose PublicIP is private cannot connect two
	// participants that both use it.
	AllowPrivate bool

	// RelayPortMin and RelayPortMax, if set, are the range relayed ports are
	// taken from, both inclusive; both zero means any free port.
	RelayPortMin, RelayPortMax uint16

	// Now is the clock credentials are issued and checked by; nil means
	// time.Now.
	Now func() time.Time
	// Logger receives the relay's logs, and pion/turn's: pion's Info goes to
	// Debug, its Trace to a level below Debug. Nil means slog.Default().
	Logger *slog.Logger
}

// Relay is an embedded STUN and TURN server. Participants authenticate with
// short-lived credentials in the TURN REST API format (as coturn's
// use-auth-secret checks them), and the relay refuses to relay to peers at
// loopback, private, link-local, multicast and other special addresses unless
// its configuration allows them. Relayed addresses are IPv4.
//
// Its methods may be called from any goroutine.
type Relay struct {
	log    *slog.Logger
	realm  string
	secret []byte
	ttl    time.Duration
	now    func() time.Time
	policy relayPolicy

	publicIP  net.IP // announced for relayed ports
	relayHost string // relayed ports are bound on it
	portMin   uint16 // 0 for any port
	portMax   uint16

	udp        net.PacketConn
	tcp        net.Listener // nil without TCP
	udpPort    int
	tcpPort    int          // 0 without TCP
	shared     net.Listener // nil without a shared HTTP(S) port
	sharedPort int
	sharedTLS  bool
	srv        *pionturn.Server

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	closing bool
	sockets map[*relaySocket]struct{}
	conns   map[*relayTCPConn]struct{}
	// live counts the allocations of each client address and username, so
	// that their credentials stay good for them once expired.
	live    map[string]int
	allocs  int
	drained chan struct{} // closed when allocs drops to 0 while closing
}

// ICEServer is one entry of an RTCPeerConnection's iceServers, in the form a
// browser's RTCIceServer is written in JSON.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// NewRelay starts a relay listening as cfg says. The caller must Close it.
func NewRelay(cfg RelayConfig) (*Relay, error) {
	if len(cfg.Secret) < MinSecretSize {
		return nil, fmt.Errorf("turn: relay secret is %d bytes, want at least %d", len(cfg.Secret), MinSecretSize)
	}
	if cfg.TTL < 0 {
		return nil, fmt.Errorf("turn: negative relay credential TTL %v", cfg.TTL)
	}
	if (cfg.RelayPortMin == 0) != (cfg.RelayPortMax == 0) || cfg.RelayPortMin > cfg.RelayPortMax {
		return nil, fmt.Errorf("turn: bad relay port range %d-%d", cfg.RelayPortMin, cfg.RelayPortMax)
	}
	r := &Relay{
		log:     cfg.Logger,
		realm:   cfg.Realm,
		secret:  slices.Clone(cfg.Secret),
		ttl:     cfg.TTL,
		now:     cfg.Now,
		policy:  relayPolicy{allowLoopback: cfg.AllowLoopback, allowPrivate: cfg.AllowPrivate},
		portMin: cfg.RelayPortMin,
		portMax: cfg.RelayPortMax,
		sockets: make(map[*relaySocket]struct{}),
		conns:   make(map[*relayTCPConn]struct{}),
		live:    make(map[string]int),
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.realm == "" {
		r.realm = DefaultRealm
	}
	if r.ttl == 0 {
		r.ttl = DefaultCredentialTTL
	}
	if r.now == nil {
		r.now = time.Now
	}
	udpAddr := cfg.UDPAddr
	if udpAddr == "" {
		udpAddr = DefaultRelayUDPAddr
	}
	if err := r.setAddresses(udpAddr, cfg.PublicIP); err != nil {
		return nil, err
	}

	var err error
	if r.udp, err = net.ListenPacket("udp", udpAddr); err != nil {
		return nil, fmt.Errorf("turn: relay: %w", err)
	}
	r.udpPort = r.udp.LocalAddr().(*net.UDPAddr).Port
	gen := relayAddressGenerator{r}
	srvCfg := pionturn.ServerConfig{
		PacketConnConfigs: []pionturn.PacketConnConfig{{
			PacketConn:            r.udp,
			RelayAddressGenerator: gen,
			PermissionHandler:     r.permit,
		}},
		LoggerFactory: turnLoggerFactory{r.log},
		Realm:         r.realm,
		AuthHandler:   r.authenticate,
		EventHandler: pionturn.EventHandler{
			OnAuth:              r.onAuth,
			OnAllocationCreated: r.onAllocationCreated,
			OnAllocationDeleted: r.onAllocationDeleted,
		},
	}
	if cfg.TCPAddr != "" {
		l, err := net.Listen("tcp", cfg.TCPAddr)
		if err != nil {
			r.udp.Close()
			return nil, fmt.Errorf("turn: relay: %w", err)
		}
		r.tcp = relayListener{Listener: l, r: r}
		r.tcpPort = l.Addr().(*net.TCPAddr).Port
		srvCfg.ListenerConfigs = append(srvCfg.ListenerConfigs, pionturn.ListenerConfig{
			Listener:              r.tcp,
			RelayAddressGenerator: gen,
			PermissionHandler:     r.permit,
		})
	}
	if cfg.Shared != nil {
		if cfg.SharedPort <= 0 || cfg.SharedPort > 65535 {
			r.udp.Close()
			if r.tcp != nil {
				r.tcp.Close()
			}
			return nil, fmt.Errorf("turn: relay: bad shared port %d", cfg.SharedPort)
		}
		r.shared, r.sharedPort, r.sharedTLS = relayListener{Listener: cfg.Shared, r: r}, cfg.SharedPort, cfg.SharedTLS
		srvCfg.ListenerConfigs = append(srvCfg.ListenerConfigs, pionturn.ListenerConfig{
			Listener:              r.shared,
			RelayAddressGenerator: gen,
			PermissionHandler:     r.permit,
		})
	}
	if r.srv, err = pionturn.NewServer(srvCfg); err != nil {
		r.udp.Close()
		if r.tcp != nil {
			r.tcp.Close()
		}
		if r.shared != nil {
			r.shared.Close()
		}
		return nil, fmt.Errorf("turn: relay: %w", err)
	}

	attrs := []any{"udp", r.udp.LocalAddr().String(), "public_ip", r.publicIP.String()}
	if r.tcp != nil {
		attrs = append(attrs, "tcp", r.tcp.Addr().String())
	}
	if r.shared != nil {
		attrs = append(attrs, "shared_port", r.sharedPort, "shared_tls", r.sharedTLS)
	}
	r.log.Info("turn: relay listening", attrs...)
	if pub, _ := netip.AddrFromSlice(r.publicIP); !r.policy.allows(pub) {
		r.log.Warn("turn: the relay's public IP is one it refuses to relay to: participants relayed on both ends cannot connect",
			"public_ip", r.publicIP.String())
	}
	return r, nil
}

// setAddresses sets the relay's public IP and the host its relayed ports are
// bound on, from the UDP listen address and the configured public IP.
func (r *Relay) setAddresses(udpAddr, publicIP string) error {
	host, _, err := net.SplitHostPort(udpAddr)
	if err != nil {
		return fmt.Errorf("turn: relay UDP address: %w", err)
	}
	var listen netip.Addr
	if host != "" {
		if listen, err = netip.ParseAddr(host); err != nil {
			return fmt.Errorf("turn: relay UDP address %q: host must be an IP address", udpAddr)
		}
		listen = listen.Unmap()
	}
	r.relayHost = "0.0.0.0"
	if listen.Is4() && !listen.IsUnspecified() {
		r.relayHost = listen.String()
	}

	var pub netip.Addr
	switch {
	case publicIP != "":
		if pub, err = netip.ParseAddr(publicIP); err != nil {
			return fmt.Errorf("turn: relay public IP: %w", err)
		}
		pub = pub.Unmap()
		if !pub.Is4() || pub.IsUnspecified() {
			return fmt.Errorf("turn: relay public IP %s: want a specific IPv4 address (relayed addresses are IPv4)", pub)
		}
	case listen.Is4() && !listen.IsUnspecified():
		pub = listen
	case (!listen.IsValid() || listen.IsUnspecified()) && r.policy.allowLoopback:
		pub = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	default:
		return fmt.Errorf("turn: relay public IP is needed: the UDP address %q names no specific IPv4 address to announce", udpAddr)
	}
	r.publicIP = net.IP(pub.AsSlice())
	return nil
}

// Addr returns the address the relay's UDP listener is bound to.
func (r *Relay) Addr() net.Addr { return r.udp.LocalAddr() }

// Credentials returns TURN credentials for participant in the TURN REST API
// format: the username is "EXPIRY:PARTICIPANT", EXPIRY being when they expire
// in Unix seconds, and the password is the standard base64 encoding of the
// HMAC-SHA1 of the username keyed with the relay's secret. They are valid
// until expires, TTL from now (to the second).
func (r *Relay) Credentials(participant string) (username, password string, expires time.Time) {
	expires = time.Unix(r.now().Add(r.ttl).Unix(), 0)
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + participant
	return username, r.password(username), expires
}

// password returns the password that goes with username.
func (r *Relay) password(username string) string {
	mac := hmac.New(sha1.New, r.secret)
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ICEServers returns the ICE servers participant's RTCPeerConnection should
// use, reaching the relay at host (a name or an IP address): a STUN server at
// the relay's UDP port and, with fresh credentials, TURN over UDP, then, when
// the relay listens on TCP, TURN over TCP, then, when it shares the HTTP(S)
// port, TURN over TLS (or TCP) on that port: from the path a strict network
// blocks first to the one it blocks last. ICE tries them all at once and
// prefers the earlier ones (a relayed UDP path over TCP over TLS).
func (r *Relay) ICEServers(host, participant string) []ICEServer {
	udp := net.JoinHostPort(host, strconv.Itoa(r.udpPort))
	username, password, _ := r.Credentials(participant)
	turnServer := ICEServer{
		URLs:       []string{"turn:" + udp + "?transport=udp"},
		Username:   username,
		Credential: password,
	}
	if r.tcp != nil {
		tcp := net.JoinHostPort(host, strconv.Itoa(r.tcpPort))
		turnServer.URLs = append(turnServer.URLs, "turn:"+tcp+"?transport=tcp")
	}
	if r.shared != nil {
		shared := net.JoinHostPort(host, strconv.Itoa(r.sharedPort))
		scheme := "turn:"
		if r.sharedTLS {
			scheme = "turns:"
		}
		turnServer.URLs = append(turnServer.URLs, scheme+shared+"?transport=tcp")
	}
	return []ICEServer{{URLs: []string{"stun:" + udp}}, turnServer}
}

// Close stops the relay: it stops listening, closes every TCP connection and
// relayed port, and waits for the allocations to be torn down. Later calls
// return what the first returned.
func (r *Relay) Close() error {
	r.closeOnce.Do(func() { r.closeErr = r.close() })
	return r.closeErr
}

func (r *Relay) close() error {
	r.mu.Lock()
	r.closing = true
	r.drained = make(chan struct{})
	if r.allocs == 0 {
		close(r.drained)
	}
	conns, sockets := r.conns, r.sockets
	r.conns, r.sockets = nil, nil
	r.mu.Unlock()

	// The server's read loops end on their closed listeners and close the
	// allocations; closing the connections and sockets here as well makes
	// sure they are all released, whatever order that happens in.
	errs := []error{r.srv.Close()}
	for c := range conns {
		c.Close()
	}
	for s := range sockets {
		s.Close()
	}
	select {
	case <-r.drained:
	case <-time.After(relayCloseTimeout):
		errs = append(errs, errors.New("turn: relay: timed out waiting for allocations to close"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("turn: closing relay: %w", err)
	}
	return nil
}

// authenticate is the server's pionturn.AuthHandler. It returns the key of the
// password that goes with username if the username is well-formed and not
// expired (or is still used by an allocation of the client at src); the
// server then checks the request's integrity with that key, so a request
// made with any other password fails.
func (r *Relay) authenticate(username, _ string, src net.Addr) ([]byte, bool) {
	expiryText, participant, ok := strings.Cut(username, ":")
	expiry, err := strconv.ParseUint(expiryText, 10, 63)
	if !ok || err != nil {
		r.log.Info("turn: refused malformed username", "client", src.String(), "username", username)
		return nil, false
	}
	if int64(expiry) < r.now().Unix() && !r.hasAllocation(src, username) {
		r.log.Debug("turn: refused expired credentials", "client", src.String(), "participant", participant,
			"expired", time.Unix(int64(expiry), 0))
		return nil, false
	}
	return pionturn.GenerateAuthKey(username, r.realm, r.password(username)), true
}

// onAuth logs the requests whose credentials the server found wrong.
func (r *Relay) onAuth(src, _ net.Addr, _, username, _, method string, ok bool) {
	if !ok {
		r.log.Info("turn: refused wrong password", "client", src.String(), "username", username, "method", method)
	}
}

func liveKey(src net.Addr, username string) string {
	return src.String() + " " + username
}

func (r *Relay) hasAllocation(src net.Addr, username string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.live[liveKey(src, username)] > 0
}

func (r *Relay) onAllocationCreated(src, _ net.Addr, protocol, username, _ string, relayAddr net.Addr, _ int) {
	r.mu.Lock()
	r.live[liveKey(src, username)]++
	r.allocs++
	r.mu.Unlock()
	r.log.Debug("turn: allocation created", "client", src.String(), "protocol", protocol,
		"username", username, "relayed", relayAddr.String())
}

func (r *Relay) onAllocationDeleted(src, _ net.Addr, protocol, username, _ string) {
	r.mu.Lock()
	key := liveKey(src, username)
	if r.live[key]--; r.live[key] <= 0 {
		delete(r.live, key)
	}
	r.allocs--
	if r.closing && r.allocs == 0 {
		select {
		case <-r.drained:
		default:
			close(r.drained)
		}
	}
	r.mu.Unlock()
	r.log.Debug("turn: allocation deleted", "client", src.String(), "protocol", protocol, "username", username)
}

// permit is the server's pionturn.PermissionHandler: it lets a client create
// permissions and channels only for peers the relay's policy allows. The
// server relays nothing to or from a peer without one.
func (r *Relay) permit(client net.Addr, peer net.IP) bool {
	ip, _ := netip.AddrFromSlice(peer)
	if r.policy.allows(ip) {
		return true
	}
	r.log.Info("turn: refused peer", "client", client.String(), "peer", peer.String())
	return false
}

// allocate binds a relayed port for an allocation, on the requested port if
// any (it must be in the relay's port range, if it has one).
func (r *Relay) allocate(network string, requested int) (net.PacketConn, net.Addr, error) {
	r.mu.Lock()
	closing := r.closing
	r.mu.Unlock()
	if closing {
		return nil, nil, net.ErrClosed
	}

	var (
		conn net.PacketConn
		err  error
	)
	switch {
	case requested != 0:
		if r.portMin != 0 && (requested < int(r.portMin) || requested > int(r.portMax)) {
			return nil, nil, fmt.Errorf("turn: relay: requested port %d is out of range %d-%d", requested, r.portMin, r.portMax)
		}
		conn, err = r.listenRelay(network, requested)
	case r.portMin == 0:
		conn, err = r.listenRelay(network, 0)
	default:
		// Try every port of the range, from a random one on.
		n := int(r.portMax) - int(r.portMin) + 1
		start := rand.IntN(n)
		for i := range n {
			port := int(r.portMin) + (start+i)%n
			if conn, err = r.listenRelay(network, port); err == nil {
				break
			}
		}
		if err != nil {
			err = fmt.Errorf("turn: relay: no free port in %d-%d: %w", r.portMin, r.portMax, err)
		}
	}
	if err != nil {
		return nil, nil, err
	}

	s := &relaySocket{PacketConn: conn, r: r}
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		conn.Close()
		return nil, nil, net.ErrClosed
	}
	r.sockets[s] = struct{}{}
	r.mu.Unlock()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	return s, &net.UDPAddr{IP: slices.Clone(r.publicIP), Port: port}, nil
}

func (r *Relay) listenRelay(network string, port int) (net.PacketConn, error) {
	return net.ListenPacket(network, net.JoinHostPort(r.relayHost, strconv.Itoa(port)))
}

// relayAddressGenerator gives the TURN server the relay's relayed ports.
type relayAddressGenerator struct{ r *Relay }

func (relayAddressGenerator) Validate() error { return nil }

func (g relayAddressGenerator) AllocatePacketConn(network string, requestedPort int) (net.PacketConn, net.Addr, error) {
	return g.r.allocate(network, requestedPort)
}

func (relayAddressGenerator) AllocateConn(string, int) (net.Conn, net.Addr, error) {
	return nil, nil, errors.New("turn: relay: TCP relayed ports are not supported")
}

// relaySocket is a relayed port. It refuses to send to peers the relay's
// policy does not allow, whatever permissions the server has, and to the
// relay's own STUN and TURN ports.
type relaySocket struct {
	net.PacketConn
	r      *Relay
	closed relayedClose
}

func (s *relaySocket) WriteTo(p []byte, addr net.Addr) (int, error) {
	udp, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("turn: relay: peer address %v is not UDP", addr)
	}
	ip, _ := netip.AddrFromSlice(udp.IP)
	self := udp.IP.Equal(s.r.publicIP) && (udp.Port == s.r.udpPort || udp.Port == s.r.tcpPort)
	if !s.r.policy.allows(ip) || self {
		return 0, fmt.Errorf("turn: relay: peer %v is refused", addr)
	}
	return s.PacketConn.WriteTo(p, addr)
}

// Close closes the socket; later calls return what the first returned, so
// that the relay and the TURN server may both close it.
func (s *relaySocket) Close() error {
	return s.closed.close(s.r, s.PacketConn.Close, func() { delete(s.r.sockets, s) })
}

// relayListener keeps track of the TCP connections it accepts, for Close to
// close them: the TURN server stops accepting on Close but leaves accepted
// connections open.
type relayListener struct {
	net.Listener
	r *Relay
}

func (l relayListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &relayTCPConn{Conn: c, r: l.r}
	l.r.mu.Lock()
	closing := l.r.closing
	if !closing {
		l.r.conns[tc] = struct{}{}
	}
	l.r.mu.Unlock()
	if closing {
		c.Close()
		return nil, net.ErrClosed
	}
	return tc, nil
}

type relayTCPConn struct {
	net.Conn
	r      *Relay
	closed relayedClose
}

// Close closes the connection; later calls return what the first returned,
// so that the relay and the TURN server may both close it.
func (c *relayTCPConn) Close() error {
	return c.closed.close(c.r, c.Conn.Close, func() { delete(c.r.conns, c) })
}

// relayedClose closes a relayed socket or connection once: the first close
// calls closeFn, then forget with the relay's lock held, for the relay to
// forget it; every close returns what closeFn returned.
type relayedClose struct {
	once sync.Once
	err  error
}

func (o *relayedClose) close(r *Relay, closeFn func() error, forget func()) error {
	o.once.Do(func() {
		o.err = closeFn()
		r.mu.Lock()
		forget()
		r.mu.Unlock()
	})
	return o.err
}

// relayPolicy says which peers the relay relays to.
type relayPolicy struct {
	allowLoopback bool
	allowPrivate  bool
}

// allows reports whether the relay may relay to a peer at ip. It never
// allows an invalid, unspecified or multicast address, one in 0.0.0.0/8
// ("this network", which Linux takes for the host itself) or one in
// 240.0.0.0/4 (reserved, with the broadcast address). It allows loopback
// addresses only with allowLoopback, and private, shared (100.64.0.0/10) and
// link-local ones only with allowPrivate. An IPv4-mapped IPv6 address is
// judged as the IPv4 address it maps.
func (p relayPolicy) allows(ip netip.Addr) bool {
	ip = ip.Unmap()
	var special, shared bool
	if ip.Is4() {
		a := ip.As4()
		special = a[0] == 0 || a[0] >= 240
		shared = a[0] == 100 && a[1]&0xc0 == 64
	}
	switch {
	case !ip.IsValid(), ip.IsUnspecified(), ip.IsMulticast(), special:
		return false
	case ip.IsLoopback():
		return p.allowLoopback
	case ip.IsPrivate(), shared, ip.IsLinkLocalUnicast():
		return p.allowPrivate
	}
	return true
}

// turnLoggerFactory makes pion loggers that write to a slog.Logger.
type turnLoggerFactory struct{ log *slog.Logger }

func (f turnLoggerFactory) NewLogger(scope string) logging.LeveledLogger {
	return turnLogger{f.log.With("scope", scope)}
}

// turnLogger is a pion logger writing to a slog.Logger. Pion's Info is
// written at Debug: pion logs there what happens in the ordinary course of
// relaying (and what a stranger's stray packets cause).
type turnLogger struct{ log *slog.Logger }

const turnLevelTrace = slog.LevelDebug - 4

func (l turnLogger) logf(level slog.Level, format string, args ...any) {
	ctx := context.Background()
	if l.log.Enabled(ctx, level) {
		l.log.Log(ctx, level, fmt.Sprintf(format, args...))
	}
}

func (l turnLogger) Trace(msg string)                  { l.logf(turnLevelTrace, "%s", msg) }
func (l turnLogger) Tracef(format string, args ...any) { l.logf(turnLevelTrace, format, args...) }
func (l turnLogger) Debug(msg string)                  { l.logf(slog.LevelDebug, "%s", msg) }
func (l turnLogger) Debugf(format string, args ...any) { l.logf(slog.LevelDebug, format, args...) }
func (l turnLogger) Info(msg string)                   { l.logf(slog.LevelDebug, "%s", msg) }
func (l turnLogger) Infof(format string, args ...any)  { l.logf(slog.LevelDebug, format, args...) }
func (l turnLogger) Warn(msg string)                   { l.logf(slog.LevelWarn, "%s", msg) }
func (l turnLogger) Warnf(format string, args ...any)  { l.logf(slog.LevelWarn, format, args...) }
func (l turnLogger) Error(msg string)                  { l.logf(slog.LevelError, "%s", msg) }
func (l turnLogger) Errorf(format string, args ...any) { l.logf(slog.LevelError, format, args...) }
