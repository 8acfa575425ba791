package sfu

import (
	"strings"

	"github.com/pion/webrtc/v4"
)

// matchCodec finds the codec of a subscriber's negotiated list that carries
// a publisher's packets unchanged: the same MIME type and, for H.264, the
// same packetization mode and profile where possible.
func matchCodec(want webrtc.RTPCodecParameters, have []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	var fallback *webrtc.RTPCodecParameters
	for i, c := range have {
		if !strings.EqualFold(c.MimeType, want.MimeType) {
			continue
		}
		if strings.EqualFold(c.MimeType, webrtc.MimeTypeH264) {
			if fmtpValue(c.SDPFmtpLine, "packetization-mode") != fmtpValue(want.SDPFmtpLine, "packetization-mode") {
				continue
			}
			if !strings.EqualFold(fmtpValue(c.SDPFmtpLine, "profile-level-id"), fmtpValue(want.SDPFmtpLine, "profile-level-id")) {
				if fallback == nil {
					fallback = &have[i]
				}
				continue
			}
		}
		return c, true
	}
	if fallback != nil {
		return *fallback, true
	}
	return webrtc.RTPCodecParameters{}, false
}

func fmtpValue(line, key string) string {
	for _, kv := range strings.Split(line, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}
