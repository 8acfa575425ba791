package recorder

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"
	rtpcodecs "github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"classroom/media"
	"classroom/media/codec"
)

const (
	// maxLateVideo and maxLateAudio are how many packets the sample builder
	// waits for a missing one (a retransmission, a reordered packet)
	// before giving up its frame: about a second either way.
	maxLateVideo = 512
	maxLateAudio = 64
	// maxLateTime bounds that wait in media time too.
	maxLateTime = time.Second
	// driftWindow is how long the offset between a track's media clock
	// and the server's is watched before it is corrected.
	driftWindow = 10 * time.Second
	// maxDrift is how far the media clock may stray from the server's
	// before the timeline is moved back onto it.
	maxDrift = 60 * time.Millisecond
	// maxJump is how far ahead of the server's clock a packet's timestamp
	// may be before it counts as a jump of the sender's clock, corrected at
	// once: network delay makes packets late, never early.
	maxJump = 500 * time.Millisecond
	// cuesReserve is the room kept at the start of a file for its seek
	// index, written when the file is finalized: with a cluster every two
	// seconds or more, a few hours' worth before cues are thinned out.
	cuesReserve = 64 << 10
	// seqRing remembers which sequence numbers arrived, and which were
	// padding, to tell a frame lost from a gap of padding.
	seqRing = 2048
)

// trackWriter turns one track's packets into a WebM file. It belongs to
// the trackRecorder's goroutine.
//
// Times: a frame's time in the file comes from its RTP timestamp, relative
// to the file's first frame, so that frames keep the spacing the sender
// gave them. The sender's media clock drifts against the server's (a
// browser's audio clock by up to a few hundred ppm, a loaded sender's much
// more), so the writer also watches the offset between the two — the
// smallest offset over each driftWindow, since network delay only ever
// adds to it — and when it strays more than maxDrift it moves the rest of
// the timeline back onto the server clock, counting the correction in the
// manifest. Media therefore stays within about maxDrift of the event log
// however long the lesson, and a pause in recording starts a new file,
// anchored afresh.
type trackWriter struct {
	t     *trackRecorder
	sb    *samplebuilder.SampleBuilder
	rate  uint32
	video bool
	h264  bool // H.264, written to Matroska; else VP8 or Opus, to WebM

	// The media clock: RTP timestamps unwrapped relative to the first
	// packet's, at0 its arrival after the recording's anchor.
	started  bool
	ts0      uint32
	lastTS   uint32
	lastU    int64
	at0      time.Duration
	corr     time.Duration // server time minus media time, as last corrected
	winStart time.Duration
	winMin   time.Duration
	winAny   bool
	anchored bool // the first window ended: see reanchor

	seqs    [seqRing]seqMark
	lastSeq uint16
	haveSeq bool
	waitKey bool

	file      *bufferedFile
	block     webm.BlockWriteCloser
	fileStart time.Duration // server time of the file's time 0, after the anchor
	lastMS    int64
	lastAt    time.Duration // arrival of the newest packet with a payload
	man       Recording
	manPath   string
	failed    bool
}

// seqMark is what arrived with one sequence number.
type seqMark struct {
	seq     uint16
	ok      bool
	padding bool
}

func newTrackWriter(t *trackRecorder) *trackWriter {
	w := &trackWriter{t: t, video: t.video(), rate: t.track.Codec().ClockRate, waitKey: t.video(),
		h264: strings.EqualFold(t.track.Codec().MimeType, webrtc.MimeTypeH264)}
	var dep rtp.Depacketizer = &rtpcodecs.OpusPacket{}
	late := uint16(maxLateAudio)
	switch {
	case w.h264:
		dep, late = &rtpcodecs.H264Packet{}, maxLateVideo
	case w.video:
		dep, late = &rtpcodecs.VP8Packet{}, maxLateVideo
	}
	if w.rate == 0 {
		w.rate = 90000
		if !w.video {
			w.rate = 48000
		}
	}
	w.sb = samplebuilder.New(late, dep, w.rate, samplebuilder.WithMaxTimeDelay(maxLateTime), samplebuilder.WithRTPHeaders(true))
	if w.video {
		t.track.RequestKeyframe()
	}
	return w
}

