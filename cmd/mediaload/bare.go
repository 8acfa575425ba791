package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// bareTarget is the baseline server (bench/barefanout): raw pion peers that
// make one offer each over HTTP and take the complete answer.
type bareTarget struct {
	http      *http.Client
	offerURL  string
	api       *webrtc.API
	log       *slog.Logger
	publisher *webrtc.PeerConnection
}

// newBareTarget returns the baseline server at base (http://host:port). Its
// peers are built as realtime/client builds its own: pion's default codecs
// and interceptors, loopback UDP4 candidates.
func newBareTarget(base string, log *slog.Logger) (*bareTarget, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("server URL: %w", err)
	}
	return &bareTarget{http: &http.Client{Timeout: 30 * time.Second}, offerURL: u.JoinPath("/offer").String(),
		api: bareAPI(nil), log: log}, nil
}

// bareAPI builds peers as realtime/client does, their sockets opened on n
// (nil: the system's).
func bareAPI(n transport.Net) *webrtc.API {
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if n != nil {
		se.SetNet(n)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}

// negotiate makes pc's offer, with every candidate, and sets the server's answer.
func (b *bareTarget) negotiate(ctx context.Context, pc *webrtc.PeerConnection) error {
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create an offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set the offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fmt.Errorf("gather candidates: %w", ctx.Err())
	}
	body, err := json.Marshal(pc.LocalDescription())
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.offerURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("send the offer: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("send the offer: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	var answer webrtc.SessionDescription
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return fmt.Errorf("decode the answer: %w", err)
	}
	if err := pc.SetRemoteDescription(answer); err != nil {
		return fmt.Errorf("set the answer: %w", err)
	}
	return nil
}

// publish connects the publisher with the camera's tracks.
func (b *bareTarget) publish(ctx context.Context, cam *camera) error {
	pc, err := b.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	b.publisher = pc
	for _, tr := range cam.tracks() {
		t, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fmt.Errorf("add track %s: %w", tr.ID(), err)
		}
		cam.watch(t.Sender())
	}
	return b.negotiate(ctx, pc)
}

// subscribe connects a subscriber whose tracks rc records, and returns once
// its connection is up (ICE and DTLS done), as a classroom client's join
// returns only once its events channel is open: so that the two joins time
// the same connection set-up. When its video does not start with a keyframe
// it asks for one, as a browser would.
func (b *bareTarget) subscribe(ctx context.Context, _ int, rc *receiver) (io.Closer, error) {
	api := b.api
	if rc.net != nil {
		api = bareAPI(rc.net) // its own sockets, tapped for it alone
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	if rc.tap != nil {
		rc.tap.setRTCPWriter(pc.WriteRTCP)
	}
	// Buffered for every state change there can be, so that pion's
	// callback never blocks once subscribe has stopped reading.
	states := make(chan webrtc.PeerConnectionState, 8)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		select {
		case states <- s:
		default:
		}
	})
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			pc.Close()
			return nil, err
		}
	}
	rc.askKeyframe = func(ssrc uint32) {
		if err := pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
			b.log.Debug("ask for a keyframe", "err", err)
		}
	}
	pc.OnTrack(rc.onTrack)
	if err := b.negotiate(ctx, pc); err != nil {
		pc.Close()
		return nil, err
	}
	for {
		select {
		case s := <-states:
			switch s {
			case webrtc.PeerConnectionStateConnected:
				return pc, nil
			case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
				pc.Close()
				return nil, fmt.Errorf("connection %s", s)
			}
		case <-ctx.Done():
			pc.Close()
			return nil, fmt.Errorf("connect: %w", ctx.Err())
		}
	}
}

// close closes the publisher's connection.
func (b *bareTarget) close() error {
	if b.publisher == nil {
		return nil
	}
	return b.publisher.Close()
}
