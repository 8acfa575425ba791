package main

import (
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
)

// pair connects a publisher sending cam's tracks to a subscriber recording
// them in rc, over loopback, both built as the baseline's peers are, the
// subscriber's sockets opened on n (nil: the system's). It returns once
// the publisher is connected: a frame written before is not sent, so a
// camera started earlier may reach the subscriber in the middle of a
// group of pictures (as it did under load).
func pair(t *testing.T, cam *camera, rc *receiver, n transport.Net) {
	t.Helper()
	pub, err := bareAPI(nil).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	connected := make(chan struct{})
	var once sync.Once
	pub.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	sub, err := bareAPI(n).NewPeerConnection(webrtc.Configuration{})
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
	if rc.tap != nil {
		rc.tap.setRTCPWriter(sub.WriteRTCP)
	}
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
	select {
	case <-connected:
	case <-time.After(20 * time.Second):
		t.Fatal("the publisher did not connect within 20 s")
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
	std, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(time.Now(), std)
	tp := rc.tap
	pair(t, cam, rc, rc.net)
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
	sentBefore, framesBefore, audioBefore := cam.sent(), cam.frames.Load(), cam.audio.sent.Load()
	time.Sleep(2 * time.Second)
	after, sentAfter, framesAfter, audioAfter := rc.counts(), cam.sent(), cam.frames.Load(), cam.audio.sent.Load()

	if got := tp.passed.Load() - passed; got != 0 {
		t.Errorf("%d RTP datagrams of tapped tracks went to pion", got)
	}
	tapped := tp.counted.Load() - counted
	if tapped == 0 {
		t.Fatalf("no datagram counted at the socket in 2 s; the camera sent %d packets", sentAfter-sentBefore)
	}
	after.sub(before)
	if after.packets != tapped {
		t.Errorf("receptions counted %d packets, the tap %d", after.packets, tapped)
	}
	if n := tp.nacked.Load(); n != 0 {
		t.Errorf("%d packets asked for again on loopback with nothing lost", n)
	}
	if after.dups != 0 || after.highest != after.packets {
		t.Errorf("%d packets, %d duplicates, sequence advanced %d: want none lost or twice", after.packets, after.dups, after.highest)
	}
	// Sent and received differ by what was in flight at either end.
	if sent := sentAfter - sentBefore; after.packets < sent-20 || after.packets > sent+20 {
		t.Errorf("received %d packets while the camera sent %d", after.packets, sent)
	}
	// Frames and audio packets as the camera sent them (about 60 and 100 in
	// 2 s on a machine that keeps its pace), give or take what was in flight.
	if frames, audio := framesAfter-framesBefore, audioAfter-audioBefore; after.videoFrames < frames-3 || after.videoFrames > frames+3 ||
		after.audioPackets < audio-5 || after.audioPackets > audio+5 {
		t.Errorf("received %d video frames and %d audio packets while the camera sent %d and %d", after.videoFrames, after.audioPackets, frames, audio)
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

// TestTapCount: the tap takes only RTP of a tapped track, counts it as pion's
// path would (holes, late packets, duplicates), and asks once for what a
// hole lacks.
func TestTapCount(t *testing.T) {
	const ssrc = 0x1234abcd
	tp := newTap()
	var nacks []*rtcp.TransportLayerNack
	tp.setRTCPWriter(func(pkts []rtcp.Packet) error {
		for _, p := range pkts {
			nacks = append(nacks, p.(*rtcp.TransportLayerNack))
		}
		return nil
	})
	r := &reception{video: true}
	tp.register(ssrc, r)
	rtpPacket := func(ssrc uint32, seq uint16, ts uint32) []byte {
		p := make([]byte, 100)
		p[0], p[1] = 0x80, 96
		binary.BigEndian.PutUint16(p[2:], seq)
		binary.BigEndian.PutUint32(p[4:], ts)
		binary.BigEndian.PutUint32(p[8:], ssrc)
		return p
	}

	// Before the track is tapped, its packets go to pion.
	if tp.count(rtpPacket(ssrc, 1, 0)) {
		t.Fatal("a packet of a track not yet tapped was taken")
	}
	r.tapped.Store(true)
	for name, p := range map[string][]byte{
		"STUN":              {0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0},
		"DTLS":              {23, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"TURN ChannelData":  {0x40, 0x00, 0, 4, 0x80, 96, 0, 1, 0, 0, 0, 0},
		"RTCP receiver rep": {0x81, 201, 0, 7, 0x12, 0x34, 0xab, 0xcd, 0, 0, 0, 0},
		"RTCP NACK":         {0x81, 205, 0, 3, 0x12, 0x34, 0xab, 0xcd, 0, 0, 0, 0},
		"short":             {0x80, 96, 0, 1},
		"another SSRC":      rtpPacket(0x99, 1, 0),
	} {
		if tp.count(p) {
			t.Errorf("%s was taken for a tapped track's RTP", name)
		}
	}

	for _, seq := range []uint16{10, 11, 14, 12, 14, 15} { // 13 is lost
		if !tp.count(rtpPacket(ssrc, seq, 3000*uint32(seq/2))) {
			t.Fatalf("RTP seq %d of a tapped track was not taken", seq)
		}
	}
	c := r.counts()
	if c.packets != 5 || c.dups != 1 || c.highest-10 != 5 {
		t.Errorf("counted %d packets, %d duplicates, highest %d; want 5, 1 and 15", c.packets, c.dups, c.highest)
	}
	if len(nacks) != 1 || nacks[0].MediaSSRC != ssrc {
		t.Fatalf("NACKs sent: %+v; want one for SSRC %x", nacks, ssrc)
	}
	var asked []uint16
	for _, pair := range nacks[0].Nacks {
		asked = append(asked, pair.PacketList()...)
	}
	if !slices.Equal(asked, []uint16{12, 13}) {
		t.Errorf("asked again for %v; want [12 13], the hole before 14", asked)
	}
	if n := tp.nacked.Load(); n != 2 {
		t.Errorf("nacked counts %d; want 2", n)
	}
}
