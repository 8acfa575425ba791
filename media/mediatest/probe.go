package mediatest

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"testing"
)

// Probe is what ffprobe reads in a media file.
type Probe struct {
	Codec    string    // the first stream's codec ("vp8", "opus")
	Duration float64   // seconds, from the container
	PTS      []float64 // every packet's presentation time in seconds, in file order
}

// ProbeFile runs ffprobe (Debian package ffmpeg) on a file, failing the
// test when ffprobe is missing or cannot read the file.
func ProbeFile(t testing.TB, path string) Probe {
	t.Helper()
	bin, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatalf("ffprobe not found: install the Debian package 'ffmpeg' (scripts/test does as root): %v", err)
	}
	out, err := exec.Command(bin, "-v", "error", "-show_entries", "stream=codec_name:format=duration:packet=pts_time",
		"-of", "json", path).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("ffprobe %s: %v %s", path, err, msg)
	}
	var r struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Packets []struct {
			PTS string `json:"pts_time"`
		} `json:"packets"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("ffprobe %s: unreadable output: %v", path, err)
	}
	if len(r.Streams) == 0 {
		t.Fatalf("ffprobe finds no stream in %s", path)
	}
	p := Probe{Codec: r.Streams[0].CodecName}
	p.Duration, _ = strconv.ParseFloat(r.Format.Duration, 64)
	for _, pk := range r.Packets {
		v, err := strconv.ParseFloat(pk.PTS, 64)
		if err != nil {
			t.Fatalf("ffprobe %s: a packet's time %q: %v", path, pk.PTS, err)
		}
		p.PTS = append(p.PTS, v)
	}
	return p
}
