package codec

import "testing"

func TestKeyframeDetection(t *testing.T) {
	for _, c := range []struct {
		name    string
		mime    string
		payload []byte
		want    bool
	}{
		{"vp8 key, short descriptor", "video/vp8", []byte{0x10, 0x00, 0x00, 0x00}, true},
		{"vp8 inter", "video/vp8", []byte{0x10, 0x01}, false},
		{"vp8 key, 15-bit picture id", "video/vp8", []byte{0x90, 0x80, 0x80, 0x0c, 0x10}, true},
		{"vp8 inter, 15-bit picture id", "video/vp8", []byte{0x90, 0x80, 0x80, 0x0c, 0x2b}, false},
		{"vp8 key, picture id, tl0, tid", "video/vp8", []byte{0x90, 0xe0, 0x05, 0x01, 0x40, 0x00}, true},
		{"vp8 continuation", "video/vp8", []byte{0x00, 0x00}, false},
		{"vp8 second partition", "video/vp8", []byte{0x11, 0x00}, false},
		{"vp8 truncated", "video/vp8", []byte{0x90, 0x80}, false},
		{"h264 idr", "video/h264", []byte{0x65, 0x88}, true},
		{"h264 sps", "video/h264", []byte{0x67}, true},
		{"h264 non-idr", "video/h264", []byte{0x41, 0x9a}, false},
		{"h264 stap-a with sps", "video/h264", []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68}, true},
		{"h264 stap-a without", "video/h264", []byte{0x78, 0x00, 0x02, 0x41, 0x42}, false},
		{"h264 fu-a idr start", "video/h264", []byte{0x7c, 0x85, 0x00}, true},
		{"h264 fu-a idr middle", "video/h264", []byte{0x7c, 0x05, 0x00}, false},
		{"empty", "video/vp8", nil, false},
		{"opus", "audio/opus", []byte{0x00}, false},
	} {
		if got := KeyframeStart(c.mime, c.payload); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestVP8Frame: a whole VP8 frame is a keyframe by its frame tag and start
// code, and a keyframe's header gives its size.
func TestVP8Frame(t *testing.T) {
	key := []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01} // 640×480
	if !VP8Keyframe(key) {
		t.Error("a keyframe's header is not a keyframe")
	}
	if w, h := VP8Size(key); w != 640 || h != 480 {
		t.Errorf("size %d×%d, want 640×480", w, h)
	}
	inter := append([]byte(nil), key...)
	inter[0] |= 0x01 // P: an interframe
	if VP8Keyframe(inter) {
		t.Error("an interframe is a keyframe")
	}
	noStart := append([]byte(nil), key...)
	noStart[3] = 0
	if VP8Keyframe(noStart) {
		t.Error("a frame without the start code is a keyframe")
	}
	if VP8Keyframe(key[:9]) {
		t.Error("a truncated frame is a keyframe")
	}
	if w, h := VP8Size(key[:9]); w != 0 || h != 0 {
		t.Errorf("a truncated frame's size is %d×%d", w, h)
	}
}
