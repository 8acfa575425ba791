package recorder

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"classroom/media"
)

// trackRecorder records one track for one segment: a sink of the track.
// The track's read loop hands it packets through a bounded queue; its
// goroutine (run) puts them in order, assembles frames and writes them.
type trackRecorder struct {
	seg   *segment
	track media.Track

	queue   chan *media.Packet
	done    chan struct{} // closed by finish
	once    sync.Once
	cut     atomic.Int64 // packets arriving later than this after the anchor are left out; 0 for none
	dropped atomic.Uint64
}

func newTrackRecorder(seg *segment, track media.Track) *trackRecorder {
	return &trackRecorder{seg: seg, track: track, queue: make(chan *media.Packet, recordQueue), done: make(chan struct{})}
}

// Enqueue hands a packet to the recorder without waiting.
func (t *trackRecorder) Enqueue(p *media.Packet) {
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
	t.track.RemoveSink(t)
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
func (t *trackRecorder) video() bool { return t.track.Kind() == webrtc.RTPCodecTypeVideo }