// push takes one packet, in arrival order.
func (w *trackWriter) push(p *media.Packet) {
	seg := w.t.seg
	at := p.At.Sub(seg.anchorMono)
	if cut := time.Duration(w.t.cut.Load()); cut > 0 && at > cut {
		return // after the recording.stopped event
	}
	seq := p.Header.SequenceNumber
	w.seqs[seq%seqRing] = seqMark{seq: seq, ok: true, padding: len(p.Payload) == 0}
	if len(p.Payload) > 0 {
		w.clock(p.Header.Timestamp, at)
		w.lastAt = max(w.lastAt, at)
	}
	w.sb.Push(&rtp.Packet{Header: p.Header, Payload: p.Payload})
	for s := w.sb.Pop(); s != nil; s = w.sb.Pop() {
		w.sample(s)
	}
}

// unwrap extends an RTP timestamp to 64 bits, relative to the first one.
func (w *trackWriter) unwrap(ts uint32) int64 {
	d := int32(ts - w.lastTS)
	u := w.lastU + int64(d)
	if d > 0 {
		w.lastTS, w.lastU = ts, u
	}
	return u
}

func (w *trackWriter) mediaTime(u int64) time.Duration {
	return time.Duration(u * int64(time.Second) / int64(w.rate))
}

// clock watches the offset between the media clock and the server's.
func (w *trackWriter) clock(ts uint32, at time.Duration) {
	if !w.started {
		w.started, w.ts0, w.lastTS, w.at0, w.winStart = true, ts, ts, at, at
	}
	off := at - w.at0 - w.mediaTime(w.unwrap(ts))
	if off < w.corr-maxJump {
		// The sender's clock jumped ahead: follow it now.
		w.t.seg.log.Debug("recording: media clock jumped", "track", w.man.Track, "by", w.corr-off)
		w.corr = off
		w.man.ClockCorrections++
	}
	if !w.winAny || off < w.winMin {
		w.winMin, w.winAny = off, true
	}
	if at-w.winStart >= driftWindow {
		w.reanchor()
		if d := w.winMin - w.corr; d > maxDrift || d < -maxDrift {
			w.corr = w.winMin
			w.man.ClockCorrections++
		}
		w.man.ClockOffsetUS = int64((w.winMin) / time.Microsecond)
		w.winStart, w.winAny = at, false
	}
}

// reanchor ends the first window: when some packet of it came earlier
// against the media clock than the first one did, by more than maxDrift,
// the first came late (held up while the track started: delay only ever
// adds), and the anchor, with the file's start, moves back to where the
// earliest says the media began. Unlike a correction later on, it moves the
// whole file, not the rest of its timeline. Once per writer.
func (w *trackWriter) reanchor() {
	if w.anchored || !w.winAny {
		return
	}
	w.anchored = true
	// Not before the recording's own start, though: a segment begins at
	// its recording.started event.
	d := max(w.winMin-w.corr, -w.at0)
	if d >= -maxDrift {
		return
	}
	w.at0 += d
	w.winMin -= d
	w.man.ClockCorrections++
	if w.block != nil {
		w.fileStart += d
		w.man.Start = w.t.seg.eventTime(w.t.seg.anchorMono.Add(w.fileStart))
	}
}

// serverTime maps an RTP timestamp to server time after the anchor.
func (w *trackWriter) serverTime(ts uint32) time.Duration {
	return w.at0 + w.mediaTime(w.unwrap(ts)) + w.corr
}

// lost reports whether packets other than padding went missing between
// sequence numbers last and next.
func (w *trackWriter) lost(last, next uint16) bool {
	gap := next - last - 1
	if gap == 0 {
		return false
	}
	if gap >= seqRing {
		return true
	}
	for s := last + 1; s != next; s++ {
		m := w.seqs[s%seqRing]
		if !m.ok || m.seq != s || !m.padding {
			return true
		}
	}
	return false
}

