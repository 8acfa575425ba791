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
	rec := testRecording(t)
	pub := &testTrack{kind: webrtc.RTPCodecTypeVideo, codec: webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000}}}
	w := newTrackWriter(newTrackRecorder(rec, pub))
	var pay rtpcodecs.H264Payloader
	seq := uint16(1)
	var stapA, fuA bool
	for n, au := range aus {
		parts := pay.Payload(1200, au)
		for i, payload := range parts {
			switch payload[0] & 0x1f {
			case 24:
				stapA = true
			case 28:
				fuA = true
			}
			if len(payload) > 1200 {
				t.Fatalf("a payload of %d bytes", len(payload))
			}
			w.push(&media.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(n * 3000),
				Marker: i == len(parts)-1, SSRC: 1, PayloadType: 96}, Payload: payload,
				At: rec.anchorMono.Add(time.Duration(n) * time.Second / 30)})
			seq++
		}
	}
	w.close()
	if !stapA || !fuA {
		t.Fatalf("the stream had STAP-A %v, FU-A %v; want both", stapA, fuA)
	}
	if !strings.HasSuffix(w.man.File, ".mkv") || w.man.Width != 320 || w.man.Height != 240 {
		t.Fatalf("manifest: file %q, %d×%d", w.man.File, w.man.Width, w.man.Height)
	}
	path := filepath.Join(rec.opts.Dir, w.man.File)
	probe := mediatest.ProbeFile(t, path)
	if probe.Codec != "h264" {
		t.Fatalf("codec %q, want h264", probe.Codec)
	}
	if len(probe.PTS) != frames-1 {
		t.Errorf("ffprobe reads %d frames, want %d", len(probe.PTS), frames-1)
	}
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("ffmpeg decodes the recording with errors: %v %s", err, out)
	}
}
