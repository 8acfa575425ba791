package media

import (
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// ReadKeyframeRequests reads a sender's RTCP until reading fails (its
// connection closed), calling asked once for each keyframe request (PLI or
// FIR) in it, and leaving the rest of the RTCP to the interceptors. It is
// for a sender whose only answer to its receiver is a keyframe: a synthetic
// camera, a bare forwarder. The caller runs it in a goroutine it owns; it
// returns when the connection closes.
func ReadKeyframeRequests(sender *webrtc.RTPSender, asked func()) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				asked()
			}
		}
	}
}
