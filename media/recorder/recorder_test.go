package recorder

import (
	"log/slog"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"classroom/media"
)

// testStage is a stage that keeps its one subscriber, for the test to tell
// it what is on stage.
type testStage struct{ sub media.Subscriber }

func (s *testStage) Subscribe(sub media.Subscriber) { s.sub = sub }

func (t *testTrack) sinkCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.sinks)
}

// TestRecorderFollowsTheStage: a recorder records, while a segment runs,
// the VP8, H.264, AV1 and Opus tracks the stage says are on it (and no
// other codec: VP9 here);
// it stops with the segment, or when a track leaves the stage; once the
// stage has closed it records nothing more.
func TestRecorderFollowsTheStage(t *testing.T) {
	var st testStage
	r := New(&st, slog.New(slog.DiscardHandler))
	camera, mic := vp8Track(), opusTrack()
	h264 := &testTrack{kind: webrtc.RTPCodecTypeVideo,
		codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000}}}
	av1 := &testTrack{kind: webrtc.RTPCodecTypeVideo,
		codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeAV1, ClockRate: 90000}}}
	vp9 := &testTrack{kind: webrtc.RTPCodecTypeVideo,
		codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9, ClockRate: 90000}}}
	st.sub.OnStage([]media.Track{camera, mic, h264, av1, vp9})
	if camera.sinkCount() != 0 {
		t.Fatal("a track is recorded before a segment starts")
	}
	opts := Options{Dir: t.TempDir(), Lesson: "lesson", Segment: 3}
	if err := r.Start(opts); err != nil {
		t.Fatal(err)
	}
	if camera.sinkCount() != 1 || mic.sinkCount() != 1 || h264.sinkCount() != 1 || av1.sinkCount() != 1 || vp9.sinkCount() != 0 {
		t.Fatalf("recorders: camera %d, microphone %d, H.264 %d, AV1 %d, VP9 %d; want 1, 1, 1, 1, 0",
			camera.sinkCount(), mic.sinkCount(), h264.sinkCount(), av1.sinkCount(), vp9.sinkCount())
	}
	st.sub.OnStage([]media.Track{camera}) // the microphone leaves the stage
	if camera.sinkCount() != 1 || mic.sinkCount() != 0 {
		t.Fatal("the recording does not follow the stage")
	}
	r.Stop(time.Time{})
	if camera.sinkCount() != 0 {
		t.Fatal("a track is still recorded after Stop")
	}
	if err := r.Start(opts); err != nil || camera.sinkCount() != 1 {
		t.Fatalf("a second segment: %v, %d recorders", err, camera.sinkCount())
	}
	st.sub.OnStage(nil)
	st.sub.StageClosed()
	if camera.sinkCount() != 0 {
		t.Fatal("a track is still recorded after the stage closed")
	}
	if err := r.Start(opts); err == nil {
		t.Fatal("a segment started on a closed stage")
	}
}
