package recorder

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	rtpcodecs "github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"classroom/media"
	"classroom/media/mediatest"
)

// recordFrames records frames of a video codec, 30 a second, each cut into
// RTP payloads by payload, and returns the finalized writer and the path
// of its file.
func recordFrames(t *testing.T, mime string, frames [][]byte, payload func([]byte) [][]byte) (*trackWriter, string) {
	t.Helper()
	rec := testRecording(t)
	pub := &testTrack{kind: webrtc.RTPCodecTypeVideo, codec: webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000}}}
	w := newTrackWriter(newTrackRecorder(rec, pub))
	seq := uint16(1)
	for n, frame := range frames {
		parts := payload(frame)
		for i, p := range parts {
			if len(p) > 1200 {
				t.Fatalf("a payload of %d bytes", len(p))
			}
			w.push(&media.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(n * 3000),
				Marker: i == len(parts)-1, SSRC: 1, PayloadType: 96}, Payload: p,
				At: rec.anchorMono.Add(time.Duration(n) * time.Second / 30)})
			seq++
		}
	}
	w.close()
	return w, filepath.Join(rec.opts.Dir, w.man.File)
}

// checkPlays fails the test unless ffprobe reads a recording as the codec
// with every frame but the held-back last of those sent, and ffmpeg
// decodes it without an error.
func checkPlays(t *testing.T, path, codecName string, frames int) {
	t.Helper()
	probe := mediatest.ProbeFile(t, path)
	if probe.Codec != codecName {
		t.Fatalf("codec %q, want %s", probe.Codec, codecName)
	}
	if len(probe.PTS) != frames-1 {
		t.Errorf("ffprobe reads %d frames, want %d", len(probe.PTS), frames-1)
	}
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("ffmpeg decodes the recording with errors: %v %s", err, out)
	}
}

// TestRecordH264: an x264 stream, packetized as a WHIP encoder does
// (parameter sets in STAP-A, slices cut into FU-A of at most 1,200 bytes),
// becomes a Matroska file that ffprobe reads as H.264 of the picture's size
// with every frame but the held-back last, and that ffmpeg decodes without
// an error; its manifest names the .mkv file.
func TestRecordH264(t *testing.T) {
	const frames = 60
	aus := mediatest.X264(t, frames)
	if len(aus) != frames {
		t.Fatalf("%d access units from ffmpeg, want %d", len(aus), frames)
	}
	var pay rtpcodecs.H264Payloader
	var stapA, fuA bool
	w, path := recordFrames(t, webrtc.MimeTypeH264, aus, func(au []byte) [][]byte {
		parts := pay.Payload(1200, au)
		for _, p := range parts {
			switch p[0] & 0x1f {
			case 24:
				stapA = true
			case 28:
				fuA = true
			}
		}
		return parts
	})
	if !stapA || !fuA {
		t.Fatalf("the stream had STAP-A %v, FU-A %v; want both", stapA, fuA)
	}
	if !strings.HasSuffix(w.man.File, ".mkv") || w.man.Width != 320 || w.man.Height != 240 {
		t.Fatalf("manifest: file %q, %d×%d", w.man.File, w.man.Width, w.man.Height)
	}
	checkPlays(t, path, "h264", frames)
}
