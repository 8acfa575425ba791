package realtime

import (
	"errors"
	"testing"

	"classroom/domain"
)

// FuzzCheckOffer feeds arbitrary offers to the check every WHIP and WHEP
// offer passes before anything is made for it: it never panics, refuses
// with CodeInvalid only, and what it accepts has an audio or video section
// with a codec the server forwards.
func FuzzCheckOffer(f *testing.F) {
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\na=rtpmap:96 H264/90000\r\n", true)
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\n", false)
	f.Add("v=0\r\nm=video 9 RTP/AVP 45\r\na=rtpmap:45 AV1/90000\r\n", true)
	f.Add("hello", false)
	f.Fuzz(func(t *testing.T, offer string, publish bool) {
		kind := StreamView
		if publish {
			kind = StreamPublish
		}
		sections, err := checkOffer(offer, kind)
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeInvalid {
				t.Fatalf("refused with %v, want CodeInvalid", err)
			}
			return
		}
		known := 0
		for _, s := range sections {
			known += len(s.codecs)
		}
		if len(sections) == 0 || known == 0 {
			t.Fatalf("accepted an offer with %d sections and %d known codecs", len(sections), known)
		}
	})
}
