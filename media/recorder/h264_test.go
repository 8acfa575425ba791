package recorder

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	rtpcodecs "github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"classroom/media"
	"classroom/media/codec"
	"classroom/media/mediatest"
)

// x264Stream encodes frames of ffmpeg's test pattern with x264 (a keyframe
// every 30) and returns its access units in Annex B form.
func x264Stream(t *testing.T, frames int) [][]byte {
	t.Helper()
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg not found: install the Debian package 'ffmpeg' (scripts/test does as root): %v", err)
	}
	path := filepath.Join(t.TempDir(), "pattern.h264")
	out, err := exec.Command(bin, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-frames:v",
		strconv.Itoa(frames), "-pix_fmt", "yuv420p",
		"-c:v", "libx264", "-profile:v", "baseline", "-g", "30", "-bsf:v", "h264_mp4toannexb", "-f", "h264", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// One slice per picture: an access unit ends with its slice.
	var aus [][]byte
	var au []byte
	for _, n := range codec.H264NALUs(b) {
		au = append(append(au, 0, 0, 0, 1), n...)
		if t := n[0] & 0x1f; t == 1 || t == 5 {
			aus = append(aus, au)
			au = nil
		}
	}
	return aus
}

// TestRecordH264: an x264 stream, packetized as a WHIP encoder does
// (parameter sets in STAP-A, slices cut into FU-A of at most 1,200 bytes),
// becomes a Matroska file that ffprobe reads as H.264 of the picture's size
// with every frame but the held-back last, and that ffmpeg decodes without
// an error; its manifest names the .mkv file.
func TestRecordH264(t *testing.T) {
	const frames = 60
	aus := x264Stream(t, frames)
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
