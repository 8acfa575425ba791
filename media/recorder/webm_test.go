package recorder

import (
	"encoding/binary"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"classroom/media"
	"classroom/media/mediatest"
)

// testRecording is a segment of a recording made by hand, into a temporary
// directory.
func testRecording(t *testing.T) *segment {
	now := time.Now()
	return &segment{opts: Options{Dir: t.TempDir(), Lesson: "lesson", Segment: 7, Now: time.Now},
		log: slog.New(slog.DiscardHandler), anchorWall: now, anchorMono: now,
		tracks: map[media.Track]*trackRecorder{}, skipped: map[media.Track]bool{}}
}

// testTrack is a track fed by hand, counting the keyframe requests it would
// send its publisher.
type testTrack struct {
	kind  webrtc.RTPCodecType
	codec webrtc.RTPCodecParameters
	asked atomic.Int64

	mu    sync.Mutex
	sinks []media.Sink
}

func vp8Track() *testTrack {
	return &testTrack{kind: webrtc.RTPCodecTypeVideo,
		codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}}}
}

func opusTrack() *testTrack {
	return &testTrack{kind: webrtc.RTPCodecTypeAudio,
		codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}}}
}

func (t *testTrack) Participant() string              { return "teacher" }
func (t *testTrack) Group() string                    { return "" }
func (t *testTrack) ID() string                       { return t.kind.String() }
func (t *testTrack) Kind() webrtc.RTPCodecType        { return t.kind }
func (t *testTrack) Codec() webrtc.RTPCodecParameters { return t.codec }
func (t *testTrack) RequestKeyframe()                 { t.asked.Add(1) }
func (t *testTrack) AddSink(k media.Sink) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sinks = append(t.sinks, k)
}

func (t *testTrack) RemoveSink(k media.Sink) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sinks = slices.DeleteFunc(t.sinks, func(s media.Sink) bool { return s == k })
}

// vp8Frame returns frame n of a synthetic stream, numbered in its bytes
// 10-11, split into three RTP payloads (RFC 7741 descriptors).
func vp8Frame(n int, key bool) [][]byte {
	frame := make([]byte, 300)
	copy(frame, mediatest.KeyframeHeader[:])
	if !key {
		frame[0] |= 0x01
	}
	binary.BigEndian.PutUint16(frame[10:], uint16(n))
	var out [][]byte
	for i := 0; i < 3; i++ {
		desc := byte(0x00)
		if i == 0 {
			desc = 0x10 // S: the start of a partition
		}
		out = append(out, append([]byte{desc}, frame[i*100:(i+1)*100]...))
	}
	return out
}

// readBlocks reads a one-track WebM file's frames back: their data and times.
func readBlocks(t *testing.T, path string) (data [][]byte, ms []int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var doc struct {
		Header  webm.EBMLHeader `ebml:"EBML"`
		Segment webm.Segment    `ebml:"Segment"`
	}
	if err := ebml.Unmarshal(f, &doc); err != nil && err != io.EOF {
		t.Fatalf("read %s back: %v", path, err)
	}
	for _, c := range doc.Segment.Cluster {
		for _, b := range c.SimpleBlock {
			data = append(data, b.Data[0])
			ms = append(ms, int64(c.Timecode)+int64(b.Timecode))
		}
	}
	return data, ms
}

