package media

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// recordQueue is how many packets may wait for one track's recorder; beyond
// it packets are dropped (and counted), never the forwarding held up. About
// three seconds of 1.5 Mbps video: a disk that stalls longer loses media.
const recordQueue = 1024

// sink consumes a publication's packets besides its subscribers' down
// tracks. enqueue is called from the publication's read loop with its lock
// held: it must never wait.
type sink interface{ enqueue(*packet) }

// addSink starts handing packets to k.
func (p *publication) addSink(k sink) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sinks = append(append([]sink(nil), p.sinks...), k)
}

// removeSink stops handing packets to k.
func (p *publication) removeSink(k sink) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sinks := make([]sink, 0, len(p.sinks))
	for _, s := range p.sinks {
		if s != k {
			sinks = append(sinks, s)
		}
	}
	p.sinks = sinks
}

// RecordOptions says where a recording segment's files go and how their
// times are told.
type RecordOptions struct {
	// Dir is the lesson's recordings directory; it is created when missing.
	Dir string
	// Lesson is the lesson's id, written in every manifest.
	Lesson string
	// Segment names the segment: the sequence number of its
	// recording.started event. It starts every file name of the segment.
	Segment int64
	// Now is the clock of the event log; nil means time.Now. Manifests
	// give times on it.
	Now func() time.Time
}

// recording is a segment being recorded: one trackRecorder for each track
// on stage. Guarded by the stage's mu.
type recording struct {
	opts RecordOptions
	log  *slog.Logger
	// The event clock's reading and the monotonic clock's at the start:
	// packets' arrival times map to the event clock through them.
	anchorWall, anchorMono time.Time

	tracks  map[*publication]*trackRecorder
	skipped map[*publication]bool // tracks of a codec not recorded, warned about once
}

// eventTime maps an arrival time (monotonic) to the event clock, with the
// events' precision.
func (r *recording) eventTime(at time.Time) time.Time {
	return r.anchorWall.Add(at.Sub(r.anchorMono)).UTC().Truncate(time.Microsecond)
}

// StartRecording starts a recording segment: every track of whoever is on
// stage, and of whoever comes on stage while it lasts, is written to its own
// WebM file in opts.Dir, with a JSON manifest beside it (see Recording),
// until StopRecording, until the track ends or leaves the stage, or until
// Close. A segment still running is stopped first. Only VP8 and Opus are
// recorded; other codecs are skipped with a warning.
func (s *Stage) StartRecording(opts RecordOptions) error {
	if opts.Dir == "" {
		return errors.New("media: no recordings directory")
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return fmt.Errorf("media: recordings directory: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("media: the stage is closed")
	}
	s.endRecording(time.Time{})
	s.rec = &recording{opts: opts, log: s.log.With("segment", opts.Segment), anchorWall: opts.Now(), anchorMono: time.Now(),
		tracks: map[*publication]*trackRecorder{}, skipped: map[*publication]bool{}}
	s.reconcile()
	return nil
}

// StopRecording ends the running segment, if any. Packets that reached the
// server after at (on the clock of RecordOptions.Now; zero for now) are left
// out, so that a segment ends when its recording.stopped event says. Files
// are finalized in the background within milliseconds; Close waits for them.
func (s *Stage) StopRecording(at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endRecording(at)
}

// Recording reports whether a segment is being recorded.
func (s *Stage) Recording() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec != nil
}

// endRecording finishes every track of the segment. Called with s.mu held.
func (s *Stage) endRecording(at time.Time) {
	rec := s.rec
	if rec == nil {
		return
	}
	cut := time.Duration(0)
	if !at.IsZero() {
		cut = max(at.Sub(rec.anchorWall), 1)
	}
	for pub, t := range rec.tracks {
		t.finish(cut)
		delete(rec.tracks, pub)
	}
	s.rec = nil
}

// reconcileRecording makes the recorded tracks what the stage says: the
// first layer of every track of everyone on stage. Called by reconcile with
// s.mu held; it starts goroutines (counted in s.wg) and does no I/O.
func (s *Stage) reconcileRecording() {
	rec := s.rec
	if rec == nil {
		return
	}
	for pub, t := range rec.tracks {
		if !s.recordable(pub) {
			t.finish(0)
			delete(rec.tracks, pub)
		}
	}
	if s.closed {
		s.rec = nil
		return
	}
	for m := range s.members {
		if !s.onStage[m.id] {
			continue
		}
		seen := map[string]bool{}
		for _, pub := range m.pubs {
			if seen[pub.source()] {
				continue // another simulcast layer: the first is recorded
			}
			seen[pub.source()] = true
			if rec.tracks[pub] != nil || rec.skipped[pub] || !s.recordable(pub) {
				continue
			}
			if pub.mime != "video/vp8" && pub.mime != "audio/opus" {
				rec.skipped[pub] = true
				rec.log.Warn("not recording a track of a codec WebM does not carry", "participant", m.id,
					"track", pub.track.ID(), "codec", pub.mime)
				continue
			}
			t := newTrackRecorder(rec, pub)
			rec.tracks[pub] = t
			pub.addSink(t)
			s.wg.Go(t.run)
		}
	}
}

// recordable reports whether pub is a live track of someone on stage: what
// is recorded, and what is forwarded to everyone else.
func (s *Stage) recordable(pub *publication) bool {
	o := pub.owner
	if s.closed || o.left || !s.onStage[o.id] {
		return false
	}
	select {
	case <-pub.done:
		return false
	default:
	}
	_, live := s.members[o]
	return live && containsPub(o.pubs, pub)
}

// trackRecorder records one track for one segment. The publication's read
// loop hands it packets through a bounded queue; its goroutine (run) puts
// them in order, assembles frames and writes them.
type trackRecorder struct {
	rec *recording
	pub *publication

	queue   chan *packet
	done    chan struct{} // closed by finish
	once    sync.Once
	cut     atomic.Int64 // packets arriving later than this after the anchor are left out; 0 for none
	dropped atomic.Uint64
}

func newTrackRecorder(rec *recording, pub *publication) *trackRecorder {
	return &trackRecorder{rec: rec, pub: pub, queue: make(chan *packet, recordQueue), done: make(chan struct{})}
}

// enqueue hands a packet to the recorder without waiting.
func (t *trackRecorder) enqueue(p *packet) {
	select {
	case t.queue <- p:
	default:
		t.dropped.Add(1)
	}
}

// finish detaches the recorder from its track; its goroutine writes what is
// queued (up to cut after the segment's anchor, when cut > 0), finalizes
// the file and ends.
func (t *trackRecorder) finish(cut time.Duration) {
	t.pub.removeSink(t)
	t.once.Do(func() {
		t.cut.Store(int64(cut))
		close(t.done)
	})
}

// run writes the track until finish.
func (t *trackRecorder) run() {
	w := newTrackWriter(t)
	for {
		select {
		case p := <-t.queue:
			w.push(p)
		case <-t.done:
			for {
				select {
				case p := <-t.queue:
					w.push(p)
				default:
					w.close()
					return
				}
			}
		}
	}
}

// video reports whether the recorded track is video.
func (t *trackRecorder) video() bool { return t.pub.kind == webrtc.RTPCodecTypeVideo }
