package recorder

import (
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	rtpcodecs "github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"classroom/media/mediatest"
)

// TestRecordAV1: libaom's stream, packetized as the AV1 RTP specification
// says (pion's payloader, at most 1,200 bytes), becomes a WebM file that
// ffprobe reads as AV1 of the picture's size with every frame but the
// held-back last, whose codec private data is the configuration record
// ffmpeg itself writes for the same stream, and that ffmpeg decodes
// without an error.
func TestRecordAV1(t *testing.T) {
	const frames = 60
	tus := mediatest.AV1(t, frames)
	if len(tus) != frames {
		t.Fatalf("%d temporal units from ffmpeg, want %d", len(tus), frames)
	}
	var pay rtpcodecs.AV1Payloader
	w, path := recordFrames(t, webrtc.MimeTypeAV1, tus, func(tu []byte) [][]byte { return pay.Payload(1200, tu) })
	if !strings.HasSuffix(w.man.File, ".webm") || w.man.Width != 320 || w.man.Height != 240 || w.man.Codec != webrtc.MimeTypeAV1 {
		t.Fatalf("manifest: file %q, %s, %d×%d", w.man.File, w.man.Codec, w.man.Width, w.man.Height)
	}
	checkPlays(t, path, "av1", frames)

	// ffmpeg remuxing the recording makes its own configuration record from
	// the sequence header it parses: the same bytes.
	remux := path + ".ffmpeg.webm"
	if out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-c", "copy", remux).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg remuxes the recording: %v %s", err, out)
	}
	if ours, theirs := extradata(t, path), extradata(t, remux); ours != theirs || ours == "" {
		t.Errorf("codec private data %s, ffmpeg's %s", ours, theirs)
	}
}

// extradata returns a file's first stream's codec private data as ffprobe
// reads it, in hex.
func extradata(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_streams", "-show_data", "-select_streams", "v:0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var hexed strings.Builder
	in := false
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "extradata="):
			in = true
		case in && strings.HasPrefix(line, "0000"):
			// "00000000: 8100 0c00 0a0b 0000 0024 c4ff df00 6802  .........$....h."
			_, rest, _ := strings.Cut(line, ": ")
			if len(rest) > 40 {
				rest = rest[:40]
			}
			hexed.WriteString(strings.ReplaceAll(rest, " ", ""))
		default:
			in = false
		}
	}
	if _, err := hex.DecodeString(hexed.String()); err != nil {
		t.Fatalf("ffprobe's extradata of %s: %q", path, hexed.String())
	}
	return hexed.String()
}
