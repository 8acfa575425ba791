package mediatest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"classroom/media/codec"
)

// ffmpeg runs ffmpeg (Debian package ffmpeg) writing to a file of the
// test's, and returns the file's bytes.
func ffmpeg(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg not found: install the Debian package 'ffmpeg' (scripts/test does as root): %v", err)
	}
	path := filepath.Join(t.TempDir(), name)
	args = append(append([]string{"-v", "error", "-y"}, args...), path)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// X264 encodes frames of ffmpeg's test pattern (320×240, 30 a second) with
// x264's baseline profile, a keyframe every 30, and returns its access
// units in Annex B form, the parameter sets with each keyframe: what an
// encoder such as OBS sends.
func X264(t testing.TB, frames int) [][]byte {
	t.Helper()
	b := ffmpeg(t, "pattern.h264", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-frames:v", strconv.Itoa(frames),
		"-pix_fmt", "yuv420p", "-c:v", "libx264", "-profile:v", "baseline", "-g", "30", "-bsf:v", "h264_mp4toannexb", "-f", "h264")
	// One slice per picture: an access unit ends with its slice.
	var aus [][]byte
	var au []byte
	for _, n := range codec.H264NALUs(b) {
		if len(n) == 0 {
			continue
		}
		au = append(append(au, 0, 0, 0, 1), n...)
		if k := n[0] & 0x1f; k == 1 || k == 5 {
			aus = append(aus, au)
			au = nil
		}
	}
	return aus
}

// AV1 encodes frames of ffmpeg's test pattern (320×240, 30 a second) with
// libaom's real-time mode, a keyframe every 30, and returns its temporal
// units as the encoder wrote them (OBUs with their sizes, a sequence header
// with each keyframe): what a browser or OBS packetizes.
func AV1(t testing.TB, frames int) [][]byte {
	t.Helper()
	b := ffmpeg(t, "pattern.ivf", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-frames:v", strconv.Itoa(frames),
		"-pix_fmt", "yuv420p", "-c:v", "libaom-av1", "-usage", "realtime", "-cpu-used", "8", "-g", "30", "-b:v", "300k", "-f", "ivf")
	r, _, err := ivfreader.NewWith(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("read the AV1 stream: %v", err)
	}
	var out [][]byte
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read the AV1 stream: %v", err)
		}
		out = append(out, frame)
	}
	return out
}

// OpusTone encodes seconds of a 440 Hz tone with Opus, 20 ms a packet, and
// returns the packets.
func OpusTone(t testing.TB, seconds int) [][]byte {
	t.Helper()
	b := ffmpeg(t, "tone.ogg", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", strconv.Itoa(seconds),
		"-c:a", "libopus", "-frame_duration", "20", "-page_duration", "20000", "-f", "ogg")
	r, _, err := oggreader.NewWith(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("read the tone: %v", err)
	}
	var out [][]byte
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read the tone: %v", err)
		}
		if bytes.HasPrefix(page, []byte("OpusHead")) || bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		out = append(out, page)
	}
	return out
}
