package sfu

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"classroom/media"
	"classroom/media/codec"
)

// keyframeInterval bounds how often a publisher is asked for a keyframe: the
// requests of many subscribers become one.
const keyframeInterval = 500 * time.Millisecond

// publication is one track a participant sends to the server. Its read loop
// caches every packet and hands it to each subscriber's queue and each sink;
// it never waits for either. It is the media.Track the stage offers its
// subscribers.
type publication struct {
	owner *Member
	track *webrtc.TrackRemote
	codec webrtc.RTPCodecParameters
	mime  string // lower case
	kind  webrtc.RTPCodecType

	cache cache

	mu    sync.Mutex   // held while a packet is cached and handed out
	subs  []*downTrack // bound subscribers; replaced, never changed in place
	sinks []media.Sink // other consumers (recorders); replaced, never changed in place

	lastKeyframeRequest atomic.Int64  // unix nanoseconds
	askKeyframe         func()        // sends the publisher a PLI
	done                chan struct{} // closed when the read loop ends

	// The bitrate the publisher sends this track (layer) at, measured by
	// handOut over windows of rateWindow, and when its latest packet came:
	// subscribers choose layers by them.
	bitrate     atomic.Int64 // bits a second
	lastPacket  atomic.Int64 // unix nanoseconds; 0 before the first
	windowBytes int
	windowStart time.Time

	// The read loop's own: the newest sequence number read.
	newest  uint16
	anyRead bool
}

// rateWindow is how long a publication's bitrate is measured over.
const rateWindow = 500 * time.Millisecond

// pausedAfter is how long a simulcast layer may send nothing before
// subscribers stop choosing it: a browser stops sending its top layers while
// its uplink cannot carry them, and resumes them later.
const pausedAfter = time.Second

// sending reports whether a packet of the publication arrived within
// pausedAfter of now.
func (p *publication) sending(now time.Time) bool {
	last := p.lastPacket.Load()
	return last != 0 && now.UnixNano()-last < int64(pausedAfter)
}

// source names the media a publication is a layer of: the publisher's
// track, whatever its layers.
func (p *publication) source() string { return p.kind.String() + "/" + p.ID() }

func newPublication(owner *Member, track *webrtc.TrackRemote) *publication {
	params := track.Codec()
	p := &publication{owner: owner, track: track, codec: params, mime: strings.ToLower(params.MimeType),
		kind: track.Kind(), done: make(chan struct{})}
	p.askKeyframe = func() {
		owner.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(track.SSRC())}})
	}
	return p
}

// run reads the track until it ends (the publisher's connection closes or
// the track is removed).
func (p *publication) run() {
	defer close(p.done)
	var frame []*packet
	for {
		buf := make([]byte, 1500)
		n, _, err := p.track.Read(buf)
		if err != nil {
			p.handOut(frame...)
			return
		}
		var rp rtp.Packet
		if err := rp.Unmarshal(buf[:n]); err != nil {
			continue
		}
		pkt := &packet{Packet: media.Packet{Header: rp.Header, Payload: rp.Payload}, from: p}
		pkt.Header.Extensions, pkt.Header.Extension = nil, false
		if len(pkt.Payload) > 0 {
			pkt.Keyframe = p.kind == webrtc.RTPCodecTypeVideo && codec.KeyframeStart(p.mime, pkt.Payload)
		}
		pkt.At = time.Now()
		frame = p.gather(frame, pkt)
	}
}

// maxFrame bounds the packets of one video frame gathered before they are
// handed out.
const maxFrame = 32

// gather hands out a video frame's packets together, when its last packet
// (the marker bit) comes, so that each subscriber's writer is woken once a
// frame and sends its packets together; the frame cannot be decoded before
// its last packet anyway. frame holds the packets gathered so far; gather
// returns it with pkt added, or empty once handed out. Only packets newer
// than any before and in sequence are held back: audio, padding, a
// retransmission, or a packet after a hole go out at once, after what was
// gathered.
func (p *publication) gather(frame []*packet, pkt *packet) []*packet {
	seq := pkt.Header.SequenceNumber
	if len(frame) > 0 {
		last := frame[len(frame)-1].Header
		if last.SequenceNumber+1 != seq || last.Timestamp != pkt.Header.Timestamp {
			p.handOut(frame...)
			frame = frame[:0]
		}
	}
	newest := !p.anyRead || seqBefore(p.newest, seq)
	if newest {
		p.newest, p.anyRead = seq, true
	}
	frame = append(frame, pkt)
	if p.kind != webrtc.RTPCodecTypeVideo || pkt.Header.Marker || len(pkt.Payload) == 0 || !newest ||
		len(frame) >= maxFrame {
		p.handOut(frame...)
		frame = frame[:0]
	}
	return frame
}

