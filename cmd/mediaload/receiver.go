package main

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// stallGap is the silence between two video packets that counts as a stall:
// about eight frames at 30 fps.
const stallGap = 250 * time.Millisecond

// receiver records what one subscriber is sent: a count of packets and the
// highest sequence number per track, stalls of its video, and when its first
// complete video frame arrived.
type receiver struct {
	start time.Time // when the subscriber began to join
	// askKeyframe, when set, sends the server a keyframe request for the
	// track of this SSRC: called when a video track does not begin with a
	// keyframe, as a browser's decoder would.
	askKeyframe func(ssrc uint32)
	// tap, when set, counts each track at the socket once the track has
	// begun as it should (see tap); nil, pion delivers every packet. net
	// is the network the subscriber's connection must open its sockets on
	// for that; nil for the system's.
	tap *tap
	net transport.Net

	mu         sync.Mutex
	tracks     []*reception
	firstVideo time.Time // the first video packet
	firstFrame time.Time // the first complete keyframe's last packet
	framed     chan struct{}
}

// newReceiver returns a receiver for a subscriber that starts joining at
// start. With a network (-count-at socket), it counts its tracks at the
// sockets it opens on rc.net, once begun; with nil, in pion.
func newReceiver(start time.Time, network transport.Net) *receiver {
	rc := &receiver{start: start, framed: make(chan struct{})}
	if network != nil {
		rc.tap = newTap()
		rc.net = rc.tap.net(network)
	}
	return rc
}

const (
	// seenWindow is how many recent sequence numbers a reception remembers,
	// to tell a duplicate from a late packet that fills a hole.
	seenWindow = 1024
	// recentFrames is how many recent frame timestamps it remembers, to count
	// a frame whose packets all came late (retransmitted) once.
	recentFrames = 64
)

// reception counts one track.
type reception struct {
	video  bool
	tapped atomic.Bool // later packets are counted at the socket, not read here

	mu          sync.Mutex
	packets     int64 // distinct packets
	dups        int64 // packets received again
	highest     int64 // unwrapped sequence number
	seen        [seenWindow]int64
	newestTS    int64 // unwrapped RTP timestamp of the newest frame
	frames      int64 // frames (distinct timestamps) of which a packet arrived
	recentTS    [recentFrames]int64
	recentAt    int
	lastAt      time.Time
	stalls      int64
	firstIsKey  bool // video: the first packet starts a keyframe
	firstPacket bool // a packet has arrived
}

// counts is a sum over tracks at one moment.
type counts struct {
	tracks                         int // tracks that have begun
	packets, dups, highest, stalls int64
	// Per kind: frames begun (video) or distinct packets (audio), and the
	// newest RTP timestamp, which advances by the publisher's clock whatever
	// the forwarder skipped.
	videoFrames, videoTS, audioPackets, audioTS int64
}

func (c *counts) add(o counts) {
	c.tracks += o.tracks
	c.packets += o.packets
	c.dups += o.dups
	c.highest += o.highest
	c.stalls += o.stalls
	c.videoFrames += o.videoFrames
	c.videoTS += o.videoTS
	c.audioPackets += o.audioPackets
	c.audioTS += o.audioTS
}

// sub subtracts an earlier sum.
func (c *counts) sub(o counts) {
	c.tracks -= o.tracks
	c.packets -= o.packets
	c.dups -= o.dups
	c.highest -= o.highest
	c.stalls -= o.stalls
	c.videoFrames -= o.videoFrames
	c.videoTS -= o.videoTS
	c.audioPackets -= o.audioPackets
	c.audioTS -= o.audioTS
}

func (r *reception) counts() counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.firstPacket {
		return counts{}
	}
	c := counts{tracks: 1, packets: r.packets, dups: r.dups, highest: r.highest, stalls: r.stalls}
	if r.video {
		c.videoFrames, c.videoTS = r.frames, r.newestTS
	} else {
		c.audioPackets, c.audioTS = r.packets, r.newestTS
	}
	return c
}

// count records a packet received at now, and returns how many sequence
// numbers it skipped past the highest before it (a hole: lost, or still on
// its way). Called with r.mu held.
func (r *reception) count(h *rtp.Header, now time.Time) (skipped int) {
	if !r.firstPacket {
		r.firstPacket = true
		r.highest, r.newestTS = int64(h.SequenceNumber), int64(h.Timestamp)
		r.seen[r.highest%seenWindow] = r.highest + 1
		r.packets, r.frames, r.lastAt = 1, 1, now
		r.rememberFrame(r.newestTS)
		return 0
	}
	seq := r.highest + int64(int16(h.SequenceNumber-uint16(r.highest)))
	if seq < 0 || r.seen[seq%seenWindow] == seq+1 {
		r.dups++
		return 0
	}
	r.seen[seq%seenWindow] = seq + 1
	if seq > r.highest+1 {
		skipped = int(seq - r.highest - 1)
	}
	r.highest = max(r.highest, seq)
	r.packets++
	switch d := int32(h.Timestamp - uint32(r.newestTS)); {
	case d > 0:
		r.newestTS += int64(d)
		r.frames++
		r.rememberFrame(r.newestTS)
	case d < 0 && !slices.Contains(r.recentTS[:], r.newestTS+int64(d)):
		r.frames++ // a late packet of a frame none of whose packets had come
		r.rememberFrame(r.newestTS + int64(d))
	}
	if r.video && now.Sub(r.lastAt) > stallGap {
		r.stalls++
	}
	r.lastAt = now
	return skipped
}

