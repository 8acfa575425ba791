package media

import (
	"time"

	"github.com/pion/rtp"
)

// packet is one RTP packet received from a publisher, parsed once and then
// shared, read-only, by every subscriber and by the cache.
type packet struct {
	from    *publication // the track (layer) it came on
	header  rtp.Header
	payload []byte
	// keyframe is set on the first packet of a keyframe.
	keyframe bool
	// at is when the server received it.
	at time.Time
}

// isKeyframeStart reports whether an RTP payload starts a keyframe of the
// given codec (a video MIME type, lower case).
func isKeyframeStart(mime string, payload []byte) bool {
	switch mime {
	case "video/vp8":
		return vp8KeyframeStart(payload)
	case "video/h264":
		return h264Keyframe(payload)
	}
	return false
}

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

// h264Keyframe reports whether an H.264 RTP payload (RFC 6184) carries, or
// starts, an IDR slice or a sequence parameter set.
func h264Keyframe(b []byte) bool {
	if len(b) < 1 {
		return false
	}
	switch nal := b[0] & 0x1f; {
	case nal == 5 || nal == 7:
		return true
	case nal == 24: // STAP-A: 16-bit sizes, then NAL units
		for i := 1; i+2 < len(b); {
			size := int(b[i])<<8 | int(b[i+1])
			i += 2
			if i >= len(b) {
				return false
			}
			if t := b[i] & 0x1f; t == 5 || t == 7 {
				return true
			}
			i += size
		}
	case nal == 28: // FU-A: the start fragment of an IDR
		return len(b) > 1 && b[1]&0x80 != 0 && (b[1]&0x1f == 5 || b[1]&0x1f == 7)
	}
	return false
}

// seqBefore reports whether RTP sequence number a comes before b, allowing
// for wrap-around.
func seqBefore(a, b uint16) bool { return a != b && b-a < 0x8000 }
