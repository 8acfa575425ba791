// Command barefanout is the baseline of the media fan-out benchmark: bare pion
// forwarding, with nothing of the classroom SFU's own (no packet cache, no
// sequence rewriting, no per-subscriber queues, no congestion handling).
//
// It serves one HTTP endpoint, POST /offer, doing non-trickle offer/answer:
// the body is an SDP offer as JSON ({"type":"offer","sdp":"…"}); the answer,
// with every ICE candidate in it, is the response. The first peer whose offer
// sends media is the publisher: each of its tracks is forwarded through one
// webrtc.TrackLocalStaticRTP, written from the track's read loop
// (TrackRemote.ReadRTP, then TrackLocalStaticRTP.WriteRTP), the pattern of
// pion's broadcast example. Every later peer is a subscriber and is given
// every forwarded track before it is answered.
//
// PeerConnections use pion's default codecs and interceptors
// (webrtc.RegisterDefaultInterceptors: NACK generator and responder, RTCP
// reports, TWCC, stats) and gather loopback UDP4 candidates only. The RTCP of
// every subscriber's RTPSender is read (the interceptors need it); a keyframe
// request (PLI or FIR) in it is passed on to the publisher, as a browser
// viewer joining mid-stream needs.
//
// One process serves one publisher; start a new one for another run.
//
// Usage:
//
//	barefanout -addr 127.0.0.1:8090
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"classroom/media"
)

const (
	// publisherWait bounds how long a subscriber's offer waits for the
	// publisher's tracks to arrive.
	publisherWait = 15 * time.Second
	// maxOffer bounds the size of an offer's body.
	maxOffer = 1 << 20
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "address to serve HTTP on")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, log); err != nil {
		log.Error("barefanout", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string, log *slog.Logger) error {
	s, err := newServer(log)
	if err != nil {
		return err
	}
	defer s.close()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /offer", s.serveOffer)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe() }()
	log.Info("serving", "addr", addr)
	select {
	case err := <-done:
		return fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	<-done
	return nil
}

// server forwards one publisher's tracks to every subscriber.
type server struct {
	api *webrtc.API
	log *slog.Logger

	mu        sync.Mutex
	publisher *webrtc.PeerConnection
	want      int // tracks the publisher's offer announced
	tracks    []*forwarded
	ready     chan struct{} // closed when every track of the publisher is forwarded
	peers     map[*webrtc.PeerConnection]struct{}
	closed    bool

	wg sync.WaitGroup // read loops of the publisher's tracks and of subscribers' RTCP
}

// forwarded is one of the publisher's tracks and the local track that sends
// it on to every subscriber.
type forwarded struct {
	local      *webrtc.TrackLocalStaticRTP
	remoteSSRC uint32
}

func newServer(log *slog.Logger) (*server, error) {
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("register codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("register interceptors: %w", err)
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir))
	return &server{api: api, log: log, ready: make(chan struct{}), peers: map[*webrtc.PeerConnection]struct{}{}}, nil
}

// close closes every PeerConnection and waits for the read loops to end.
func (s *server) close() {
	s.mu.Lock()
	s.closed = true
	peers := s.peers
	s.peers = map[*webrtc.PeerConnection]struct{}{}
	s.mu.Unlock()
	for pc := range peers {
		if err := pc.Close(); err != nil {
			s.log.Warn("close a peer connection", "err", err)
		}
	}
	s.wg.Wait()
}

// serveOffer answers an offer: the publisher's or a subscriber's.
func (s *server) serveOffer(w http.ResponseWriter, r *http.Request) {
	var offer webrtc.SessionDescription
	if err := json.NewDecoder(io.LimitReader(r.Body, maxOffer)).Decode(&offer); err != nil || offer.Type != webrtc.SDPTypeOffer {
		http.Error(w, "the body must be an SDP offer as JSON", http.StatusBadRequest)
		return
	}
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		s.log.Error("create a peer connection", "err", err)
		http.Error(w, "could not create a peer connection", http.StatusInternalServerError)
		return
	}
	if !s.track(pc) {
		pc.Close()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	answer, err := s.answer(r.Context(), pc, offer)
	if err != nil {
		s.log.Warn("answer an offer", "err", err)
		s.untrack(pc)
		pc.Close()
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(answer); err != nil {
		s.log.Warn("send an answer", "err", err)
	}
}

// track remembers pc until its connection ends, and reports whether the
// server is still open.
func (s *server) track(pc *webrtc.PeerConnection) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.peers[pc] = struct{}{}
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed {
			s.untrack(pc)
			pc.Close() // ends the read loops of its tracks and senders
		}
	})
	return true
}

