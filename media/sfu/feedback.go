package sfu

import (
	"net/netip"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// readRTCP answers the subscriber's feedback: NACKs from the track's cache
// (as its history allows), keyframe requests by asking the publisher
// (rate-limited there), REMB by choosing its layer again; its receiver
// reports give its round-trip time.
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
			case *rtcp.ReceiverReport:
				d.roundTrip(pkt.Reports, time.Now())
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

// resend sends again a packet the subscriber lost, when its history allows
// and the track's cache still holds it.
func (d *downTrack) resend(out uint16) {
	h, ok := d.history.resend(out, time.Now())
	if !ok {
		return
	}
	from := h.from
	if from == nil {
		from = d.pub
	}
	if p := from.cache.get(h.in); p != nil {
		d.send(p, out, h.ts, new(rtp.Header), netip.AddrPort{})
	}
}

// roundTrip takes the round-trip time from the subscriber's report of the
// track, if it is among reports.
func (d *downTrack) roundTrip(reports []rtcp.ReceptionReport, now time.Time) {
	d.mu.RLock()
	ssrc := d.ssrc
	d.mu.RUnlock()
	for _, r := range reports {
		if r.SSRC != ssrc {
			continue
		}
		if rtt, ok := roundTripTime(now, r.LastSenderReport, r.Delay); ok {
			d.history.setRTT(rtt)
		}
	}
}

// roundTripTime is the round-trip time a reception report received at now
// tells (RFC 3550 §6.4.1): now, less when the sender report it answers was
// sent (lsr), less how long the receiver held that report (dlsr), all in
// the middle 32 bits of NTP time. It is unknown (false) before the receiver
// has had a sender report, and when the clocks say less than nothing.
func roundTripTime(now time.Time, lsr, dlsr uint32) (time.Duration, bool) {
	if lsr == 0 {
		return 0, false
	}
	d := ntpMiddle(now) - lsr - dlsr
	if int32(d) < 0 {
		return 0, false
	}
	return time.Duration(uint64(d) * uint64(time.Second) >> 16), true
}

// ntpMiddle is the middle 32 bits of t as an NTP timestamp: seconds since
// 1900 in the upper 16 bits, the fraction of a second in the lower.
func ntpMiddle(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }

// ntpTime is t as a 64-bit NTP timestamp: seconds since 1900 in the upper
// 32 bits, the fraction of a second in the lower.
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // seconds from 1900 to 1970
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}
