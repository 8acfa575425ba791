package sfu

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

const (
	// queueSize is how many packets may wait for one subscriber; beyond it
	// the subscriber is congested and loses packets, never the others.
	queueSize = 768
	// historySize is how many sent packets a subscriber can ask again for.
	historySize = 1024
	// srtpWaits and srtpWait bound how long the first packet waits for the
	// subscriber's SRTP session to start.
	srtpWaits = 100
	srtpWait  = 5 * time.Millisecond
)

// downTrack forwards one publication to one subscriber. It is the
// subscriber's webrtc.TrackLocal: its own sequence numbers and timestamps,
// its own queue and writer goroutine, its own RTCP reader.
//
// Sequence numbers are rewritten so that what the subscriber sees is
// continuous: packets the forwarder chose not to send (padding, video
// dropped while congested) leave no hole for it to ask about.
//
// When the publisher sends simulcast, the down track knows every layer and
// forwards one: the best the subscriber's estimated bandwidth (REMB) allows.
// It switches at a keyframe of the new layer, rewriting timestamps too, so
// that the subscriber's decoder sees one continuous stream.
type downTrack struct {
	pub    *publication // the first layer: the track's id, kind and codec
	sub    *Member
	sender *webrtc.RTPSender

	layers   atomic.Pointer[[]*publication] // every layer known
	current  atomic.Pointer[publication]    // the layer forwarded
	target   atomic.Pointer[publication]    // the layer to switch to at its next keyframe
	estimate atomic.Int64                   // the subscriber's bandwidth estimate, bits a second; 0 for none

	mu    sync.RWMutex
	ssrc  uint32
	pt    uint8
	write webrtc.TrackLocalWriter // nil while unbound

	queue     chan *packet
	stop      chan struct{}
	stopOnce  sync.Once
	congested atomic.Bool // a packet was dropped at the queue

	// The writer goroutine's own.
	started  bool
	waitKey  bool   // video: drop until a keyframe starts
	delta    uint16 // out = in + delta
	tsDelta  uint32
	lastOut  uint16
	lastTS   uint32    // the last timestamp sent
	lastAt   time.Time // when the last packet sent reached the server
	forwards int       // packets forwarded, to pace layer choices
	histMu   sync.Mutex
	history  [historySize]sent
	sent     atomic.Uint64
	dropped  atomic.Uint64
}

// sent remembers which source packet an outgoing sequence number carried.
type sent struct {
	from    *publication
	out, in uint16
	ts      uint32
	ok      bool
}

func newDownTrack(pub *publication, sub *Member) *downTrack {
	d := &downTrack{pub: pub, sub: sub, queue: make(chan *packet, queueSize), stop: make(chan struct{}),
		waitKey: pub.kind == webrtc.RTPCodecTypeVideo}
	d.layers.Store(&[]*publication{pub})
	d.current.Store(pub)
	d.target.Store(pub)
	return d
}

// addLayer makes another simulcast layer of the source available.
func (d *downTrack) addLayer(p *publication) {
	old := *d.layers.Load()
	for _, l := range old {
		if l == p {
			return
		}
	}
	layers := append(append([]*publication(nil), old...), p)
	d.layers.Store(&layers)
	d.mu.RLock()
	bound := d.write != nil
	d.mu.RUnlock()
	if bound {
		p.subscribe(d)
	}
	d.choose()
}

// choose picks the layer to forward among those sending: the best whose
// bitrate the subscriber's estimate allows, the lowest when none fits, and
// the best while there is no estimate. When no layer is sending, the choice
// stays.
// upHeadroom is the percentage of a subscriber's estimate a higher layer
// must fit in before the subscriber switches up to it.
const upHeadroom = 80

func (d *downTrack) choose() {
	layers := *d.layers.Load()
	if len(layers) < 2 {
		return
	}
	estimate := d.estimate.Load()
	now := time.Now()
	// Going up takes headroom: a layer above the one chosen must fit in
	// upHeadroom of the estimate, so that a rate near the estimate (a
	// publisher ramping up, an estimate wavering) does not flip the
	// subscriber between two layers, each flip costing a keyframe.
	var targetRate int64 = -1
	if t := d.target.Load(); t != nil && t.sending(now) {
		targetRate = t.bitrate.Load()
	}
	var best, lowest *publication
	for _, l := range layers {
		if !l.sending(now) {
			continue // paused: its bitrate is stale and its keyframe would never come
		}
		r := l.bitrate.Load()
		if lowest == nil || r < lowest.bitrate.Load() {
			lowest = l
		}
		limit := estimate
		if targetRate >= 0 && r > targetRate {
			limit = estimate * upHeadroom / 100
		}
		if (estimate == 0 || r <= limit) && (best == nil || r > best.bitrate.Load()) {
			best = l
		}
	}
	if best == nil {
		best = lowest
	}
	if best == nil {
		return
	}
	if d.target.Swap(best) != best && best != d.current.Load() {
		best.RequestKeyframe()
	}
}

// ID is the publisher's track id; StreamID the publisher's participant id,
// so that a subscriber knows whose camera or microphone it receives.
func (d *downTrack) ID() string                { return d.pub.track.ID() }
func (d *downTrack) StreamID() string          { return d.pub.owner.id }
func (d *downTrack) RID() string               { return "" }
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.pub.kind }

// Bind is called by pion when the subscriber's connection has negotiated the
// track: packets start to flow.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(d.pub.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	d.mu.Lock()
	d.ssrc, d.pt, d.write = uint32(ctx.SSRC()), uint8(codec.PayloadType), ctx.WriteStream()
	d.mu.Unlock()
	for _, l := range *d.layers.Load() {
		l.subscribe(d)
	}
	return codec, nil
}

