package media_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"classroom/media"
	"classroom/media/mediatest"
)

// participantAPI is a participant's pion, on loopback; its settings are first
// set by tune (its network, its DTLS), when given.
func participantAPI(answerAs webrtc.DTLSRole, tune ...func(*webrtc.SettingEngine)) *webrtc.API {
	var se webrtc.SettingEngine
	for _, f := range tune {
		f(&se)
	}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if answerAs != webrtc.DTLSRoleAuto {
		_ = se.SetAnsweringDTLSRole(answerAs)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}

// negotiate has offerer offer and answerer answer, each with every
// candidate, and waits until both are connected.
func negotiate(t *testing.T, offerer, answerer *webrtc.PeerConnection) {
	t.Helper()
	connected := func(pc *webrtc.PeerConnection) chan struct{} {
		ch := make(chan struct{})
		var once bool
		pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
			if s == webrtc.PeerConnectionStateConnected && !once {
				once = true
				close(ch)
			}
		})
		return ch
	}
	a, b := connected(offerer), connected(answerer)
	mediatest.Gather(t, offerer)()
	if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(answerer)
	if err := answerer.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := offerer.SetRemoteDescription(*answerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []chan struct{}{a, b} {
		select {
		case <-ch:
		case <-time.After(15 * time.Second):
			t.Fatal("not connected in 15 s")
		}
	}
}

// memberPair returns a member's connection of an engine with a shared port,
// with a video track to send and its Direct, and the participant's
// connection (of tune's settings), not yet negotiated.
func memberPair(t *testing.T, tune ...func(*webrtc.SettingEngine)) (*webrtc.PeerConnection, *media.Direct, *webrtc.RTPSender, *webrtc.PeerConnection) {
	t.Helper()
	e, err := media.NewEngine(media.EngineConfig{Loopback: true, UDPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	server, direct, err := e.NewMemberConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	if direct == nil {
		t.Fatal("an engine with a shared port made no Direct")
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "camera", "teacher")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := server.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	participant, err := participantAPI(webrtc.DTLSRoleAuto, tune...).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { participant.Close() })
	return server, direct, sender, participant
}

// selected returns the address a connection sends to.
func selected(t *testing.T, pc *webrtc.PeerConnection) netip.AddrPort {
	t.Helper()
	pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		t.Fatalf("no selected pair: %v", err)
	}
	return netip.AddrPortFrom(netip.MustParseAddr(pair.Remote.Address), pair.Remote.Port)
}

// TestDirectStream: packets a member's Direct encrypts with the keys it
// learnt from the DTLS handshake reach the participant, who decrypts them
// with the keys pion derived there: the same, every packet and byte, across
// a rollover of the sequence numbers; whichever cipher suite (the PRF's hash
// SHA-256 or SHA-384), SRTP profile (AES-GCM of either size, AES-CM with
// HMAC-SHA1) and master secret (extended or not) the participant's DTLS
// settles on.
func TestDirectStream(t *testing.T) {
	for _, c := range []struct {
		name  string
		suite dtls.CipherSuiteID
		srtp  dtls.SRTPProtectionProfile
		ems   dtls.ExtendedMasterSecretType
	}{
		{"default", 0, 0, dtls.RequestExtendedMasterSecret},
		{"SHA-384 PRF, AES-128-GCM", dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.SRTP_AEAD_AES_128_GCM, dtls.RequestExtendedMasterSecret},
		{"CBC suite, AES-CM, no extended master secret", dtls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, dtls.SRTP_AES128_CM_HMAC_SHA1_80, dtls.DisableExtendedMasterSecret},
		{"AES-256-GCM, extended master secret required", dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.SRTP_AEAD_AES_256_GCM, dtls.RequireExtendedMasterSecret},
	} {
		t.Run(c.name, func(t *testing.T) {
			testDirectStream(t, func(se *webrtc.SettingEngine) {
				if c.suite != 0 {
					se.SetDTLSCipherSuites(c.suite)
				}
				if c.srtp != 0 {
					se.SetSRTPProtectionProfiles(c.srtp)
				}
				se.SetDTLSExtendedMasterSecret(c.ems)
			})
		})
	}
}

func testDirectStream(t *testing.T, tune func(*webrtc.SettingEngine)) {
	server, direct, sender, participant := memberPair(t, tune)
	if _, ok, err := direct.Stream(); ok || err != nil {
		t.Fatalf("before the handshake: stream %v, error %v; want neither", ok, err)
	}
	if _, err := participant.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	tracks := make(chan *webrtc.TrackRemote, 1)
	participant.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { tracks <- tr })
	negotiate(t, participant, server)

	var s *media.DirectStream
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ok bool
		var err error
		if s, ok, err = direct.Stream(); err != nil {
			t.Fatal(err)
		} else if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no stream 10 s after connecting")
		}
		time.Sleep(10 * time.Millisecond)
	}
	enc := sender.GetParameters().Encodings[0]
	to := selected(t, server)
	const packets = 40
	payload := func(i int) []byte { return bytes.Repeat([]byte(fmt.Sprintf("<%04d>", i)), 150) }
	send := func(i int) bool { // t.Error, not Fatal: it runs on a goroutine too
		h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(65530 + i), Timestamp: uint32(i * 3000),
			SSRC: uint32(enc.SSRC), Marker: true}
		if n, err := s.WriteRTP(to, &h, payload(i)); err != nil || n != h.MarshalSize()+len(payload(i)) {
			t.Errorf("packet %d: wrote %d, %v", i, n, err)
			return false
		}
		return true
	}
	if !send(0) { // the first packet makes pion tell the participant of the track
		return
	}
	var tr *webrtc.TrackRemote
	select {
	case tr = <-tracks:
	case <-time.After(10 * time.Second):
		t.Fatal("the participant was told of no track")
	}
	sending := make(chan struct{})
	defer func() { <-sending }()
	go func() {
		defer close(sending)
		for i := 1; i < packets && send(i); i++ {
			time.Sleep(2 * time.Millisecond)
		}
	}()
	// The first packet went before pion read the track: it is read first.
	for i := 0; i < packets; i++ {
		_ = tr.SetReadDeadline(time.Now().Add(5 * time.Second))
		p, _, err := tr.ReadRTP()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if want := uint16(65530 + i); p.SequenceNumber != want || !bytes.Equal(p.Payload, payload(i)) {
			t.Fatalf("packet %d: sequence %d and %d bytes, want %d and %d", i, p.SequenceNumber, len(p.Payload), want, len(payload(i)))
		}
	}
}

// TestDirectRefusedAsDTLSClient: a connection whose handshake this server
// made as the DTLS client gives no keys (its ServerHello was the
// participant's), and its Direct says so for good, so that pion sends.
func TestDirectRefusedAsDTLSClient(t *testing.T) {
	server, direct, _, participant := memberPair(t)
	participant.Close()
	participant, err := participantAPI(webrtc.DTLSRoleServer).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer participant.Close()
	negotiate(t, server, participant)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, ok, err := direct.Stream()
		if ok {
			t.Fatal("a stream from a handshake made as the DTLS client")
		}
		if err != nil {
			if !errors.Is(err, media.ErrNotDirect) {
				t.Fatalf("refused with %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("neither a stream nor a refusal 10 s after connecting")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, ok, err := direct.Stream(); ok || !errors.Is(err, media.ErrNotDirect) {
		t.Fatalf("asked again: stream %v, error %v", ok, err)
	}
}