// handOut caches packets and gives them to every subscriber, each
// subscriber all of them in a row.
func (p *publication) handOut(pkts ...*packet) {
	if len(pkts) == 0 {
		return
	}
	now := pkts[len(pkts)-1].At // read from the socket just now
	if now.IsZero() {
		now = time.Now() // handed in directly
	}
	p.lastPacket.Store(now.UnixNano())
	for _, pkt := range pkts {
		if pkt.At.IsZero() {
			pkt.At = now
		}
		p.windowBytes += len(pkt.Payload) + 12
	}
	if now.Sub(p.windowStart) >= rateWindow {
		if !p.windowStart.IsZero() {
			p.bitrate.Store(int64(float64(p.windowBytes*8) / now.Sub(p.windowStart).Seconds()))
		}
		p.windowBytes, p.windowStart = 0, now
	}
	p.mu.Lock()
	for _, pkt := range pkts {
		p.cache.put(pkt)
	}
	for _, d := range p.subs {
		d.enqueue(pkts...)
	}
	for _, k := range p.sinks {
		for _, pkt := range pkts {
			k.Enqueue(&pkt.Packet)
		}
	}
	p.mu.Unlock()
}

// subscribe starts handing packets to d. A video subscriber is first given
// the packets since the latest keyframe, so that its picture starts at once
// instead of a round trip later; when there is none, the publisher is asked
// for one.
func (p *publication) subscribe(d *downTrack) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.kind == webrtc.RTPCodecTypeVideo {
		burst := p.cache.sinceKeyframe()
		d.enqueue(burst...)
		if burst == nil {
			p.RequestKeyframe()
		}
	}
	p.subs = append(append([]*downTrack(nil), p.subs...), d)
}

// unsubscribe stops handing packets to d.
func (p *publication) unsubscribe(d *downTrack) {
	p.mu.Lock()
	defer p.mu.Unlock()
	subs := make([]*downTrack, 0, len(p.subs))
	for _, s := range p.subs {
		if s != d {
			subs = append(subs, s)
		}
	}
	p.subs = subs
}

// RequestKeyframe asks the publisher for a keyframe, at most once every
// keyframeInterval.
func (p *publication) RequestKeyframe() {
	if p.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	now := time.Now().UnixNano()
	last := p.lastKeyframeRequest.Load()
	if now-last < int64(keyframeInterval) || !p.lastKeyframeRequest.CompareAndSwap(last, now) {
		return
	}
	p.askKeyframe()
}

// Participant, ID, Kind and Codec describe the track to sinks: its
// publisher's participant and track ids (empty, and the kind, for a
// publication made by hand in a test), its kind and codec.
func (p *publication) Participant() string {
	if p.owner == nil {
		return ""
	}
	return p.owner.id
}

func (p *publication) ID() string {
	if p.track == nil {
		return p.kind.String()
	}
	return p.track.ID()
}

// Group is the breakout group the track is offered in: none, for a
// publication offered as itself (see groupTrack).
func (p *publication) Group() string { return "" }

func (p *publication) Kind() webrtc.RTPCodecType        { return p.kind }
func (p *publication) Codec() webrtc.RTPCodecParameters { return p.codec }

// AddSink starts handing packets to k.
func (p *publication) AddSink(k media.Sink) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sinks = append(append([]media.Sink(nil), p.sinks...), k)
}

// RemoveSink stops handing packets to k.
func (p *publication) RemoveSink(k media.Sink) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sinks := make([]media.Sink, 0, len(p.sinks))
	for _, s := range p.sinks {
		if s != k {
			sinks = append(sinks, s)
		}
	}
	p.sinks = sinks
}
