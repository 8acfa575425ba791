package sfu

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"classroom/media"
)

// written records what a down track writes, as the subscriber's SRTP
// stream would receive it; gate, when set, holds every write until closed.
type written struct {
	mu      sync.Mutex
	headers []rtp.Header
	gate    chan struct{}
}

func (w *written) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if w.gate != nil {
		<-w.gate
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.headers = append(w.headers, *h)
	return len(payload) + 12, nil
}

func (w *written) Write(b []byte) (int, error) { return len(b), nil }

func (w *written) seqs() []uint16 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []uint16
	for _, h := range w.headers {
		out = append(out, h.SequenceNumber)
	}
	return out
}

// testPublication is a video publication fed by hand, counting the keyframe
// requests it would send its publisher.
func testPublication() (*publication, *atomic.Int64) {
	var asked atomic.Int64
	p := &publication{kind: webrtc.RTPCodecTypeVideo, mime: "video/vp8", done: make(chan struct{}),
		codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}}}
	p.askKeyframe = func() { asked.Add(1) }
	return p, &asked
}

func vp8(seq uint16, ts uint32, key bool) *packet {
	payload := []byte{0x10, 0x01, 0x02, 0x03} // S=1, PID=0; frame tag P bit set: an interframe
	if key {
		payload[1] = 0x00
	}
	return &packet{Packet: media.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, SSRC: 1111, PayloadType: 96},
		Payload: payload, Keyframe: key, At: time.Now()}}
}

func subscriber(p *publication, w *written) *downTrack {
	d := newDownTrack(p, nil)
	d.ssrc, d.pt, d.write = 4242, 100, w
	return d
}

// TestRewrite: a video subscriber starts at a keyframe, gets its own SSRC,
// payload type and continuous sequence numbers, across padding the
// publisher sent, and keeps the publisher's timestamp spacing.
func TestRewrite(t *testing.T) {
	p, asked := testPublication()
	w := &written{}
	d := subscriber(p, w)
	d.forward(vp8(10, 1000, false)) // before any keyframe: dropped, a keyframe asked for
	if len(w.seqs()) != 0 || asked.Load() != 1 {
		t.Fatalf("an interframe before the first keyframe: wrote %v, asked %d", w.seqs(), asked.Load())
	}
	d.forward(vp8(11, 4000, true))
	d.forward(vp8(12, 7000, false))
	d.forward(&packet{Packet: media.Packet{Header: rtp.Header{SequenceNumber: 13, Timestamp: 7000}}}) // padding
	d.forward(vp8(14, 10000, false))
	got := w.seqs()
	if len(got) != 3 || got[1] != got[0]+1 || got[2] != got[0]+2 {
		t.Fatalf("sequence numbers %v, want three in a row", got)
	}
	h := w.headers
	if h[0].SSRC != 4242 || h[0].PayloadType != 100 {
		t.Fatalf("header %+v: not the subscriber's SSRC and payload type", h[0])
	}
	if h[1].Timestamp-h[0].Timestamp != 3000 || h[2].Timestamp-h[1].Timestamp != 3000 {
		t.Fatalf("timestamps %d %d %d lost the publisher's spacing", h[0].Timestamp, h[1].Timestamp, h[2].Timestamp)
	}
}

// TestNACKFromCache: a lost packet is sent again from the track's cache
// with the sequence number and timestamp the subscriber saw it with.
func TestNACKFromCache(t *testing.T) {
	p, _ := testPublication()
	w := &written{}
	d := subscriber(p, w)
	for _, pkt := range []*packet{vp8(500, 0, true), vp8(501, 3000, false), vp8(502, 6000, false)} {
		p.cache.put(pkt)
		d.forward(pkt)
	}
	first := w.headers[1]
	d.resend(first.SequenceNumber)
	d.resend(first.SequenceNumber + 100) // never sent: ignored
	if len(w.headers) != 4 {
		t.Fatalf("%d writes, want 3 and one resend", len(w.headers))
	}
	if again := w.headers[3]; again.SequenceNumber != first.SequenceNumber || again.Timestamp != first.Timestamp {
		t.Fatalf("resent as %d/%d, first sent as %d/%d", again.SequenceNumber, again.Timestamp, first.SequenceNumber, first.Timestamp)
	}
}

