package media

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
type downTrack struct {
	pub    *publication
	sub    *Member
	sender *webrtc.RTPSender

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
	histMu   sync.Mutex
	history  [historySize]sent
	sent     atomic.Uint64
	dropped  atomic.Uint64
	resent   atomic.Uint64
	keyWaits atomic.Uint64
}

// sent remembers which source packet an outgoing sequence number carried.
type sent struct {
	out, in uint16
	ts      uint32
	ok      bool
}

func newDownTrack(pub *publication, sub *Member) *downTrack {
	return &downTrack{pub: pub, sub: sub, queue: make(chan *packet, queueSize), stop: make(chan struct{}),
		waitKey: pub.kind == webrtc.RTPCodecTypeVideo}
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
	d.pub.subscribe(d)
	return codec, nil
}

// Unbind is called by pion when the track stops being sent.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.pub.unsubscribe(d)
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
	d.pub.unsubscribe(d)
	d.stopOnce.Do(func() { close(d.stop) })
}

// enqueue hands a packet to the writer without waiting.
func (d *downTrack) enqueue(p *packet) {
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
	if d.congested.Swap(false) && video && !d.waitKey {
		// A frame lost packets at the queue: everything until the next
		// keyframe would decode wrong, so send nothing until then.
		d.waitKey = true
		d.keyWaits.Add(1)
	}
	if len(p.payload) == 0 { // padding: nothing to forward, and no hole either
		if d.started {
			d.delta--
		}
		return
	}
	if d.waitKey {
		if !p.keyframe {
			d.dropped.Add(1)
			d.pub.requestKeyframe()
			return
		}
		d.waitKey = false
		if d.started {
			d.delta = d.lastOut + 1 - p.header.SequenceNumber
		}
	}
	if !d.started {
		d.started = true
		d.delta = uint16(rand.Uint32()) - p.header.SequenceNumber
		d.tsDelta = rand.Uint32() - p.header.Timestamp
		d.lastOut = p.header.SequenceNumber + d.delta - 1
	}
	out := p.header.SequenceNumber + d.delta
	if seqBefore(d.lastOut, out) {
		d.lastOut = out
	}
	ts := p.header.Timestamp + d.tsDelta
	d.histMu.Lock()
	d.history[out%historySize] = sent{out: out, in: p.header.SequenceNumber, ts: ts, ok: true}
	d.histMu.Unlock()
	send := d.send
	if d.sent.Load() == 0 {
		send = d.sendFirst
	}
	if send(p, out, ts) {
		d.sent.Add(1)
	}
}

// send writes a packet with the given sequence number and timestamp.
func (d *downTrack) send(p *packet, seq uint16, ts uint32) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.write == nil {
		return false
	}
	h := rtp.Header{Version: 2, Marker: p.header.Marker, PayloadType: d.pt, SequenceNumber: seq,
		Timestamp: ts, SSRC: d.ssrc, CSRC: p.header.CSRC}
	n, err := d.write.WriteRTP(&h, p.payload)
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
				d.pub.requestKeyframe()
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
	if p := d.pub.cache.get(h.in); p != nil && d.send(p, out, h.ts) {
		d.resent.Add(1)
	}
}
