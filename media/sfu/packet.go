package sfu

import "classroom/media"

// packet is a publisher's packet as the stage hands it out: shared,
// read-only, by every subscriber, every sink and the cache.
type packet struct {
	media.Packet
	from *publication // the track (layer) it came on
}

// seqBefore reports whether RTP sequence number a comes before b, allowing
// for wrap-around.
func seqBefore(a, b uint16) bool { return a != b && b-a < 0x8000 }
