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
	atFrameRate(t, func(n int) {
		track.WriteSample(pionmedia.Sample{Data: frames[n%len(frames)], Duration: time.Second / 30})
		// A 20 ms packet at each of 3 ticks in 2 (30 ticks, 50 packets a second).
		for i := n * 5 / 3; i < (n+1)*5/3; i++ {
			mic.WriteSample(pionmedia.Sample{Data: tone[i%len(tone)], Duration: 20 * time.Millisecond})
		}
	})
}

// atFrameRate calls send with 0, 1, 2, … 30 times a second until the test
// ends.
func atFrameRate(t *testing.T, send func(n int)) {
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
			send(n)
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

// browserCamera is a camera track that sends in the first codec its
// connection negotiated, as a browser does: the answerer's order decides.
type browserCamera struct {
	mu    sync.Mutex
	inner *webrtc.TrackLocalStaticSample
}

func (c *browserCamera) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codecs := ctx.CodecParameters()
	if len(codecs) == 0 {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	inner, err := webrtc.NewTrackLocalStaticSample(codecs[0].RTPCodecCapability, c.ID(), c.StreamID())
	if err != nil {
		return webrtc.RTPCodecParameters{}, err
	}
	c.mu.Lock()
	c.inner = inner
	c.mu.Unlock()
	return inner.Bind(ctx)
}

func (c *browserCamera) Unbind(ctx webrtc.TrackLocalContext) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inner.Unbind(ctx)
}

func (c *browserCamera) ID() string                { return "teacher-camera" }
func (c *browserCamera) RID() string               { return "" }
func (c *browserCamera) StreamID() string          { return "teacher" }
func (c *browserCamera) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeVideo }

// send sends a frame of the codec bound, n counting frames from 0.
func (c *browserCamera) send(n int, h264 [][]byte) {
	c.mu.Lock()
	inner := c.inner
	c.mu.Unlock()
	if inner == nil {
		return
	}
	frame := h264[n%len(h264)]
	if strings.EqualFold(inner.Codec().MimeType, webrtc.MimeTypeVP8) {
		frame = make([]byte, 1000)
		if copy(frame, mediatest.KeyframeHeader[:]); n%30 != 0 {
			frame[0] |= 0x01 // an interframe
		}
	}
	inner.WriteSample(pionmedia.Sample{Data: frame, Duration: time.Second / 30})
}

// TestPublisherCodecForTheClass: a browser that offers H.264 first and
// VP8 too (as Safari does) is answered VP8 first and publishes VP8, which
// every browser of the class decodes; one that offers H.264 alone still
// publishes H.264.
func TestPublisherCodecForTheClass(t *testing.T) {
	h264 := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, PayloadType: 102}
	vp8 := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		PayloadType: 96}
	aus := mediatest.X264(t, 30)
	for _, c := range []struct {
		name   string
		offers []webrtc.RTPCodecParameters
		want   string
	}{
		{"h264 and vp8", []webrtc.RTPCodecParameters{h264, vp8}, webrtc.MimeTypeVP8},
		{"h264 alone", []webrtc.RTPCodecParameters{h264}, webrtc.MimeTypeH264},
	} {
		t.Run(c.name, func(t *testing.T) {
			ls := startServer(t, openStore(t, "sqlite"), nil)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			teacher, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: ls.token(domain.RoleTeacher, "teacher", time.Hour),
				Name: "Ms Lovelace", Loopback: true, VideoCodecs: c.offers})
			if err != nil {
				t.Fatal(err)
			}
			defer teacher.Close()
			mustSend(t, ctx, teacher, &domain.LessonStarted{})
			cam := &browserCamera{}
			if _, err := teacher.AddTrack(cam); err != nil {
				t.Fatal(err)
			}
			atFrameRate(t, func(n int) { cam.send(n, aus) })
			_, student := ls.joinMedia(ctx, domain.RoleStudent, "Grace")
			waitFor(t, 20*time.Second, "the student to see the teacher", func() bool {
				return student.flowing("teacher", webrtc.RTPCodecTypeVideo)
			})
			for _, r := range student.from("teacher", webrtc.RTPCodecTypeVideo) {
				if !strings.EqualFold(r.codec, c.want) {
					t.Errorf("the teacher publishes %s, want %s", r.codec, c.want)
				}
			}
		})
	}
}
