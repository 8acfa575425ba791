// Package mediatest gives tests a synthetic publisher: VP8-shaped video and
// Opus-shaped audio sent over a real WebRTC connection. Nothing decodes its
// payload (random bytes), but every frame is shaped like a real one where
// the server looks: a VP8 keyframe starts with a frame tag whose P bit is
// clear, the start code 9d 01 2a and a 640×480 size. It also starts a
// peer's ICE gathering for tests that look at candidates. It is for tests
// only: nothing outside a _test.go file may import it.
package mediatest

import (
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"

	"classroom/media"
)

// AudioFrame is the duration of one synthetic audio packet (80 bytes).
const AudioFrame = 20 * time.Millisecond

// KeyframeHeader starts every synthetic VP8 keyframe: a frame tag with the P
// bit clear, the start code and a 640×480 size.
var KeyframeHeader = [...]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01}

// Camera is a synthetic camera and microphone: a keyframe every two seconds
// and whenever the receiver asks for one.
type Camera struct {
	Video, Audio *webrtc.TrackLocalStaticSample

	VideoSent      atomic.Int64 // frames written
	AudioSent      atomic.Int64 // packets written
	KeyframesAsked atomic.Int64 // PLIs and FIRs received

	keyframeAsked atomic.Bool
	stop          chan struct{}
	once          sync.Once
	sending       sync.WaitGroup // the two send loops
}

// Start adds a camera and a microphone with add (a PeerConnection's or a
// client's AddTrack) and sends frameBytes-byte frames at fps until Stop or
// the end of the test. The tracks' ids are name+"-camera" and
// name+"-microphone", their stream id name.
func Start(t testing.TB, add func(webrtc.TrackLocal) (*webrtc.RTPSender, error), name string, fps, frameBytes int) *Camera {
	t.Helper()
	if fps <= 0 || frameBytes < len(KeyframeHeader) {
		t.Fatalf("mediatest: a camera needs fps > 0 and frames of at least %d bytes", len(KeyframeHeader))
	}
	c := &Camera{stop: make(chan struct{})}
	var err error
	if c.Video, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		name+"-camera", name); err != nil {
		t.Fatal(err)
	}
	if c.Audio, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
		name+"-microphone", name); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []webrtc.TrackLocal{c.Video, c.Audio} {
		sender, err := add(tr)
		if err != nil {
			t.Fatalf("mediatest: add %s: %v", tr.ID(), err)
		}
		go c.watch(sender) // ends with the connection
	}
	c.sending.Go(func() { c.sendVideo(fps, frameBytes) })
	c.sending.Go(c.sendAudio)
	t.Cleanup(c.Stop)
	return c
}

// Stop stops sending and waits for the send loops; the RTCP readers end
// with the connection.
func (c *Camera) Stop() {
	c.once.Do(func() { close(c.stop) })
	c.sending.Wait()
}

// watch notes the keyframe requests a sender receives until its
// connection closes; the connection's owner closes it.
func (c *Camera) watch(sender *webrtc.RTPSender) {
	media.ReadKeyframeRequests(sender, func() {
		c.KeyframesAsked.Add(1)
		c.keyframeAsked.Store(true)
	})
}

func (c *Camera) sendVideo(fps, frameBytes int) {
	c.every(time.Second/time.Duration(fps), func(n int, d time.Duration) {
		frame := make([]byte, frameBytes)
		rand.Read(frame)
		if n%(2*fps) == 0 || c.keyframeAsked.Swap(false) {
			copy(frame, KeyframeHeader[:])
		} else {
			frame[0] |= 0x01 // an interframe
		}
		if c.Video.WriteSample(pionmedia.Sample{Data: frame, Duration: d}) == nil {
			c.VideoSent.Add(1)
		}
	})
}

func (c *Camera) sendAudio() {
	c.every(AudioFrame, func(_ int, d time.Duration) {
		pkt := make([]byte, 80)
		rand.Read(pkt)
		if c.Audio.WriteSample(pionmedia.Sample{Data: pkt, Duration: d}) == nil {
			c.AudioSent.Add(1)
		}
	})
}

// every calls send at each tick of period until Stop, with how many times
// it was called before and the time since the previous tick (since every
// began, the first time): a sample's duration is the time since the
// previous one, so that the RTP clock follows real time as a browser's
// capture clock does, even when a loaded machine delays the ticker.
func (c *Camera) every(period time.Duration, send func(n int, d time.Duration)) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	last := time.Now()
	for n := 0; ; n++ {
		var now time.Time
		select {
		case <-c.stop:
			return
		case now = <-tick.C:
		}
		d := now.Sub(last)
		last = now
		send(n, d)
	}
}