// rememberFrame notes a frame's timestamp among the recent ones. Called with
// r.mu held.
func (r *reception) rememberFrame(ts int64) {
	r.recentTS[r.recentAt] = ts
	r.recentAt = (r.recentAt + 1) % recentFrames
}

// frameAssembler finds the first complete keyframe of a video track: the
// packets of one timestamp, with no gap, from a keyframe's first packet
// through the one with the marker bit.
type frameAssembler struct {
	collecting bool
	ts         uint32
	next       uint16
}

// push takes the next packet in arrival order and reports whether it
// completes a keyframe.
func (f *frameAssembler) push(h *rtp.Header, payload []byte) bool {
	if f.collecting {
		if h.Timestamp == f.ts && h.SequenceNumber == f.next {
			f.next++
			return h.Marker
		}
		f.collecting = false // a gap, or the frame ended unmarked: wait for the next keyframe
	}
	if !keyframeStart(payload) {
		return false
	}
	f.collecting, f.ts, f.next = true, h.Timestamp, h.SequenceNumber+1
	return h.Marker
}

// keyframeStart reports whether a VP8 RTP payload starts a keyframe: the
// descriptor's S bit set in partition 0, and the frame tag's P bit clear.
func keyframeStart(payload []byte) bool {
	var vp8 codecs.VP8Packet
	if _, err := vp8.Unmarshal(payload); err != nil {
		return false
	}
	return vp8.S == 1 && vp8.PID == 0 && len(vp8.Payload) > 0 && vp8.Payload[0]&0x01 == 0
}

// onTrack reads a track until it ends; it is a client's OnTrack.
func (rc *receiver) onTrack(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	r := &reception{video: t.Kind() == webrtc.RTPCodecTypeVideo}
	rc.mu.Lock()
	rc.tracks = append(rc.tracks, r)
	rc.mu.Unlock()
	if rc.tap != nil {
		rc.tap.register(uint32(t.SSRC()), r)
	}
	var (
		buf     = make([]byte, 1500)
		h       rtp.Header
		frames  frameAssembler
		done    = !r.video // the first frame is found, or there is none to find
		pliSent bool
		handed  bool // to the tap, when there is one: counted at the socket from now on
	)
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		hn, err := h.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		now := time.Now()
		r.mu.Lock()
		if !r.firstPacket && r.video {
			r.firstIsKey = keyframeStart(buf[hn:n])
		}
		r.count(&h, now)
		firstIsKey := r.firstIsKey
		r.mu.Unlock()
		if done {
			if !handed {
				handed = true
				r.tapped.Store(rc.tap != nil)
			}
			continue
		}
		if !pliSent && !firstIsKey && rc.askKeyframe != nil {
			pliSent = true
			rc.askKeyframe(uint32(t.SSRC()))
		}
		rc.mu.Lock()
		if rc.firstVideo.IsZero() {
			rc.firstVideo = now
		}
		rc.mu.Unlock()
		if frames.push(&h, buf[hn:n]) {
			done = true
			rc.mu.Lock()
			if rc.firstFrame.IsZero() {
				rc.firstFrame = now
				close(rc.framed)
			}
			rc.mu.Unlock()
		}
	}
}

// counts sums the receiver's tracks.
func (rc *receiver) counts() counts {
	rc.mu.Lock()
	tracks := rc.tracks
	rc.mu.Unlock()
	var c counts
	for _, r := range tracks {
		c.add(r.counts())
	}
	return c
}

// flowing reports whether both a video and an audio packet arrived within
// the last second.
func (rc *receiver) flowing(now time.Time) bool {
	rc.mu.Lock()
	tracks := rc.tracks
	rc.mu.Unlock()
	var video, audio bool
	for _, r := range tracks {
		r.mu.Lock()
		ok := r.firstPacket && now.Sub(r.lastAt) < time.Second
		r.mu.Unlock()
		if ok && r.video {
			video = true
		} else if ok {
			audio = true
		}
	}
	return video && audio
}

// startedOnKeyframe reports whether the subscriber has video and its first
// video packet began a keyframe.
func (rc *receiver) startedOnKeyframe() (hasVideo, onKey bool) {
	rc.mu.Lock()
	tracks := rc.tracks
	rc.mu.Unlock()
	for _, r := range tracks {
		r.mu.Lock()
		if r.video && r.firstPacket {
			hasVideo, onKey = true, r.firstIsKey
		}
		r.mu.Unlock()
	}
	return hasVideo, onKey
}

// firstFrameAfter returns how long after start the first video packet and
// the first complete keyframe arrived (zero for what has not).
func (rc *receiver) firstFrameAfter() (packet, frame time.Duration) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !rc.firstVideo.IsZero() {
		packet = rc.firstVideo.Sub(rc.start)
	}
	if !rc.firstFrame.IsZero() {
		frame = rc.firstFrame.Sub(rc.start)
	}
	return packet, frame
}
