package media

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// EngineConfig configures the WebRTC engine behind every PeerConnection of a
// server.
type EngineConfig struct {
	// Loopback makes PeerConnections gather loopback candidates and no mDNS
	// ones: for tests and for a server used on one machine.
	Loopback bool
	// NAT1To1IPs are public addresses announced instead of the host's own, for
	// a server behind a 1:1 NAT.
	NAT1To1IPs []string
	// UDPAddr, when set, is the one UDP address ("host:port", or ":port") all
	// media and data of every PeerConnection goes through, so that a firewall
	// needs one port, not a range.
	UDPAddr string
	// SCTPMaxMessageSize bounds one data channel message; 0 keeps pion's default.
	SCTPMaxMessageSize uint32
}

// Engine is the WebRTC API a server builds its PeerConnections with: the
// codecs an SFU can forward without transcoding (VP8, H.264, AV1, Opus), the
// interceptors a forwarder needs, and the network settings.
type Engine struct {
	API   *webrtc.API
	mux   ice.UDPMux
	conn  net.PacketConn
	sends *sendConn // the shared port's, when there is one

	// What API is built from, for the members' connections' own APIs (see
	// NewMemberConnection).
	settings     webrtc.SettingEngine
	media        *webrtc.MediaEngine
	interceptors *interceptor.Registry
}

// codecs returns the codecs the server negotiates, in order of preference.
func codecs() []struct {
	p webrtc.RTPCodecParameters
	t webrtc.RTPCodecType
} {
	videoFeedback := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"},
		{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: webrtc.TypeRTCPFBTransportCC}}
	return []struct {
		p webrtc.RTPCodecParameters
		t webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
			ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8,
			ClockRate: 90000, RTCPFeedback: videoFeedback}, PayloadType: 96}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264,
			ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
			RTCPFeedback: videoFeedback}, PayloadType: 102}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264,
			ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
			RTCPFeedback: videoFeedback}, PayloadType: 108}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeAV1,
			ClockRate: 90000, RTCPFeedback: videoFeedback}, PayloadType: 45}, webrtc.RTPCodecTypeVideo},
	}
}

// SCTPRTOMax caps the data channels' retransmission timeout.
const SCTPRTOMax = 2 * time.Second

// udpReadBuffer is the receive buffer asked for the shared media port. One
// socket takes every participant's RTCP, ICE checks and DTLS handshakes,
// read by one goroutine that the forwarding goroutines delay: with Linux's
// default (208 KB) it overflowed while hundreds of students joined, and a
// lost handshake packet costs a joiner a retransmission timeout.
const udpReadBuffer = 4 << 20

// NewEngine builds the engine. Close releases its UDP port.
//
// The interceptors are chosen for forwarding: a NACK generator asks
// publishers for lost packets, RTCP reports go both ways, and publishers get
// transport-wide congestion feedback. There is deliberately no NACK
// responder: it would copy every packet sent to every subscriber, where the
// forwarder answers NACKs from one cache per track.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	var se webrtc.SettingEngine
	// A lost data-channel packet costs an SCTP retransmission timeout,
	// which doubles with each loss up to pion's 60 s: a participant's board
	// would stall for many seconds after a burst of loss. Live events are
	// worth resending sooner.
	se.SetSCTPRTOMax(SCTPRTOMax)
	// The server answers a participant's first offer as the DTLS server and
	// skips the cookie exchange (HelloVerifyRequest): the participant's
	// ClientHello is answered at once, so a join's handshake is two round
	// trips instead of three (pion's answerer defaults to the DTLS client,
	// whose ClientHello the participant answers with a cookie to send
	// again). The cookie keeps a forged ClientHello from turning the
	// server's larger flight on someone else's address; pion's ICE
	// connection sends only to the selected pair, or else to the best pair
	// whose connectivity checks succeeded, so here it cannot. While a class
	// is live, each round trip of a join waits behind the forwarding
	// (docs/benchmarks.md).
	if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer); err != nil {
		return nil, fmt.Errorf("media: DTLS role: %w", err)
	}
	se.SetDTLSInsecureSkipHelloVerify(true)
	if cfg.SCTPMaxMessageSize > 0 {
		se.SetSCTPMaxMessageSize(cfg.SCTPMaxMessageSize)
	}
	if cfg.Loopback {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		se.SetIncludeLoopbackCandidate(true)
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	if len(cfg.NAT1To1IPs) > 0 {
		// Host candidates carry the public addresses instead of the
		// host's own.
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{External: cfg.NAT1To1IPs,
			AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace}); err != nil {
			return nil, fmt.Errorf("media: public addresses %v: %w", cfg.NAT1To1IPs, err)
		}
	}
	e := &Engine{}
	if cfg.UDPAddr != "" {
		conn, err := net.ListenPacket("udp4", cfg.UDPAddr)
		if err != nil {
			return nil, fmt.Errorf("media: listen on UDP %s: %w", cfg.UDPAddr, err)
		}
		e.conn = conn
		var muxed net.PacketConn = conn
		if u, ok := conn.(*net.UDPConn); ok {
			// Best effort: the kernel caps it (net.core.rmem_max).
			_ = u.SetReadBuffer(udpReadBuffer)
			e.sends = newSendConn(u)
			muxed = e.sends
		}
		e.mux = webrtc.NewICEUDPMux(nil, muxed)
		se.SetICEUDPMux(e.mux)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	m := &webrtc.MediaEngine{}
	for _, c := range codecs() {
		if err := m.RegisterCodec(c.p, c.t); err != nil {
			e.Close()
			return nil, fmt.Errorf("media: register %s: %w", c.p.MimeType, err)
		}
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		e.Close()
		return nil, fmt.Errorf("media: simulcast header extensions: %w", err)
	}
	ir := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("media: NACK generator: %w", err)
	}
	ir.Add(gen)
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		e.Close()
		return nil, fmt.Errorf("media: RTCP reports: %w", err)
	}
	if err := webrtc.ConfigureTWCCSender(m, ir); err != nil {
		e.Close()
		return nil, fmt.Errorf("media: TWCC: %w", err)
	}
	// One logger factory for every API built from these settings, so that
	// a member's own API (NewMemberConnection) does not make another.
	se.LoggerFactory = logging.NewDefaultLoggerFactory()
	e.settings, e.media, e.interceptors = se, m, ir
	e.API = webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir))
	return e, nil
}

