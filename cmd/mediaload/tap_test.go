package main

import (
	"context"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// pair connects a publisher sending cam's tracks to a subscriber recording
// them in rc, over loopback, the subscriber's sockets opened on n (nil: the
// system's).
func pair(t *testing.T, cam *camera, rc *receiver, n transport.Net) {
	t.Helper()
	api := func(n transport.Net) *webrtc.API {
		var se webrtc.SettingEngine
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		se.SetIncludeLoopbackCandidate(true)
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		if n != nil {
			se.SetNet(n)
		}
		return webrtc.NewAPI(webrtc.WithSettingEngine(se))
	}
	pub, err := api(nil).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	sub, err := api(n).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	for _, tr := range cam.tracks() {
		s, err := pub.AddTrack(tr)
		if err != nil {
			t.Fatal(err)
		}
		cam.watch(s)
	}
	sub.OnTrack(rc.onTrack)
	offer, err := pub.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pub)
	if err := pub.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := sub.SetRemoteDescription(*pub.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := sub.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered = webrtc.GatheringCompletePromise(sub)
	if err := sub.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := pub.SetRemoteDescription(*sub.LocalDescription()); err != nil {
		t.Fatal(err)
	}
}

// TestTapCountsAsPion: a subscriber counting at its socket finds its first
// keyframe through pion, then counts every later packet from the RTP header
// alone, none lost or counted twice, and pion sees no more of them.
func TestTapCountsAsPion(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cam, err := newCamera("teacher", 30, 6000)
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: the connections close (pair's), then the
	// camera stops, and its goroutines end.
	t.Cleanup(cam.wait)
	t.Cleanup(cancel)
	tp := newTap()
	n, err := tp.net()
	if err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(time.Now(), tp)
	pair(t, cam, rc, n)
	cam.start(ctx)

	select {
	case <-rc.framed:
	case <-time.After(10 * time.Second):
		t.Fatal("no complete keyframe within 10 s")
	}
	if has, onKey := rc.startedOnKeyframe(); !has || !onKey {
		t.Fatalf("video began on a keyframe: has video %v, on a keyframe %v", has, onKey)
	}
	// Once both tracks are tapped, pion is handed no more of their packets.
	deadline := time.Now().Add(5 * time.Second)
	for !allTapped(rc) {
		if time.Now().After(deadline) {
			t.Fatal("tracks not tapped 5 s after the first frame")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // what pion had buffered is read
	before, passed, counted := rc.counts(), tp.passed.Load(), tp.counted.Load()
	sentBefore := cam.sent()
	time.Sleep(2 * time.Second)
	after, sentAfter := rc.counts(), cam.sent()

	if got := tp.passed.Load() - passed; got != 0 {
		t.Errorf("%d RTP datagrams of tapped tracks went to pion", got)
	}
	tapped := tp.counted.Load() - counted
	if tapped < 400 {
		t.Fatalf("%d datagrams counted at the socket in 2 s; the camera sends 460", tapped)
	}
	after.sub(before)
	if after.packets != tapped {
		t.Errorf("receptions counted %d packets, the tap %d", after.packets, tapped)
	}
	if after.dups != 0 || after.highest != after.packets {
		t.Errorf("%d packets, %d duplicates, sequence advanced %d: want none lost or twice", after.packets, after.dups, after.highest)
	}
	// Sent and received differ by what was in flight at either end.
	if sent := sentAfter - sentBefore; after.packets < sent-20 || after.packets > sent+20 {
		t.Errorf("received %d packets while the camera sent %d", after.packets, sent)
	}
	if after.videoFrames < 55 || after.audioPackets < 95 {
		t.Errorf("2 s gave %d video frames and %d audio packets; want about 60 and 100", after.videoFrames, after.audioPackets)
	}
}

// allTapped reports whether the receiver has a video and an audio track and
// counts both at the socket.
func allTapped(rc *receiver) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var video, audio bool
	for _, r := range rc.tracks {
		if !r.tapped.Load() {
			return false
		}
		video = video || r.video
		audio = audio || !r.video
	}
	return video && audio
}
