package web_test

import (
	"context"
	"encoding/binary"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"classroom/realtime/client"
)

// watcher is a Go student watching the teacher's camera: it records every
// video packet that arrives and reports a bandwidth estimate of its own
// choosing to the server in REMB, as a browser's receiver would.
type watcher struct {
	name     string
	estimate atomic.Int64  // bits a second
	ssrc     atomic.Uint32 // of the forwarded video, once it arrives

	mu       sync.Mutex
	arrivals []arrival
}

// arrival is one video packet as the student received it.
type arrival struct {
	at   time.Time
	seq  uint16
	ts   uint32
	size int // RTP payload bytes
	// pictureID is the VP8 payload descriptor's, -1 without one. A
	// publisher numbers each layer's frames on its own, so the forwarded
	// numbers jump where the layer changes.
	pictureID int
	// width and height of the picture when the packet starts a VP8
	// keyframe, 0 otherwise.
	width, height int
}

// onTrack reads a forwarded track until it ends, recording the video.
func (w *watcher) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	video := tr.Kind() == webrtc.RTPCodecTypeVideo
	if video {
		w.ssrc.Store(uint32(tr.SSRC()))
	}
	for {
		p, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		if !video || len(p.Payload) == 0 {
			continue
		}
		a := arrival{at: time.Now(), seq: p.SequenceNumber, ts: p.Timestamp, size: len(p.Payload), pictureID: -1}
		var d codecs.VP8Packet
		if _, err := d.Unmarshal(p.Payload); err == nil && d.I == 1 {
			a.pictureID = int(d.PictureID)
		}
		a.width, a.height = vp8KeyframeSize(p.Payload)
		w.mu.Lock()
		w.arrivals = append(w.arrivals, a)
		w.mu.Unlock()
	}
}

// reportEstimate sends the student's estimate for the forwarded video every
// 250 ms until stop is closed.
func (w *watcher) reportEstimate(c *client.Client, stop <-chan struct{}) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		ssrc, pc := w.ssrc.Load(), c.PeerConnection()
		if ssrc == 0 || pc == nil {
			continue
		}
		pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{
			Bitrate: float32(w.estimate.Load()), SSRCs: []uint32{ssrc}}})
	}
}

// picture returns the size of the latest keyframe received, the size of
// the picture the student would show.
func (w *watcher) picture() [2]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.arrivals) - 1; i >= 0; i-- {
		if a := w.arrivals[i]; a.width > 0 {
			return [2]int{a.width, a.height}
		}
	}
	return [2]int{}
}

// since returns the packets that arrived from t on.
func (w *watcher) since(t time.Time) []arrival {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := sort.Search(len(w.arrivals), func(i int) bool { return !w.arrivals[i].at.Before(t) })
	return append([]arrival(nil), w.arrivals[i:]...)
}

