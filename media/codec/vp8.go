package codec

import "encoding/binary"

// vp8KeyframeStart parses the VP8 payload descriptor (RFC 7741 §4.2) and the
// first byte of the VP8 frame header: a keyframe starts in partition 0 with
// the S bit set, and its frame tag's P bit clear.
func vp8KeyframeStart(b []byte) bool {
	if len(b) < 1 {
		return false
	}
	x, s, pid := b[0]&0x80 != 0, b[0]&0x10 != 0, b[0]&0x07
	if !s || pid != 0 {
		return false
	}
	i := 1
	if x {
		if len(b) < 2 {
			return false
		}
		ext := b[1]
		i = 2
		if ext&0x80 != 0 { // I: picture id
			if len(b) <= i {
				return false
			}
			if b[i]&0x80 != 0 { // M: 15-bit picture id
				i++
			}
			i++
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if ext&0x30 != 0 { // T or K: TID/Y/KEYIDX
			i++
		}
	}
	if len(b) <= i {
		return false
	}
	return b[i]&0x01 == 0
}

// VP8Keyframe reports whether a whole VP8 frame (RFC 6386 §9.1, as the
// depacketizer assembles it) is a keyframe: the frame tag's P bit clear and
// the start code that follows it.
func VP8Keyframe(frame []byte) bool {
	return len(frame) >= 10 && frame[0]&0x01 == 0 && frame[3] == 0x9d && frame[4] == 0x01 && frame[5] == 0x2a
}

// VP8Size reads a VP8 keyframe's width and height; 0, 0 for a frame too
// short to hold them.
func VP8Size(frame []byte) (width, height int) {
	if len(frame) < 10 {
		return 0, 0
	}
	return int(binary.LittleEndian.Uint16(frame[6:8]) & 0x3fff), int(binary.LittleEndian.Uint16(frame[8:10]) & 0x3fff)
}