// TestRecordLossAndReordering: VP8 packets arriving shuffled, one lost for
// good, become a valid file whose frames are in order; the frames after the
// loss are left out until the next keyframe, and one is asked for.
func TestRecordLossAndReordering(t *testing.T) {
	rec := testRecording(t)
	pub := vp8Track()
	asked := &pub.asked
	tr := newTrackRecorder(rec, pub)
	w := newTrackWriter(tr)

	const frames, lostFrame = 120, 40
	var pkts []*media.Packet
	seq := uint16(65500) // across the wrap
	for n := range frames {
		parts := vp8Frame(n, n%60 == 0)
		for i, payload := range parts {
			p := &media.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(4_294_000_000 + n*3000), // across the wrap too
				Marker: i == len(parts)-1, SSRC: 1, PayloadType: 96}, Payload: payload,
				At: rec.anchorMono.Add(time.Duration(n) * time.Second / 30)}
			seq++
			if n == lostFrame && i == 1 {
				continue // lost, never retransmitted
			}
			pkts = append(pkts, p)
		}
	}
	// Reorder: shuffle within windows of eight packets, after the first
	// keyframe (a recorder starts at the first packet it is given).
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 3; i < len(pkts); i += 8 {
		win := pkts[i:min(i+8, len(pkts))]
		rng.Shuffle(len(win), func(a, b int) { win[a], win[b] = win[b], win[a] })
	}
	for _, p := range pkts {
		w.push(p)
	}
	w.close()

	if w.man.File == "" {
		t.Fatal("no file was written")
	}
	path := filepath.Join(rec.opts.Dir, w.man.File)
	probe := mediatest.ProbeFile(t, path)
	if probe.Codec != "vp8" {
		t.Fatalf("codec %q, want vp8", probe.Codec)
	}
	data, ms := readBlocks(t, path)
	var got []int
	for i, d := range data {
		n := int(binary.BigEndian.Uint16(d[10:12]))
		got = append(got, n)
		if i > 0 && (n <= got[i-1] || ms[i] < ms[i-1]) {
			t.Fatalf("frame %d (at %d ms) after frame %d (at %d ms): out of order", n, ms[i], got[i-1], ms[i-1])
		}
		if want := int64(n) * 1000 / 30; ms[i] < want-2 || ms[i] > want+2 {
			t.Errorf("frame %d at %d ms, want about %d", n, ms[i], want)
		}
		if n >= lostFrame && n < 60 {
			t.Errorf("frame %d, between the loss and the next keyframe, was written", n)
		}
	}
	// The last frame is held back: its end is unknown until the next one.
	if want := frames - (60 - lostFrame) - 1; len(got) != want {
		t.Fatalf("%d frames written, want %d: %v", len(got), want, got)
	}
	if asked.Load() == 0 {
		t.Error("no keyframe was asked for after the loss")
	}
	if w.man.LostFrames == 0 || w.man.SkippedFrames == 0 {
		t.Errorf("manifest counts %d lost and %d skipped frames, want some of each", w.man.LostFrames, w.man.SkippedFrames)
	}
	if len(probe.PTS) != len(got) {
		t.Errorf("ffprobe reads %d packets, want %d", len(probe.PTS), len(got))
	}
}

// TestRecordOpusShuffled: audio packets shuffled and a few lost give every
// received frame, in order, at its RTP time.
func TestRecordOpusShuffled(t *testing.T) {
	rec := testRecording(t)
	pub := opusTrack()
	w := newTrackWriter(newTrackRecorder(rec, pub))
	var pkts []*media.Packet
	lost := map[int]bool{10: true, 11: true, 77: true}
	for n := range 200 {
		if lost[n] {
			continue
		}
		pkts = append(pkts, &media.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(n), Timestamp: uint32(n * 960), Marker: true},
			Payload: []byte{0xfc, byte(n), 1, 2, 3}, At: rec.anchorMono.Add(time.Duration(n) * 20 * time.Millisecond)})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < len(pkts); i += 5 {
		win := pkts[i:min(i+5, len(pkts))]
		rng.Shuffle(len(win), func(a, b int) { win[a], win[b] = win[b], win[a] })
	}
	for _, p := range pkts {
		w.push(p)
	}
	w.close()
	path := filepath.Join(rec.opts.Dir, w.man.File)
	if probe := mediatest.ProbeFile(t, path); probe.Codec != "opus" {
		t.Fatalf("codec %q, want opus", probe.Codec)
	}
	data, ms := readBlocks(t, path)
	if want := 200 - len(lost) - 1; len(data) != want { // the last one held back
		t.Fatalf("%d frames, want %d", len(data), want)
	}
	for i, d := range data {
		n := int(d[1])
		if i > 0 && n <= int(data[i-1][1]) {
			t.Fatalf("frame %d after frame %d", n, data[i-1][1])
		}
		if ms[i] != int64(n)*20 {
			t.Fatalf("frame %d at %d ms, want %d", n, ms[i], n*20)
		}
	}
}