// vp8KeyframeSize parses the picture size from an RTP payload that starts a
// VP8 keyframe (RFC 7741: the payload descriptor, then the frame tag, the
// start code 9d 01 2a, and 14-bit width and height); 0, 0 for any other.
func vp8KeyframeSize(payload []byte) (width, height int) {
	var d codecs.VP8Packet
	frame, err := d.Unmarshal(payload)
	if err != nil || d.S != 1 || d.PID != 0 || len(frame) < 10 || frame[0]&1 != 0 ||
		frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return 0, 0
	}
	return int(binary.LittleEndian.Uint16(frame[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(frame[8:]) & 0x3fff)
}

// window sums up what a student received: its bitrate and the sizes of the
// keyframes in it.
type window struct {
	bitrate float64 // bits a second of RTP payload
	sizes   map[[2]int]int
}

func summarize(as []arrival) window {
	w := window{sizes: map[[2]int]int{}}
	if len(as) < 2 {
		return w
	}
	bytes := 0
	for _, a := range as {
		bytes += a.size
		if a.width > 0 {
			w.sizes[[2]int{a.width, a.height}]++
		}
	}
	w.bitrate = float64(bytes*8) / as[len(as)-1].at.Sub(as[0].at).Seconds()
	return w
}

// layer is one simulcast encoding the teacher's browser sends, by its own
// statistics.
type layer struct {
	RID    string
	Width  int
	Height int
	Bytes  float64 // sent so far
	Rate   float64 // bits a second, over the latest second
}

func (l layer) size() [2]int { return [2]int{l.Width, l.Height} }

// sentLayers measures the teacher's outbound video encodings over a second
// from the page's RTCPeerConnection, smallest first.
func sentLayers(tb *tab) []layer {
	tb.t.Helper()
	const stats = `(async () => {
		const stats = await window.classroom.app.conn.pc.getStats();
		const out = [];
		stats.forEach((r) => {
			if (r.type === "outbound-rtp" && r.kind === "video")
				out.push({rid: r.rid || "", width: r.frameWidth || 0, height: r.frameHeight || 0, bytes: r.bytesSent || 0});
		});
		return out;
	})()`
	before, start := eval[[]layer](tb, stats), time.Now()
	time.Sleep(time.Second)
	ls := eval[[]layer](tb, stats)
	for i := range ls {
		for _, b := range before {
			if b.RID == ls[i].RID {
				ls[i].Rate = (ls[i].Bytes - b.Bytes) * 8 / time.Since(start).Seconds()
			}
		}
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Width < ls[j].Width })
	return ls
}

