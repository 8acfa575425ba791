package codec_test

import (
	"testing"

	rtpcodecs "github.com/pion/rtp/codecs"

	"classroom/media/codec"
	"classroom/media/mediatest"
)

// TestAV1: libaom's stream (a keyframe every 30 frames) is told apart
// frame by frame: a keyframe's temporal unit holds a sequence header and a
// key frame, and gives a configuration record of profile 0, 4:2:0, with
// the sequence header OBU, and the picture's size; packetized as the AV1
// RTP specification says (pion's payloader, 1,200 bytes), only a
// keyframe's first packet starts a keyframe.
func TestAV1(t *testing.T) {
	const frames = 61
	tus := mediatest.AV1(t, frames)
	if len(tus) != frames {
		t.Fatalf("%d temporal units from ffmpeg, want %d", len(tus), frames)
	}
	var pay rtpcodecs.AV1Payloader
	for i, tu := range tus {
		key := i%30 == 0
		if got := codec.AV1Keyframe(tu); got != key {
			t.Errorf("frame %d: keyframe %v, want %v", i, got, key)
		}
		obus, ok := codec.AV1OBUs(tu)
		if !ok || len(obus) == 0 {
			t.Fatalf("frame %d: OBUs %v, %v", i, obus, ok)
		}
		rec, w, h := codec.AV1Config(tu)
		if key {
			if w != 320 || h != 240 {
				t.Errorf("frame %d: size %d×%d, want 320×240", i, w, h)
			}
			// marker and version 1; profile 0; 8 bits, 4:2:0 (subsampling x and y); then the sequence header OBU.
			if len(rec) < 6 || rec[0] != 0x81 || rec[1]>>5 != 0 || rec[2]&0x7c != 0x0c || rec[4]>>3&0x0f != 1 || rec[4]&0x02 == 0 {
				t.Errorf("frame %d: configuration record %x", i, rec)
			}
		} else if rec != nil {
			t.Errorf("frame %d: a configuration record without a sequence header: %x", i, rec)
		}
		for j, p := range pay.Payload(1200, tu) {
			if len(p) > 1200 {
				t.Fatalf("frame %d: a payload of %d bytes", i, len(p))
			}
			if got := codec.KeyframeStart("video/av1", p); got != (key && j == 0) {
				t.Errorf("frame %d, packet %d: starts a keyframe %v", i, j, got)
			}
		}
	}
}

// TestAV1KeyframeStart: the aggregation header's N bit starts a keyframe;
// so does a first OBU element that is a sequence header, with a length
// field (W 0) or without (W 1); a continued element (Z) never does.
func TestAV1KeyframeStart(t *testing.T) {
	for _, c := range []struct {
		name    string
		payload []byte
		want    bool
	}{
		{"N", []byte{0x18, 0x32, 0x00}, true},
		{"sequence header, W 1", []byte{0x10, 0x08, 0x00}, true},
		{"sequence header, W 0", []byte{0x00, 0x02, 0x08, 0x00}, true},
		{"frame, W 1", []byte{0x10, 0x30, 0x00}, false},
		{"continuation", []byte{0x90, 0x08, 0x00}, false},
		{"bad length", []byte{0x00, 0xff}, false},
		{"short", []byte{0x08}, false},
	} {
		if got := codec.KeyframeStart("video/av1", c.payload); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// FuzzAV1 feeds arbitrary bytes to the AV1 parsers: they never panic, and
// the OBUs they find lie within the input.
func FuzzAV1(f *testing.F) {
	f.Add([]byte{0x0a, 0x0b, 0x00, 0x00, 0x00, 0x24, 0xc4, 0xff, 0xdf, 0x00, 0x68, 0x02, 0x10})
	f.Add([]byte{0x18, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		codec.KeyframeStart("video/av1", b)
		codec.AV1Keyframe(b)
		codec.AV1Config(b)
		obus, _ := codec.AV1OBUs(b)
		n := 0
		for _, o := range obus {
			n += len(o.Whole)
		}
		if n > len(b) {
			t.Fatalf("OBUs of %d bytes in %d", n, len(b))
		}
	})
}