// sample writes one assembled frame.
func (w *trackWriter) sample(s *pionmedia.Sample) {
	if w.failed || len(s.RTPHeaders) == 0 || len(s.Data) == 0 {
		return
	}
	first, last := s.RTPHeaders[0].SequenceNumber, s.RTPHeaders[len(s.RTPHeaders)-1].SequenceNumber
	lost := w.haveSeq && w.lost(w.lastSeq, first)
	w.lastSeq, w.haveSeq = last, true
	var key bool
	switch {
	case w.h264:
		key = codec.H264Keyframe(s.Data)
	case w.video:
		key = codec.VP8Keyframe(s.Data)
	default:
		key = true // audio: every frame
	}
	if lost {
		w.man.LostFrames++
		if w.video && !key {
			w.waitKey = true // what follows would decode wrong
		}
	}
	if w.waitKey {
		if !key {
			w.man.SkippedFrames++
			w.t.track.RequestKeyframe()
			return
		}
		w.waitKey = false
	}
	if w.block == nil && w.h264 {
		if rec, _, _ := codec.H264Config(s.Data); rec == nil {
			// Matroska needs the parameter sets in its header: wait for
			// a keyframe that carries them.
			w.man.SkippedFrames++
			w.waitKey = true
			w.t.track.RequestKeyframe()
			return
		}
	}
	if w.block == nil {
		if err := w.open(s); err != nil {
			w.failed = true
			w.t.seg.log.Error("recording: create a file", "track", w.t.track.ID(), "err", err)
			return
		}
	}
	if w.file.failed() {
		return
	}
	at := w.serverTime(s.PacketTimestamp)
	if cut := time.Duration(w.t.cut.Load()); cut > 0 && at > cut {
		return // after the recording.stopped event
	}
	ms := int64((at - w.fileStart) / time.Millisecond)
	ms = max(ms, w.lastMS)
	data := s.Data
	if w.h264 {
		data = codec.H264AVCC(data)
	}
	if _, err := w.block.Write(key, ms, data); err != nil {
		w.t.seg.log.Warn("recording: write a frame", "track", w.man.Track, "err", err)
		return
	}
	w.lastMS = ms
	w.man.Frames++
}