// TestRecordDrift: a sender whose media clock runs 1 % slow against the
// server's (a minute of packets that say 20 ms apart, arriving 20.2 ms
// apart) is moved back onto the server clock: the file's last frame is
// within maxDrift and one window's drift of its arrival, where it would
// otherwise be 600 ms early, and the manifest says what was measured.
func TestRecordDrift(t *testing.T) {
	rec := testRecording(t)
	pub := opusTrack()
	w := newTrackWriter(newTrackRecorder(rec, pub))
	const n = 3000
	arrival := func(i int) time.Duration { return time.Duration(i) * 20200 * time.Microsecond }
	for i := range n {
		w.push(&media.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 960), Marker: true},
			Payload: []byte{0xfc, 1, 2, 3}, At: rec.anchorMono.Add(arrival(i))})
	}
	w.close()
	_, ms := readBlocks(t, filepath.Join(rec.opts.Dir, w.man.File))
	last := len(ms) - 1 // frame number last, sent at arrival(last)
	errMS := ms[last] - int64(arrival(last)/time.Millisecond)
	slack := int64((maxDrift + driftWindow/100) / time.Millisecond)
	if errMS < -slack || errMS > slack {
		t.Fatalf("the last frame is %d ms off its arrival, want within %d ms", errMS, slack)
	}
	if w.man.ClockCorrections < 3 || w.man.ClockOffsetUS < 400_000 {
		t.Fatalf("manifest: %d corrections, offset %d µs; want several and about 600 ms", w.man.ClockCorrections, w.man.ClockOffsetUS)
	}
	t.Logf("last frame %d ms off; %d corrections; measured offset %d µs", errMS, w.man.ClockCorrections, w.man.ClockOffsetUS)
}

// TestRecordLateFirstPacket: a track whose first packet came 200 ms late
// (held up while the track started) and the rest on time is placed where
// its media began: the manifest's start moves back, and the span from its
// start to its end is the file's length, in a segment shorter than a drift
// window as in a longer one.
func TestRecordLateFirstPacket(t *testing.T) {
	for _, n := range []int{150, 1000} { // 3 s, and 20 s: past the first drift window
		rec := testRecording(t)
		pub := opusTrack()
		w := newTrackWriter(newTrackRecorder(rec, pub))
		const late = 200 * time.Millisecond
		arrival := func(i int) time.Duration {
			if i == 0 {
				return late
			}
			return time.Duration(i) * 20 * time.Millisecond
		}
		for i := range n {
			w.push(&media.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 960), Marker: true},
				Payload: []byte{0xfc, 1, 2, 3}, At: rec.anchorMono.Add(arrival(i))})
		}
		w.close()
		first := rec.eventTime(rec.anchorMono.Add(arrival(0)))
		if moved := first.Sub(w.man.Start); moved < late-maxDrift || moved > late+maxDrift {
			t.Errorf("%d packets: the start moved back %v, want about %v", n, moved, late)
		}
		span := w.man.End.Sub(w.man.Start)
		length := time.Duration(w.man.DurationMS) * time.Millisecond
		if d := span - length; d < -maxDrift || d > maxDrift {
			t.Errorf("%d packets: the manifest spans %v, the file lasts %v", n, span, length)
		}
		if w.man.ClockCorrections != 1 {
			t.Errorf("%d packets: %d clock corrections, want the one", n, w.man.ClockCorrections)
		}
	}
}

// TestRecordBurstAtStart: a sender that flushes a second of audio at once
// as recording starts does not move the file's start before the
// recording's own.
func TestRecordBurstAtStart(t *testing.T) {
	rec := testRecording(t)
	pub := opusTrack()
	w := newTrackWriter(newTrackRecorder(rec, pub))
	arrival := func(i int) time.Duration {
		if i < 50 {
			return 10*time.Millisecond + time.Duration(i)*50*time.Microsecond
		}
		return 10*time.Millisecond + time.Duration(i-50)*20*time.Millisecond
	}
	for i := range 200 {
		w.push(&media.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 960), Marker: true},
			Payload: []byte{0xfc, 1, 2, 3}, At: rec.anchorMono.Add(arrival(i))})
	}
	w.close()
	if start := rec.eventTime(rec.anchorMono); w.man.Start.Before(start) {
		t.Errorf("the file starts %v before the recording", start.Sub(w.man.Start))
	}
}