// TestSimulcastInBrowser: the teacher's Chromium, on the lesson page, sends
// its camera as three simulcast layers; two Go students watch it, one
// reporting a bandwidth estimate of 200 kbit/s, the other of 5 Mbit/s. What
// arrives at each shows that the first gets the smallest layer and the
// second the whole picture; when the first's estimate rises, it switches to
// the whole picture at a keyframe, its sequence numbers running on without a
// gap and its timestamps without a jump back.
func TestSimulcastInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	b := browser(t)
	teacher := &tab{t: t, name: "teacher", ctx: b}
	teacher.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Teacher.Token, "Ms Rivera")
	teacher.click("#lifecycle") // start the lesson

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(stop)
		wg.Wait()
	}()
	low, high := &watcher{name: "low"}, &watcher{name: "high"}
	low.estimate.Store(200_000)
	high.estimate.Store(5_000_000)
	for _, w := range []*watcher{low, high} {
		c, err := client.Dial(ctx, client.Options{URL: site.ws(lesson.ID), Token: lesson.Students.Token,
			Name: "Student " + w.name, Loopback: true, OnTrack: w.onTrack})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wg.Go(func() { w.reportEstimate(c, stop) })
	}

	// The teacher's browser ramps its uplink up until it sends every layer,
	// the middle one clearly above the low student's estimate (until then
	// the server may rightly choose it for the low student).
	var layers []layer
	waitUntil(t, 60*time.Second, "the teacher's browser to send three layers at their rates", func() bool {
		layers = sentLayers(teacher)
		if len(layers) != 3 {
			t.Fatalf("the teacher sends %d video encodings, want 3: %+v", len(layers), layers)
		}
		return layers[0].Width > 0 && layers[0].Width < layers[1].Width && layers[1].Width < layers[2].Width &&
			layers[0].Rate > 0 && layers[1].Rate > 1.5*float64(low.estimate.Load())
	})
	small, full := layers[0], layers[2]
	t.Logf("the teacher sends %+v", layers)

	// Each student settles on its layer: the low one at the smallest, the
	// high one at the whole picture. A picture's size is its latest
	// keyframe's, and no keyframe of another size arrives meanwhile.
	waitUntil(t, 30*time.Second, "the students to receive their layers", func() bool {
		return low.picture() == small.size() && high.picture() == full.size()
	})
	from := time.Now()
	time.Sleep(4 * time.Second)
	lo, hi := summarize(low.since(from)), summarize(high.since(from))
	t.Logf("over 4 s the low student got %.0f kbit/s, keyframes %v; the high one %.0f kbit/s, keyframes %v",
		lo.bitrate/1000, lo.sizes, hi.bitrate/1000, hi.sizes)
	for _, c := range []struct {
		w    *watcher
		got  window
		want layer
	}{{low, lo, small}, {high, hi, full}} {
		if p := c.w.picture(); p != c.want.size() {
			t.Errorf("the %s student's picture is %v, want layer %s's %v", c.w.name, p, c.want.RID, c.want.size())
		}
		for size := range c.got.sizes {
			if size != c.want.size() {
				t.Errorf("the %s student got a %v keyframe, want only layer %s's %v", c.w.name, size, c.want.RID, c.want.size())
			}
		}
	}
	if lo.bitrate == 0 || lo.bitrate > 300_000 {
		t.Errorf("the low student received %.0f kbit/s, want some but at most 300 under its 200 kbit/s estimate", lo.bitrate/1000)
	}
	if hi.bitrate < 3*lo.bitrate {
		t.Errorf("the high student received %.0f kbit/s, not 3 times the low one's %.0f", hi.bitrate/1000, lo.bitrate/1000)
	}

	// The low student's estimate rises: it switches to the whole picture.
	// Chromium sends VP8 keyframes only when asked, so this also shows
	// that the server asked the right layer for one.
	raised := time.Now()
	low.estimate.Store(5_000_000)
	waitUntil(t, 20*time.Second, "the low student to switch up", func() bool { return low.picture() == full.size() })
	time.Sleep(time.Second) // packets after the switch, and any resent
	as := low.since(raised.Add(-time.Second))
	sw := -1
	for i, a := range as {
		if a.width == full.Width && a.height == full.Height {
			sw = i
			break
		}
	}
	if sw <= 0 {
		t.Fatalf("no packet before the switch to the whole picture in %d", len(as))
	}
	t.Logf("switched up %v after the estimate rose", as[sw].at.Sub(raised).Round(time.Millisecond))
	// Sequence numbers: the switch's keyframe follows the last packet
	// before it, and none is missing around it (NACKs may have filled
	// holes, out of order).
	seen := map[uint16]bool{}
	last, lastTS := as[0].seq, as[0].ts
	for i, a := range as {
		seen[a.seq] = true
		if i < sw && int16(a.seq-last) > 0 {
			last, lastTS = a.seq, a.ts
		}
	}
	if as[sw].seq != last+1 {
		t.Errorf("the switch's keyframe has sequence number %d after %d", as[sw].seq, last)
	}
	for s := as[0].seq; s != as[len(as)-1].seq; s++ {
		if !seen[s] {
			t.Errorf("sequence number %d never arrived (from %d to %d, the switch at %d)", s, as[0].seq, as[len(as)-1].seq, as[sw].seq)
			break
		}
	}
	if d := as[sw].ts - lastTS; d == 0 || d > 90000 {
		t.Errorf("the timestamp jumps by %d at the switch, want forward by at most a second", int32(d))
	}
	// The layer changed only there: in sequence number order, the VP8
	// picture ids run on (or repeat, within a frame) everywhere but at a
	// keyframe, the switch's.
	switchSeq := as[sw].seq
	sort.Slice(as, func(i, j int) bool { return int16(as[i].seq-as[j].seq) < 0 })
	for i := 1; i < len(as); i++ {
		prev, a := as[i-1], as[i]
		if prev.pictureID < 0 || a.pictureID < 0 {
			t.Fatalf("packets without a VP8 picture id: %+v %+v", prev, a)
		}
		if step := (a.pictureID - prev.pictureID) & 0x7fff; step > 1 && (a.width == 0 || a.seq != switchSeq) {
			t.Errorf("picture id %d after %d at sequence number %d (%dx%d): another layer's frames, not at the switch's keyframe (%d)",
				a.pictureID, prev.pictureID, a.seq, a.width, a.height, switchSeq)
		}
	}
}
