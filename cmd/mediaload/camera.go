package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"

	"classroom/media"
)

// audioFrame and audioBytes shape the synthetic microphone like Opus: a
// packet of about 80 bytes every 20 ms.
const (
	audioFrame = 20 * time.Millisecond
	audioBytes = 80
)

// vp8KeyframeHeader is the start of a VP8 keyframe: a frame tag with the P
// bit (bit 0 of the first byte) clear, then the start code 9d 01 2a and a
// 640×480 size. An interframe's first byte has bit 0 set.
var vp8KeyframeHeader = [...]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01}

// camera is the synthetic publisher: VP8-shaped video of fixed-size frames
// at a fixed rate, a keyframe every two seconds and whenever one is asked
// for, and Opus-shaped audio. Its payload is random bytes: nothing decodes
// it, but the SFU parses the VP8 payload descriptor and frame tag as it
// would a real camera's.
type camera struct {
	fps, frameBytes int
	video, audio    *countedTrack

	keyframeAsked atomic.Bool
	keyframes     atomic.Int64 // keyframes sent
	frames        atomic.Int64 // video frames sent
	asked         atomic.Int64 // keyframe requests (PLI, FIR) received

	wg sync.WaitGroup // RTCP readers and the two send loops
}

func newCamera(streamID string, fps, frameBytes int) (*camera, error) {
	if fps <= 0 || frameBytes < len(vp8KeyframeHeader) {
		return nil, fmt.Errorf("a camera needs fps > 0 and frames of at least %d bytes", len(vp8KeyframeHeader))
	}
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		streamID+"-camera", streamID)
	if err != nil {
		return nil, fmt.Errorf("video track: %w", err)
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
		streamID+"-microphone", streamID)
	if err != nil {
		return nil, fmt.Errorf("audio track: %w", err)
	}
	return &camera{fps: fps, frameBytes: frameBytes,
		video: &countedTrack{TrackLocalStaticSample: video}, audio: &countedTrack{TrackLocalStaticSample: audio}}, nil
}

// tracks returns the camera's tracks, video first, to add to a connection.
func (c *camera) tracks() []webrtc.TrackLocal { return []webrtc.TrackLocal{c.video, c.audio} }

// watch reads a sender's RTCP until its connection closes, noting keyframe
// requests.
func (c *camera) watch(sender *webrtc.RTPSender) {
	c.wg.Go(func() {
		media.ReadKeyframeRequests(sender, func() {
			c.asked.Add(1)
			c.keyframeAsked.Store(true)
		})
	})
}

// start sends video and audio until ctx is done; wait waits for that and
// for the RTCP readers (which end with the connection).
func (c *camera) start(ctx context.Context) {
	c.wg.Go(func() { c.sendVideo(ctx) })
	c.wg.Go(func() { c.sendAudio(ctx) })
}

func (c *camera) wait() { c.wg.Wait() }

func (c *camera) sendVideo(ctx context.Context) {
	frame := make([]byte, c.frameBytes)
	rand.Read(frame)
	every := time.Second / time.Duration(c.fps)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// The packetizer copies the frame, so one buffer serves.
		if n%(2*c.fps) == 0 || c.keyframeAsked.Swap(false) {
			copy(frame, vp8KeyframeHeader[:])
			c.keyframes.Add(1)
		} else {
			frame[0] |= 0x01 // an interframe
		}
		if c.video.WriteSample(pionmedia.Sample{Data: frame, Duration: every}) == nil {
			c.frames.Add(1)
		}
	}
}

func (c *camera) sendAudio(ctx context.Context) {
	pkt := make([]byte, audioBytes)
	rand.Read(pkt)
	tick := time.NewTicker(audioFrame)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.audio.WriteSample(pionmedia.Sample{Data: pkt, Duration: audioFrame})
	}
}

// sent returns the RTP packets the camera has handed to its connection.
func (c *camera) sent() int64 { return c.video.sent.Load() + c.audio.sent.Load() }

// countedTrack is a sample track that counts the RTP packets it writes to
// the connection, so that what subscribers receive can be compared with
// what the publisher sent.
type countedTrack struct {
	*webrtc.TrackLocalStaticSample
	sent atomic.Int64
}

// Bind binds the inner track to a context whose writer counts.
func (t *countedTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	return t.TrackLocalStaticSample.Bind(countingContext{TrackLocalContext: ctx, sent: &t.sent})
}

type countingContext struct {
	webrtc.TrackLocalContext
	sent *atomic.Int64
}

func (c countingContext) WriteStream() webrtc.TrackLocalWriter {
	return countingWriter{TrackLocalWriter: c.TrackLocalContext.WriteStream(), sent: c.sent}
}

type countingWriter struct {
	webrtc.TrackLocalWriter
	sent *atomic.Int64
}

func (w countingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	n, err := w.TrackLocalWriter.WriteRTP(h, payload)
	if err == nil && n > 0 {
		w.sent.Add(1)
	}
	return n, err
}
