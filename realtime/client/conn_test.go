package client

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"classroom/realtime/peer"
	"classroom/realtime/protocol"
)

// TestNoOfferWhileServersWaits: pion may ask the client for an offer (its
// negotiationneeded) while an offer of the server's waits in waitICE; made
// then, the client's offer would cross the server's, which pion cannot roll
// back, and neither would ever be answered (a student of
// TestLectureAcrossNodes had no tracks for a minute). A client that has
// something to negotiate (here a track it added meanwhile) makes its offer
// only once it has answered the server's. Real PeerConnections on both
// sides; the server's offer waits the whole iceStartWait, ICE having not
// been seen to start.
func TestNoOfferWhileServersWaits(t *testing.T) {
	signals := make(chan protocol.Signal, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			sig, err := readSignal(ws)
			if err != nil {
				return
			}
			signals <- sig
		}
	}))
	defer srv.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()

	server, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{}
	cn := &conn{ws: ws, pc: pc, iceStarted: make(chan struct{})} // ICE never seen to start: waitICE waits
	defer cn.close()
	if _, err := pc.CreateDataChannel("events", nil); err != nil {
		t.Fatal(err)
	}

	// The client's first offer and the server's answer.
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	if err := cn.describe(protocol.Signal{Type: protocol.SignalOffer, SDP: offer.SDP}); err != nil {
		t.Fatal(err)
	}
	if sig := <-signals; sig.Type != protocol.SignalOffer {
		t.Fatalf("the first signal is a %q", sig.Type)
	}
	if err := server.SetRemoteDescription(offer); err != nil {
		t.Fatal(err)
	}
	answer, err := server.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := server.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	if err := pc.SetRemoteDescription(answer); err != nil {
		t.Fatal(err)
	}

	// The server offers a track right after its answer.
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "camera", "teacher")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	serverOffer, err := server.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := server.SetLocalDescription(serverOffer); err != nil {
		t.Fatal(err)
	}
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		c.answerOffer(cn, protocol.Signal{Type: protocol.SignalOffer, SDP: serverOffer.SDP})
	}()
	time.Sleep(100 * time.Millisecond) // the server's offer waits in waitICE
	// The client adds a track meanwhile, and pion asks for an offer.
	microphone, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "microphone", "student")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(microphone); err != nil {
		t.Fatal(err)
	}
	cn.offer()

	select {
	case <-answered:
	case <-time.After(iceStartWait + 10*time.Second):
		t.Fatal("the server's offer was not answered")
	}
	if err := c.Err(); err != nil {
		t.Fatalf("the client: %v", err)
	}
	sig := <-signals
	if sig.Type != protocol.SignalAnswer {
		t.Fatalf("the client sent a %q before answering the server's offer", sig.Type)
	}
	if err := server.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sig.SDP}); err != nil {
		t.Fatal(err)
	}
	// The offer asked for meanwhile is made once the server's is answered.
	for deadline := time.After(5 * time.Second); ; {
		select {
		case sig := <-signals:
			if sig.Type != protocol.SignalOffer {
				continue // a candidate
			}
			if err := server.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sig.SDP}); err != nil {
				t.Fatalf("the client's later offer: %v", err)
			}
			return
		case <-deadline:
			t.Fatal("the offer asked for while the server's waited was never made")
		}
	}
}

// TestUnnegotiated: unnegotiated, pion's check whether negotiation is
// needed made again, holds for a client's connection while it has a track
// of its own added or removed that no description applied on both sides
// carries, until a negotiation carries it; not for a receive-only
// connection after the server's offers, whatever they carried, nor after
// its own first offer. Real PeerConnections on both sides.
func TestUnnegotiated(t *testing.T) {
	client, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	negotiate := func(from, to *webrtc.PeerConnection) {
		t.Helper()
		offer, err := from.CreateOffer(nil)
		if err == nil {
			err = from.SetLocalDescription(offer)
		}
		if err == nil {
			err = to.SetRemoteDescription(offer)
		}
		var answer webrtc.SessionDescription
		if err == nil {
			answer, err = to.CreateAnswer(nil)
		}
		if err == nil {
			err = to.SetLocalDescription(answer)
		}
		if err == nil {
			err = from.SetRemoteDescription(answer)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	want := func(when string, needed bool) {
		t.Helper()
		if got := unnegotiated(client); got != needed {
			t.Errorf("%s: unnegotiated is %v, want %v", when, got, needed)
		}
	}
	track := func(kind, id string) webrtc.TrackLocal {
		mime := webrtc.MimeTypeVP8
		if kind == "audio" {
			mime = webrtc.MimeTypeOpus
		}
		tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: mime}, id, "someone")
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}

	if _, _, err := peer.Channels(client); err != nil {
		t.Fatal(err)
	}
	want("before the first offer", true)
	negotiate(client, server)
	want("after the first offer", false)
	camera, err := server.AddTrack(track("video", "camera"))
	if err != nil {
		t.Fatal(err)
	}
	negotiate(server, client)
	want("after the server's offer of a track", false)
	if err := server.RemoveTrack(camera); err != nil {
		t.Fatal(err)
	}
	negotiate(server, client)
	want("after the server's offer that ends the track", false)
	if _, err := server.AddTrack(track("video", "camera again")); err != nil {
		t.Fatal(err)
	}
	negotiate(server, client)
	want("after the server's offer of a track again", false)
	// The stage's way: a track forwarded, then removed before the server
	// offers it, so the offer carries a recvonly section. pion's own check
	// holds the client's side of it as needing negotiation from here on
	// (with it, the checks after the client's next offers fail).
	forwarded, err := server.AddTransceiverFromTrack(track("video", "gone"), webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
	if err != nil {
		t.Fatal(err)
	}
	if err := server.RemoveTrack(forwarded.Sender()); err != nil {
		t.Fatal(err)
	}
	negotiate(server, client)
	want("after the server's offer of a track it had removed", false)
	negotiate(server, client)
	want("after the server's offer again", false)

	// As Client.AddTrack adds a track.
	added, err := client.AddTransceiverFromTrack(track("audio", "microphone"), webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	sender := added.Sender()
	want("with a track added", true)
	negotiate(client, server)
	want("after offering the track added", false)
	if _, err := server.AddTrack(track("video", "screen")); err != nil {
		t.Fatal(err)
	}
	negotiate(server, client)
	want("after the server's offer of another track", false)

	if err := client.RemoveTrack(sender); err != nil {
		t.Fatal(err)
	}
	want("with a track removed", true)
	negotiate(client, server)
	want("after offering the track removed", false)
}