// NewMemberConnection returns a PeerConnection for a participant, built as
// API's are, and, when the engine has a shared media port, the Direct that
// sends the media forwarded to it past pion's write chain (nil otherwise).
// The connection gets an API of its own, whose DTLS handshake tells the
// Direct the SRTP keys: pion keeps them to itself, and the hooks that show
// them belong to a SettingEngine, which would otherwise be every
// connection's.
func (e *Engine) NewMemberConnection(cfg webrtc.Configuration) (*webrtc.PeerConnection, *Direct, error) {
	if e.sends == nil {
		pc, err := e.API.NewPeerConnection(cfg)
		return pc, nil, err
	}
	keys := &dtlsKeys{}
	se := e.settings
	// A browser's host candidates are mDNS names (".local"); pion resolves
	// them but keeps the name as the candidate's address, which the Direct
	// cannot send to. Without mDNS pion drops them, and the browser's own
	// connectivity checks give the addresses they come from.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetDTLSKeyLogWriter(keys)
	se.SetDTLSServerHelloMessageHook(keys.serverHello)
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(e.media), webrtc.WithInterceptorRegistry(e.interceptors))
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		return nil, nil, err
	}
	return pc, &Direct{conn: e.sends, pc: pc, keys: keys}, nil
}

// UDPAddr returns the address of the shared media port, or nil when each
// PeerConnection has ports of its own.
func (e *Engine) UDPAddr() net.Addr {
	if e.conn == nil {
		return nil
	}
	return e.conn.LocalAddr()
}

// Batcher returns what lets a forwarder send several packets to one
// subscriber at once through the shared media port (see SendBatcher), or
// nil when each PeerConnection has ports of its own.
func (e *Engine) Batcher() SendBatcher {
	if e.sends == nil {
		return nil
	}
	return e.sends
}

// Close releases the shared media port.
func (e *Engine) Close() error {
	var errs []error
	if e.mux != nil {
		errs = append(errs, e.mux.Close())
	}
	if e.conn != nil {
		if err := e.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ForwardingCodecs returns the codecs of a kind for a track the server
// sends: video without transport-wide congestion feedback, so that the
// subscriber estimates its bandwidth itself and says so in REMB.
func ForwardingCodecs(kind webrtc.RTPCodecType) []webrtc.RTPCodecParameters {
	var out []webrtc.RTPCodecParameters
	for _, c := range codecs() {
		if c.t != kind {
			continue
		}
		var fb []webrtc.RTCPFeedback
		for _, f := range c.p.RTCPFeedback {
			if f.Type != webrtc.TypeRTCPFBTransportCC {
				fb = append(fb, f)
			}
		}
		c.p.RTCPFeedback = fb
		out = append(out, c.p)
	}
	return out
}