// TestNACKResendLimit: a subscriber that NACKs a packet again at once is
// not sent it again: the first resend is still on its way.
func TestNACKResendLimit(t *testing.T) {
	p, _ := testPublication()
	w := &written{}
	d := subscriber(p, w)
	for _, pkt := range []*packet{vp8(500, 0, true), vp8(501, 3000, false)} {
		p.cache.put(pkt)
		d.forward(pkt)
	}
	lost := w.headers[1].SequenceNumber
	for range 3 {
		d.resend(lost)
	}
	if len(w.headers) != 3 {
		t.Fatalf("%d writes, want 2 and one resend for three NACKs at once", len(w.headers))
	}
}

// TestSlowSubscriber: a subscriber whose writes stall loses packets at its
// own queue, never holding up the publication or another subscriber; once
// it drains, it sends nothing until the next keyframe, asks for one, and
// its sequence numbers stay continuous.
func TestSlowSubscriber(t *testing.T) {
	p, asked := testPublication()
	fastW, slowW := &written{}, &written{gate: make(chan struct{})}
	fast, slow := subscriber(p, fastW), subscriber(p, slowW)
	var wg sync.WaitGroup
	fast.start(&wg)
	slow.start(&wg)
	p.subs = []*downTrack{fast, slow}

	seq, ts := uint16(65000), uint32(0) // across the wrap
	send := func(key bool) {
		p.handOut(vp8(seq, ts, key))
		seq++
		ts += 3000
		time.Sleep(100 * time.Microsecond) // a pace the fast subscriber keeps up with
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		send(true)
		for range queueSize + 100 {
			send(false)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the publication waited for a stalled subscriber")
	}
	if slow.dropped.Load() == 0 {
		t.Fatal("the stalled subscriber's queue never overflowed")
	}
	waitUntil(t, func() bool { return len(fastW.seqs()) == queueSize+101 })
	if fast.dropped.Load() != 0 {
		t.Fatalf("the fast subscriber lost %d packets", fast.dropped.Load())
	}
	before := asked.Load()
	close(slowW.gate) // the slow subscriber catches up
	send(false)
	send(false)
	waitUntil(t, func() bool { return asked.Load() > before })
	n := len(slowW.seqs())
	send(true)
	send(false)
	waitUntil(t, func() bool { return len(slowW.seqs()) == n+2 })
	got := slowW.seqs()
	for i := 1; i < len(got); i++ {
		if got[i] != got[i-1]+1 {
			t.Fatalf("the slow subscriber's sequence jumps from %d to %d", got[i-1], got[i])
		}
	}
	slowW.mu.Lock()
	resumed, first := slowW.headers[n], slowW.headers[0]
	slowW.mu.Unlock()
	// It resumed with the keyframe sent after the stall: same timestamp
	// spacing from its first packet as the publisher's.
	if want := uint32(queueSize+101+2) * 3000; resumed.Timestamp-first.Timestamp != want {
		t.Fatalf("resumed at timestamp +%d, want +%d (the new keyframe)", resumed.Timestamp-first.Timestamp, want)
	}
	fast.close()
	slow.close()
	wg.Wait()
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

// TestSimulcastLayers: a subscriber forwards one of three layers: the best
// when it gives no estimate, the best that fits its REMB estimate, the
// smallest when none fits; it switches only at a keyframe of the new layer,
// and its sequence numbers and timestamps run on across the switch.
func TestSimulcastLayers(t *testing.T) {
	var layers []*publication
	for _, rate := range []int64{100_000, 500_000, 2_000_000} {
		p, _ := testPublication()
		p.bitrate.Store(rate)
		p.lastPacket.Store(time.Now().UnixNano())
		layers = append(layers, p)
	}
	w := &written{}
	d := subscriber(layers[0], w)
	for _, l := range layers[1:] {
		d.addLayer(l)
	}
	if d.layer.target.Load() != layers[2] {
		t.Fatal("without an estimate the best layer is not chosen")
	}
	// Each layer has its own sequence numbers and timestamps.
	seq := []uint16{100, 30000, 60000}
	ts := []uint32{1000, 500000, 4000000000}
	frame := func(key bool) {
		for i, l := range layers {
			pkt := vp8(seq[i], ts[i], key)
			pkt.from, pkt.At = l, time.Now()
			l.lastPacket.Store(pkt.At.UnixNano())
			d.enqueue(pkt)
			for _, p := range d.take() {
				d.forward(p)
			}
			seq[i]++
			ts[i] += 3000
		}
		time.Sleep(10 * time.Millisecond)
	}
	frame(true)
	frame(false)
	if d.layer.current.Load() != layers[2] {
		t.Fatal("not forwarding the best layer")
	}
	d.layer.estimate.Store(600_000)
	d.layer.choose()
	if d.layer.target.Load() != layers[1] {
		t.Fatal("the estimate did not pick the middle layer")
	}
	frame(false) // no keyframe yet: still the best layer
	if d.layer.current.Load() != layers[2] {
		t.Fatal("switched before a keyframe of the new layer")
	}
	frame(true)
	if d.layer.current.Load() != layers[1] {
		t.Fatal("did not switch at the keyframe")
	}
	d.layer.estimate.Store(50_000)
	d.layer.choose()
	frame(true)
	if d.layer.current.Load() != layers[0] {
		t.Fatal("with an estimate below every layer, not the smallest")
	}
	h := w.headers
	if len(h) != 6 {
		t.Fatalf("%d packets sent, want one a frame: 6", len(h))
	}
	for i := 1; i < len(h); i++ {
		if h[i].SequenceNumber != h[i-1].SequenceNumber+1 {
			t.Fatalf("sequence numbers %d then %d across a switch", h[i-1].SequenceNumber, h[i].SequenceNumber)
		}
		if d := h[i].Timestamp - h[i-1].Timestamp; d == 0 || d > 90000 {
			t.Fatalf("timestamps %d then %d across a switch", h[i-1].Timestamp, h[i].Timestamp)
		}
	}
}

// TestSimulcastPausedLayer: a layer the publisher stops sending (as a
// browser does with its top layers while its uplink is short) is not chosen
// however good its last bitrate: its subscriber moves to the best layer still
// sending, asking it for a keyframe, and back when it resumes; with no layer
// sending the choice stays. Timestamps run forward across the switch even
// when the new layer's keyframe reached the server before the last packet
// sent.
func TestSimulcastPausedLayer(t *testing.T) {
	var layers []*publication
	var asked []*atomic.Int64
	for _, rate := range []int64{100_000, 500_000, 2_000_000} {
		p, a := testPublication()
		p.bitrate.Store(rate)
		p.lastPacket.Store(time.Now().UnixNano())
		layers, asked = append(layers, p), append(asked, a)
	}
	w := &written{}
	d := subscriber(layers[0], w)
	for _, l := range layers[1:] {
		d.addLayer(l)
	}
	send := func(l *publication, seq uint16, ts uint32, key bool, at time.Time) {
		pkt := vp8(seq, ts, key)
		pkt.from, pkt.At = l, at
		d.enqueue(pkt)
		for _, p := range d.take() {
			d.forward(p)
		}
	}
	start := time.Now()
	send(layers[2], 7000, 900000, true, start)
	if d.layer.current.Load() != layers[2] {
		t.Fatal("not forwarding the best layer")
	}

	// The best layer pauses; the set-up's keyframe requests were long ago.
	layers[2].lastPacket.Store(time.Now().Add(-2 * pausedAfter).UnixNano())
	layers[1].lastKeyframeRequest.Store(0)
	before := asked[1].Load()
	d.layer.choose()
	if d.layer.target.Load() != layers[1] {
		t.Fatal("a paused layer is still chosen over the best one sending")
	}
	if asked[1].Load() == before {
		t.Fatal("the layer switched to was not asked for a keyframe")
	}
	// The middle layer's keyframe reached the server before the packet
	// just sent did.
	send(layers[1], 300, 5000, true, start.Add(-10*time.Millisecond))
	if d.layer.current.Load() != layers[1] {
		t.Fatal("did not switch at the keyframe of the layer still sending")
	}
	h := w.headers
	if len(h) != 2 || h[1].SequenceNumber != h[0].SequenceNumber+1 {
		t.Fatalf("%d packets, sequence numbers %v", len(h), w.seqs())
	}
	if d := h[1].Timestamp - h[0].Timestamp; d == 0 || d > 90000 {
		t.Fatalf("timestamps %d then %d across the switch", h[0].Timestamp, h[1].Timestamp)
	}

	layers[2].lastPacket.Store(time.Now().UnixNano()) // it resumes
	d.layer.choose()
	if d.layer.target.Load() != layers[2] {
		t.Fatal("the best layer is not chosen again once it resumes")
	}

	for _, l := range layers {
		l.lastPacket.Store(time.Now().Add(-2 * pausedAfter).UnixNano())
	}
	d.layer.choose()
	if d.layer.target.Load() != layers[2] {
		t.Fatal("with no layer sending the choice changed")
	}
}

// TestFrameHandedOutWhole: a video frame's packets reach a subscriber's
// queue together, when its last packet (the marker) is read, so that the
// writer is woken once a frame; a packet after a hole, a retransmission
// (older than what was read) and padding are handed out at once, after what
// was gathered; audio is never held.
func TestFrameHandedOutWhole(t *testing.T) {
	p, _ := testPublication()
	d := newDownTrack(p, nil)
	p.subs = []*downTrack{d}
	queued := func() []uint16 {
		var out []uint16
		for _, p := range d.take() {
			out = append(out, p.Header.SequenceNumber)
		}
		return out
	}
	marked := func(pkt *packet) *packet { pkt.Header.Marker = true; return pkt }
	var frame []*packet
	steps := []struct {
		pkt  *packet
		want []uint16
	}{
		{vp8(10, 3000, true), nil},
		{vp8(11, 3000, false), nil},
		{marked(vp8(12, 3000, false)), []uint16{10, 11, 12}},
		{vp8(13, 6000, false), nil},
		{vp8(15, 6000, false), []uint16{13}},     // a hole: 13 goes, 15 waits for its frame
		{vp8(14, 6000, false), []uint16{15, 14}}, // the hole filled late: a retransmission
		{marked(vp8(16, 6000, false)), []uint16{16}},
		{&packet{Packet: media.Packet{Header: rtp.Header{SequenceNumber: 17, Timestamp: 6000}}}, []uint16{17}}, // padding
		{vp8(18, 9000, false), nil},
		{vp8(19, 12000, false), []uint16{18}}, // a new timestamp: the frame before lost its marker
	}
	for i, s := range steps {
		frame = p.gather(frame, s.pkt)
		if got := queued(); !slices.Equal(got, s.want) {
			t.Fatalf("step %d (packet %d): queued %v, want %v", i, s.pkt.Header.SequenceNumber, got, s.want)
		}
	}
	a := &publication{kind: webrtc.RTPCodecTypeAudio, done: make(chan struct{})}
	ad := newDownTrack(a, nil)
	a.subs = []*downTrack{ad}
	if frame := a.gather(nil, &packet{Packet: media.Packet{Header: rtp.Header{SequenceNumber: 1, Timestamp: 960},
		Payload: []byte{1}}}); len(frame) != 0 || ad.queued() != 1 {
		t.Fatalf("audio held back: %d gathered, %d queued", len(frame), ad.queued())
	}
}