// open creates the file at its first frame (a keyframe for video, whose
// size goes into the header, and for H.264 its parameter sets) and writes
// its manifest. H.264 goes into Matroska (.mkv), which carries it; VP8
// and Opus into WebM.
func (w *trackWriter) open(first *pionmedia.Sample) error {
	seg, track, codecParams := w.t.seg, w.t.track, w.t.track.Codec()
	base := fmt.Sprintf("%d-%s-%s", seg.opts.Segment, SafeName(track.Participant()), SafeName(track.ID()))
	ext, header := ".webm", webm.DefaultEBMLHeader
	if w.h264 {
		h := *webm.DefaultEBMLHeader
		h.DocType = "matroska"
		ext, header = ".mkv", &h
	}
	var (
		f    *os.File
		name string
		err  error
	)
	for n := 1; n < 1000; n++ {
		name = base
		if n > 1 {
			name = fmt.Sprintf("%s-%d", base, n) // the same track again in one segment
		}
		f, err = os.OpenFile(filepath.Join(seg.opts.Dir, name+ext), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
		if !errors.Is(err, os.ErrExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	w.fileStart = w.serverTime(first.PacketTimestamp)
	start := seg.eventTime(seg.anchorMono.Add(w.fileStart))
	entry := webm.TrackEntry{Name: track.ID(), TrackNumber: 1, TrackUID: 1}
	clusters := mkvcore.WithMinMaxClusterDuration(1, 5000, 5000) // audio: every frame is a key
	if w.video {
		var width, height int
		entry.TrackType = 1
		if w.h264 {
			entry.CodecPrivate, width, height = codec.H264Config(first.Data)
			entry.CodecID = "V_MPEG4/ISO/AVC"
		} else {
			width, height = codec.VP8Size(first.Data)
			entry.CodecID = "V_VP8"
		}
		entry.Video = &webm.Video{PixelWidth: uint64(width), PixelHeight: uint64(height)}
		clusters = mkvcore.WithMinMaxClusterDuration(1, 2000, 0x7fff) // a cluster at a keyframe every 2 s or more
		w.man.Width, w.man.Height = width, height
	} else {
		channels := max(codecParams.Channels, 1)
		entry.CodecID, entry.TrackType = "A_OPUS", 2
		entry.Audio = &webm.Audio{SamplingFrequency: 48000, Channels: uint64(channels)}
		entry.CodecPrivate = opusHead(uint8(channels))
		entry.SeekPreRoll = uint64(80 * time.Millisecond)
	}
	w.file = &bufferedFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}
	log := seg.log.With("file", name+ext)
	w.block, err = firstBlockWriter(webm.NewSimpleBlockWriter(w.file, []webm.TrackEntry{entry}, mkvcore.WithEBMLHeader(header),
		mkvcore.WithSegmentInfo(&webm.Info{TimecodeScale: uint64(time.Millisecond), MuxingApp: "classroom", WritingApp: "classroom",
			DateUTC: start}),
		mkvcore.WithSeekHead(true), mkvcore.WithCues(cuesReserve), mkvcore.WithBlockInterceptor(nil), clusters,
		mkvcore.WithOnErrorHandler(func(err error) { log.Debug("recording: frame left out", "err", err) }),
		mkvcore.WithOnFatalHandler(func(err error) { log.Error("recording: WebM writer", "err", err) })))
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("start a %s file: %w", ext, err)
	}
	w.man = Recording{File: name + ext, Lesson: seg.opts.Lesson, Segment: seg.opts.Segment, Participant: track.Participant(),
		Group: track.Group(), Track: track.ID(), Kind: track.Kind().String(), Codec: codecParams.MimeType, Start: start,
		Width: w.man.Width, Height: w.man.Height, LostFrames: w.man.LostFrames, SkippedFrames: w.man.SkippedFrames,
		ClockCorrections: w.man.ClockCorrections, ClockOffsetUS: w.man.ClockOffsetUS}
	w.manPath = filepath.Join(seg.opts.Dir, name+".json")
	if err := writeManifest(w.manPath, &w.man); err != nil {
		log.Warn("recording: write the manifest", "err", err)
	}
	log.Info("recording a track", "participant", w.man.Participant, "track", w.man.Track, "kind", w.man.Kind)
	return nil
}

// firstBlockWriter returns the one track writer of a one-track file.
func firstBlockWriter(ws []webm.BlockWriteCloser, err error) (webm.BlockWriteCloser, error) {
	if err != nil {
		return nil, err
	}
	if len(ws) != 1 {
		return nil, fmt.Errorf("%d track writers for one track", len(ws))
	}
	return ws[0], nil
}

// close writes the complete frames still held, finalizes the file (cues and
// duration), and completes its manifest.
func (w *trackWriter) close() {
	w.reanchor() // a file shorter than driftWindow
	// Frames complete but held back are written. pion's Flush is not used:
	// it walks the builder's whole buffer once per packet slot, seconds of
	// CPU at the end of a video track; the last frame, whose end the
	// builder cannot know without the next one, is left out.
	for s := w.sb.Pop(); s != nil; s = w.sb.Pop() {
		w.sample(s)
	}
	if w.block == nil {
		return // nothing was recorded: no file
	}
	w.block.Close() // returns once ebml-go has written the cues and closed the file
	seg := w.t.seg
	last := w.lastAt
	if cut := time.Duration(w.t.cut.Load()); cut > 0 {
		// Frames written before the stop was known may reach a little past
		// it (the time it took to commit the event): the segment still
		// ends at its event.
		last = min(last, cut)
	}
	end := seg.eventTime(seg.anchorMono.Add(last))
	w.man.End = &end
	w.man.DurationMS = w.lastMS
	w.man.Dropped = w.t.dropped.Load()
	log := seg.log.With("file", w.man.File)
	if err := w.file.err(); err != nil {
		w.man.Error = "writing the file failed: " + err.Error()
		log.Error("recording: the file is incomplete", "err", err)
	}
	if err := writeManifest(w.manPath, &w.man); err != nil {
		log.Error("recording: write the manifest", "err", err)
	}
	log.Info("recording of a track finalized", "frames", w.man.Frames, "duration_ms", w.man.DurationMS,
		"dropped", w.man.Dropped, "lost_frames", w.man.LostFrames, "clock_corrections", w.man.ClockCorrections,
		"clock_offset_us", w.man.ClockOffsetUS)
}

// opusHead is the Opus identification header (RFC 7845 §5.1) Matroska
// carries as the codec's private data.
func opusHead(channels uint8) []byte {
	b := []byte{'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, channels, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[12:16], 48000) // the input's sample rate, informative
	return b
}
