package codec

// KeyframeStart reports whether an RTP payload starts a keyframe of the
// given codec (a video MIME type, lower case, as "video/vp8"). It is false
// for any other codec.
func KeyframeStart(mime string, payload []byte) bool {
	switch mime {
	case "video/vp8":
		return vp8KeyframeStart(payload)
	case "video/h264":
		return h264Keyframe(payload)
	case "video/av1":
		return av1KeyframeStart(payload)
	}
	return false
}
