package codec

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestH264AccessUnit: an access unit as the depacketizer assembles it
// (parameter sets and an IDR slice behind start codes of 4 and 3 bytes)
// is a keyframe, becomes length-prefixed units without its delimiter, and
// gives its decoder configuration and picture size; x264's parameter sets
// of a baseline 320×240 and a high-profile 1280×720 picture are read right.
func TestH264AccessUnit(t *testing.T) {
	for _, c := range []struct {
		name, sps, pps string
		w, h           int
	}{
		{"baseline", "6742c00dd90141fb0110000003001000000303c0f142a480", "68cb83cb20", 320, 240},
		{"high", "6764001facd9405005bb0110000003001000000303c0f1831960", "68ebe3cb22c0", 1280, 720},
	} {
		sps, pps := unhex(t, c.sps), unhex(t, c.pps)
		idr := []byte{0x65, 0x88, 0x84, 0x00}
		aud := []byte{0x09, 0xf0}
		var au []byte
		au = append(append(au, 0, 0, 0, 1), aud...)
		au = append(append(au, 0, 0, 0, 1), sps...)
		au = append(append(au, 0, 0, 1), pps...)
		au = append(append(au, 0, 0, 1), idr...)
		if n := H264NALUs(au); len(n) != 4 || !bytes.Equal(n[1], sps) || !bytes.Equal(n[3], idr) {
			t.Fatalf("%s: units %x", c.name, n)
		}
		if !H264Keyframe(au) {
			t.Errorf("%s: an IDR access unit is not a keyframe", c.name)
		}
		avcc := H264AVCC(au)
		if len(avcc) != 12+len(sps)+len(pps)+len(idr) || avcc[3] != byte(len(sps)) || !bytes.Equal(avcc[4:4+len(sps)], sps) {
			t.Errorf("%s: AVCC %x", c.name, avcc)
		}
		rec, w, h := H264Config(au)
		if w != c.w || h != c.h {
			t.Errorf("%s: size %d×%d, want %d×%d", c.name, w, h, c.w, c.h)
		}
		if len(rec) != 11+len(sps)+len(pps) || rec[0] != 1 || rec[1] != sps[1] || rec[3] != sps[3] || !bytes.Equal(rec[8:8+len(sps)], sps) {
			t.Errorf("%s: configuration record %x", c.name, rec)
		}
		if r, _, _ := H264Config(append([]byte{0, 0, 1}, idr...)); r != nil {
			t.Errorf("%s: a configuration without parameter sets: %x", c.name, r)
		}
	}
	inter := []byte{0, 0, 0, 1, 0x41, 0x9a, 0x00}
	if H264Keyframe(inter) {
		t.Error("a non-IDR slice is a keyframe")
	}
}

// FuzzH264 feeds arbitrary bytes to the parsers of H.264 payloads and
// access units: they must never panic, and the AVCC form is never longer
// than the input by more than its length prefixes.
func FuzzH264(f *testing.F) {
	f.Add([]byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68})
	f.Add([]byte{0x7c, 0x85, 0x00})
	au, _ := hex.DecodeString("000000016742c00dd90141fb0110000003001000000303c0f142a4800000000168cb83cb20")
	f.Add(au)
	f.Fuzz(func(t *testing.T, b []byte) {
		KeyframeStart("video/h264", b)
		H264Keyframe(b)
		n := len(H264NALUs(b))
		if a := H264AVCC(b); len(a) > len(b)+4*n {
			t.Fatalf("AVCC of %d bytes from %d", len(a), len(b))
		}
		H264Config(b)
	})
}
