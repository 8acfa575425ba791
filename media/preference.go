package media

import (
	"slices"
	"strings"

	"github.com/pion/webrtc/v4"
)

// classCodecs returns the order of video codecs the server asks a
// publishing browser for, the order the server negotiates them in
// (codecs): VP8 first, which every WebRTC browser must decode (RFC 7742),
// so that what a browser publishes reaches the whole class; then H.264,
// then AV1.
func classCodecs() []string {
	var order []string
	for _, c := range codecs() {
		if c.t == webrtc.RTPCodecTypeVideo && !slices.Contains(order, c.p.MimeType) {
			order = append(order, c.p.MimeType)
		}
	}
	return order
}

// PreferClassCodecs orders a receiving transceiver's codecs (as negotiated
// from a publisher's offer, with its payload types) by classCodecs(),
// keeping the offer's order among codecs of one kind and putting the
// others last. A browser sends the first codec of the answer, so a
// browser that offers VP8 among others (Safari offers H.264 first) sends
// VP8; one that offers only H.264 or AV1 still sends it.
func PreferClassCodecs(codecs []webrtc.RTPCodecParameters) []webrtc.RTPCodecParameters {
	order := classCodecs()
	rank := func(c webrtc.RTPCodecParameters) int {
		for i, m := range order {
			if strings.EqualFold(c.MimeType, m) {
				return i
			}
		}
		return len(order)
	}
	out := slices.Clone(codecs)
	slices.SortStableFunc(out, func(a, b webrtc.RTPCodecParameters) int { return rank(a) - rank(b) })
	return out
}