func (s *server) untrack(pc *webrtc.PeerConnection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.peers, pc)
}

// answer sets up pc as the publisher or as a subscriber and returns its
// complete answer.
func (s *server) answer(ctx context.Context, pc *webrtc.PeerConnection, offer webrtc.SessionDescription) (*webrtc.SessionDescription, error) {
	sending := strings.Count(offer.SDP, "a=sendonly") + strings.Count(offer.SDP, "a=sendrecv")
	s.mu.Lock()
	isPublisher := s.publisher == nil && sending > 0
	if isPublisher {
		s.publisher, s.want = pc, sending
	}
	s.mu.Unlock()
	if isPublisher {
		pc.OnTrack(s.forward)
	} else if err := s.subscribe(ctx, pc); err != nil {
		return nil, err
	}
	if err := pc.SetRemoteDescription(offer); err != nil {
		return nil, fmt.Errorf("set the offer: %w", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return nil, fmt.Errorf("create an answer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return nil, fmt.Errorf("set the answer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return nil, fmt.Errorf("gather candidates: %w", ctx.Err())
	}
	return pc.LocalDescription(), nil
}

// forward is the publisher's OnTrack: it makes the track's local copy and
// writes every packet read from the track to it, until the track ends.
func (s *server) forward(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	local, err := webrtc.NewTrackLocalStaticRTP(remote.Codec().RTPCodecCapability, remote.ID(), remote.StreamID())
	if err != nil {
		s.log.Error("create a local track", "err", err)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.tracks = append(s.tracks, &forwarded{local: local, remoteSSRC: uint32(remote.SSRC())})
	if len(s.tracks) == s.want {
		close(s.ready)
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	s.log.Info("forwarding", "track", remote.ID(), "kind", remote.Kind().String(), "codec", remote.Codec().MimeType)
	var failures int
	for {
		pkt, _, err := remote.ReadRTP()
		if err != nil {
			s.log.Info("track ended", "track", remote.ID(), "err", err)
			return
		}
		// io.ErrClosedPipe: a subscriber's binding is not ready yet.
		if err := local.WriteRTP(pkt); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			if failures++; failures == 1 || failures%10000 == 0 {
				s.log.Warn("forward a packet", "track", remote.ID(), "failures", failures, "err", err)
			}
		}
	}
}

// subscribe adds every forwarded track to pc, once the publisher's tracks
// have all arrived, and reads the RTCP of each sender.
func (s *server) subscribe(ctx context.Context, pc *webrtc.PeerConnection) error {
	s.mu.Lock()
	ready := s.ready
	s.mu.Unlock()
	wait := time.NewTimer(publisherWait)
	defer wait.Stop()
	select {
	case <-ready:
	case <-wait.C:
		return errors.New("no publisher yet")
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("shutting down")
	}
	for _, f := range s.tracks {
		sender, err := pc.AddTrack(f.local)
		if err != nil {
			return fmt.Errorf("add track %s: %w", f.local.ID(), err)
		}
		publisher := s.publisher
		s.wg.Go(func() { s.readRTCP(sender, publisher, f.remoteSSRC) })
	}
	return nil
}

// readRTCP reads a subscriber's RTCP until its connection closes, passing
// keyframe requests on to the publisher.
func (s *server) readRTCP(sender *webrtc.RTPSender, publisher *webrtc.PeerConnection, ssrc uint32) {
	media.ReadKeyframeRequests(sender, func() {
		if err := publisher.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
			s.log.Debug("pass on a keyframe request", "err", err)
		}
	})
}
