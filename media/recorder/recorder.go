package recorder

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"classroom/media"
)

// recordQueue is how many packets may wait for one track's recorder; beyond
// it packets are dropped (and counted), never the forwarding held up. About
// three seconds of 1.5 Mbps video: a disk that stalls longer loses media.
const recordQueue = 1024

// Stage is what a recorder records: a lesson's stage (sfu.Stage), which
// tells its subscribers what is on it.
type Stage interface {
	Subscribe(media.Subscriber)
}

// Recorder records a lesson's stage, one segment at a time: every track of
// whoever is on stage, and of whoever comes on stage while a segment lasts,
// is written to its own WebM file with a JSON manifest beside it (see
// Recording). The tracks of breakout groups' stages are recorded alike,
// their manifests naming their group. To the stage it is one more subscriber. Its methods may be
// called from any goroutine.
type Recorder struct {
	log *slog.Logger

	mu      sync.Mutex
	tracks  []media.Track // on stage, as the stage last said
	seg     *segment      // the segment being recorded, nil when none
	closed  bool          // the stage closed
	writers sync.WaitGroup
}

// New returns a recorder of the stage, recording nothing until Start. It
// lasts as long as the stage: closing the stage finalizes what is being
// recorded and waits for it.
func New(stage Stage, log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.Default()
	}
	r := &Recorder{log: log}
	stage.Subscribe(r)
	return r
}

// Options says where a recording segment's files go and how their times
// are told.
type Options struct {
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

// segment is a segment being recorded: one trackRecorder for each track on
// stage. Guarded by the recorder's mu.
type segment struct {
	opts Options
	log  *slog.Logger
	// The event clock's reading and the monotonic clock's at the start:
	// packets' arrival times map to the event clock through them.
	anchorWall, anchorMono time.Time

	tracks  map[media.Track]*trackRecorder
	skipped map[media.Track]bool // tracks of a codec not recorded, warned about once
}

// eventTime maps an arrival time (monotonic) to the event clock, with the
// events' precision.
func (seg *segment) eventTime(at time.Time) time.Time {
	return seg.anchorWall.Add(at.Sub(seg.anchorMono)).UTC().Truncate(time.Microsecond)
}

// Start starts a recording segment, in files in opts.Dir, until Stop, until
// a track ends or leaves the stage, or until the stage closes. A segment
// still running is stopped first. VP8 and Opus are recorded to WebM, H.264
// to Matroska; other codecs are skipped with a warning.
func (r *Recorder) Start(opts Options) error {
	if opts.Dir == "" {
		return errors.New("recorder: no recordings directory")
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return fmt.Errorf("recorder: recordings directory: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("recorder: the stage is closed")
	}
	r.end(time.Time{})
	r.seg = &segment{opts: opts, log: r.log.With("segment", opts.Segment), anchorWall: opts.Now(), anchorMono: time.Now(),
		tracks: map[media.Track]*trackRecorder{}, skipped: map[media.Track]bool{}}
	r.reconcile()
	return nil
}

// Stop ends the running segment, if any. Packets that reached the server
// after at (on the clock of Options.Now; zero for now) are left out, so that
// a segment ends when its recording.stopped event says. Files are finalized
// in the background within milliseconds; closing the stage waits for them.
func (r *Recorder) Stop(at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.end(at)
}

// OnStage is how the stage tells the recorder what is on it (see
// media.Subscriber).
func (r *Recorder) OnStage(tracks []media.Track) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tracks = tracks
	r.reconcile()
}

// StageClosed is how the stage tells the recorder it closed (see
// media.Subscriber): the segment ends and its files are finalized before it
// returns.
func (r *Recorder) StageClosed() {
	r.mu.Lock()
	r.tracks = nil
	r.reconcile()
	r.seg = nil
	r.closed = true
	r.mu.Unlock()
	r.writers.Wait()
}

// end finishes every track of the segment. Called with r.mu held.
func (r *Recorder) end(at time.Time) {
	seg := r.seg
	if seg == nil {
		return
	}
	cut := time.Duration(0)
	if !at.IsZero() {
		cut = max(at.Sub(seg.anchorWall), 1)
	}
	for tr, t := range seg.tracks {
		t.finish(cut)
		delete(seg.tracks, tr)
	}
	r.seg = nil
}

// reconcile makes the recorded tracks what the stage says. Called with r.mu
// held (and, from OnStage, the stage's lock): it starts goroutines and does
// no I/O.
func (r *Recorder) reconcile() {
	seg := r.seg
	if seg == nil {
		return
	}
	for tr, t := range seg.tracks {
		if !containsTrack(r.tracks, tr) {
			t.finish(0)
			delete(seg.tracks, tr)
		}
	}
	for _, tr := range r.tracks {
		if seg.tracks[tr] != nil || seg.skipped[tr] {
			continue
		}
		mime := tr.Codec().MimeType
		if !recordable(mime) {
			seg.skipped[tr] = true
			seg.log.Warn("not recording a track of a codec the recorder does not write", "participant", tr.Participant(),
				"track", tr.ID(), "codec", strings.ToLower(mime))
			continue
		}
		t := newTrackRecorder(seg, tr)
		seg.tracks[tr] = t
		tr.AddSink(t)
		r.writers.Go(t.run)
	}
}

// recordable reports whether the recorder writes a codec: VP8 and Opus to
// WebM, H.264 to Matroska.
func recordable(mime string) bool {
	for _, m := range []string{webrtc.MimeTypeVP8, webrtc.MimeTypeOpus, webrtc.MimeTypeH264} {
		if strings.EqualFold(mime, m) {
			return true
		}
	}
	return false
}

func containsTrack(tracks []media.Track, tr media.Track) bool {
	for _, t := range tracks {
		if t == tr {
			return true
		}
	}
	return false
}