// Unbind is called by pion when the track stops being sent.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	for _, l := range *d.layers.Load() {
		l.unsubscribe(d)
	}
	d.mu.Lock()
	d.write = nil
	d.mu.Unlock()
	return nil
}

// start runs the writer and the RTCP reader, counted in wg, until close.
func (d *downTrack) start(wg *sync.WaitGroup) {
	wg.Add(2)
	go func() {
		defer wg.Done()
		d.run()
	}()
	go func() {
		defer wg.Done()
		d.readRTCP()
	}()
}

// close stops the goroutines; the sender must have been stopped (by
// RemoveTrack or the connection closing) for the RTCP reader to end.
func (d *downTrack) close() {
	for _, l := range *d.layers.Load() {
		l.unsubscribe(d)
	}
	d.stopOnce.Do(func() { close(d.stop) })
}

// enqueue hands a packet to the writer without waiting. Packets of layers
// neither forwarded nor switched to are not even queued.
func (d *downTrack) enqueue(p *packet) {
	if p.from != nil && p.from != d.current.Load() && p.from != d.target.Load() {
		return
	}
	select {
	case d.queue <- p:
	default:
		d.dropped.Add(1)
		d.congested.Store(true)
	}
}

func (d *downTrack) run() {
	for {
		select {
		case p := <-d.queue:
			d.forward(p)
		case <-d.stop:
			return
		}
	}
}

// forward rewrites one packet for this subscriber and sends it.
func (d *downTrack) forward(p *packet) {
	video := d.pub.kind == webrtc.RTPCodecTypeVideo
	switched := false
	if cur := d.current.Load(); p.from != nil && p.from != cur {
		if p.from != d.target.Load() {
			return // a layer given up on while the packet queued
		}
		if !p.Keyframe {
			p.from.RequestKeyframe()
			return
		}
		// The new layer's keyframe: switch to it here.
		d.current.Store(p.from)
		switched = true
	}
	if d.forwards++; d.forwards%64 == 0 {
		d.choose()
	}
	if d.congested.Swap(false) && video && !d.waitKey {
		// A frame lost packets at the queue: everything until the next
		// keyframe would decode wrong, so send nothing until then.
		d.waitKey = true
	}
	if len(p.Payload) == 0 { // padding: nothing to forward, and no hole either
		if d.started {
			d.delta--
		}
		return
	}
	if d.waitKey && !switched {
		if !p.Keyframe {
			d.dropped.Add(1)
			if p.from != nil {
				p.from.RequestKeyframe()
			} else {
				d.pub.RequestKeyframe()
			}
			return
		}
	}
	if (d.waitKey || switched) && d.started {
		d.delta = d.lastOut + 1 - p.Header.SequenceNumber
	}
	d.waitKey = false
	if switched && d.started {
		// Another layer has its own timestamps: carry on from the last one
		// sent, as much later as time has passed.
		gap := uint32(max(p.At.Sub(d.lastAt), 0).Seconds() * float64(d.pub.codec.ClockRate))
		d.tsDelta = d.lastTS + max(gap, 1) - p.Header.Timestamp
	}
	if !d.started {
		d.started = true
		d.delta = uint16(rand.Uint32()) - p.Header.SequenceNumber
		d.tsDelta = rand.Uint32() - p.Header.Timestamp
		d.lastOut = p.Header.SequenceNumber + d.delta - 1
	}
	out := p.Header.SequenceNumber + d.delta
	if seqBefore(d.lastOut, out) {
		d.lastOut = out
	}
	ts := p.Header.Timestamp + d.tsDelta
	d.lastTS, d.lastAt = ts, p.At
	d.histMu.Lock()
	d.history[out%historySize] = sent{from: p.from, out: out, in: p.Header.SequenceNumber, ts: ts, ok: true}
	d.histMu.Unlock()
	if d.sent.Load() > 0 {
		if d.send(p, out, ts) {
			d.sent.Add(1)
		}
		return
	}
	if d.sendFirst(p, out, ts) {
		d.sent.Add(1)
	} else if video {
		// The first packet (a keyframe's) is lost: start at the next one.
		d.waitKey = true
		d.pub.RequestKeyframe()
	}
}

// send writes a packet with the given sequence number and timestamp.
func (d *downTrack) send(p *packet, seq uint16, ts uint32) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.write == nil {
		return false
	}
	h := rtp.Header{Version: 2, Marker: p.Header.Marker, PayloadType: d.pt, SequenceNumber: seq,
		Timestamp: ts, SSRC: d.ssrc, CSRC: p.Header.CSRC}
	n, err := d.write.WriteRTP(&h, p.Payload)
	return err == nil && n > 0
}

// sendFirst sends the first packets of the track. Until the subscriber's
// SRTP session runs, pion drops what is written (returning 0 and no error),
// which would lose the keyframe a picture starts with: wait for it instead,
// a little, holding up only this subscriber.
func (d *downTrack) sendFirst(p *packet, seq uint16, ts uint32) bool {
	for range srtpWaits {
		if d.send(p, seq, ts) {
			return true
		}
		select {
		case <-time.After(srtpWait):
		case <-d.stop:
			return false
		}
	}
	return false
}

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
				d.current.Load().RequestKeyframe()
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				d.estimate.Store(int64(pkt.Bitrate))
				d.choose()
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
	d.histMu.Lock()
	h := d.history[out%historySize]
	d.histMu.Unlock()
	if !h.ok || h.out != out {
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
