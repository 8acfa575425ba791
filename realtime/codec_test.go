package realtime_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"

	"classroom/domain"
	"classroom/media/mediatest"
	"classroom/realtime/client"
	"classroom/realtime/protocol"
)

// sendFrames adds a video track of the codec and a microphone to c and
// sends the frames at 30 a second, over and over, and a tone, until the
// test ends.
func sendFrames(t *testing.T, c *client.Client, mime string, frames [][]byte) {
	t.Helper()
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000}, "teacher-camera", "teacher")
	if err != nil {
		t.Fatal(err)
	}
	mic, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
		"teacher-microphone", "teacher")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []webrtc.TrackLocal{track, mic} {
		if _, err := c.AddTrack(tr); err != nil {
			t.Fatal(err)
		}
	}
	tone := mediatest.OpusTone(t, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-tick.C:
			case <-stop:
				return
			}
			track.WriteSample(pionmedia.Sample{Data: frames[n%len(frames)], Duration: time.Second / 30})
			// A 20 ms packet at each of 3 ticks in 2 (30 ticks, 50 packets a second).
			for i := n * 5 / 3; i < (n+1)*5/3; i++ {
				mic.WriteSample(pionmedia.Sample{Data: tone[i%len(tone)], Duration: 20 * time.Millisecond})
			}
		}
	})
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
	})
}

// mediaSignals collects the media signals a client is sent.
type mediaSignals struct {
	mu   sync.Mutex
	sigs []protocol.Signal
}

func (m *mediaSignals) add(s protocol.Signal) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sigs = append(m.sigs, s)
}

func (m *mediaSignals) all() []protocol.Signal {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]protocol.Signal(nil), m.sigs...)
}

// TestCodecUnsupported: the teacher's camera is H.264 (as an encoder's) or
// AV1. A student whose connection decodes every codec receives its frames;
// a student whose connection decodes only VP8 is sent none, is told so by
// a media signal of reason codec_unsupported naming the teacher's track,
// its codec and the media section, and still hears the teacher: the track
// it cannot take does not fail its negotiation.
func TestCodecUnsupported(t *testing.T) {
	for _, c := range []struct {
		name, mime string
		frames     func(testing.TB, int) [][]byte
	}{
		{"h264", webrtc.MimeTypeH264, mediatest.X264},
		{"av1", webrtc.MimeTypeAV1, mediatest.AV1},
	} {
		t.Run(c.name, func(t *testing.T) {
			frames := c.frames(t, 60)
			ls := startServer(t, openStore(t, "sqlite"), nil)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			teacher, _ := ls.joinMedia(ctx, domain.RoleTeacher, "Ms Lovelace")
			mustSend(t, ctx, teacher, &domain.LessonStarted{})
			sendFrames(t, teacher, c.mime, frames)

			_, every := ls.joinMedia(ctx, domain.RoleStudent, "Grace")
			vp8Only := &receiver{}
			var told mediaSignals
			student, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: ls.token(domain.RoleStudent, "", time.Hour),
				Name: "Ada", Loopback: true, OnTrack: vp8Only.onTrack, OnSignal: told.add,
				VideoCodecs: []webrtc.RTPCodecParameters{{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8,
					ClockRate: 90000, RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}}, PayloadType: 96}}})
			if err != nil {
				t.Fatal(err)
			}
			defer student.Close()

			var sig protocol.Signal
			waitFor(t, 20*time.Second, "the VP8-only student to be told it cannot be sent the camera", func() bool {
				for _, s := range told.all() {
					if s.Reason == protocol.ReasonCodecUnsupported && s.Track == "teacher-camera" {
						sig = s
						return true
					}
				}
				return false
			})
			if sig.Type != protocol.SignalMedia || sig.Participant != "teacher" || !strings.EqualFold(sig.Codec, c.mime) ||
				sig.Kind != "video" || sig.Mid == "" || sig.Message == "" {
				t.Errorf("the signal: %+v", sig)
			}
			mids := map[string]bool{}
			for _, tr := range student.PeerConnection().GetTransceivers() {
				mids[tr.Mid()] = true
			}
			if !mids[sig.Mid] {
				t.Errorf("the signal names media section %q, which the student's connection has not (%v)", sig.Mid, mids)
			}
			waitFor(t, 20*time.Second, "both students to hear the teacher, and the other to see them", func() bool {
				return every.flowing("teacher", webrtc.RTPCodecTypeVideo) && every.flowing("teacher", webrtc.RTPCodecTypeAudio) &&
					vp8Only.flowing("teacher", webrtc.RTPCodecTypeAudio)
			})
			for _, r := range every.from("teacher", webrtc.RTPCodecTypeVideo) {
				if got := r.codec; !strings.EqualFold(got, c.mime) {
					t.Errorf("the other student receives %s, want %s", got, c.mime)
				}
			}
			time.Sleep(time.Second)
			for _, r := range vp8Only.from("teacher", webrtc.RTPCodecTypeVideo) {
				if n, _ := r.count(); n > 0 {
					t.Errorf("the VP8-only student was sent %d packets of the %s camera", n, c.mime)
				}
			}
			for _, s := range told.all() {
				if s.Track != "teacher-camera" {
					t.Errorf("a media signal of another track: %+v", s)
				}
			}
		})
	}
}
