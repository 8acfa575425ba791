package sfu

import "github.com/pion/rtcp"

// readRTCP answers the subscriber's feedback: NACKs from the track's cache,
// keyframe requests by asking the publisher (rate-limited there).
func (d *downTrack) readRTCP() {
	if d.sender == nil {
		<-d.stop
		return
	}
	for {
		pkts, _, err := d.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt := pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.layer.current.Load().RequestKeyframe()
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				d.layer.setEstimate(int64(pkt.Bitrate))
			case *rtcp.TransportLayerNack:
				for _, pair := range pkt.Nacks {
					for _, seq := range pair.PacketList() {
						d.resend(seq)
					}
				}
			}
		}
	}
}

// resend sends again a packet the subscriber lost, when it is still cached.
func (d *downTrack) resend(out uint16) {
	h, ok := d.history.resend(out)
	if !ok {
		return
	}
	from := h.from
	if from == nil {
		from = d.pub
	}
	if p := from.cache.get(h.in); p != nil {
		d.send(p, out, h.ts)
	}
}
