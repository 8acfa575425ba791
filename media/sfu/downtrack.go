package sfu

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"classroom/media"
)

const (
	// queueSize is how many packets may wait for one subscriber; beyond it
	// the subscriber is congested and loses packets, never the others.
	queueSize = 768
	// srtpWaits and srtpWait bound how long the first packet waits for the
	// subscriber's SRTP session to start.
	srtpWaits = 100
	srtpWait  = 5 * time.Millisecond
	// reportEvery is how often a track sent past pion (media.Direct) gets a
	// sender report, as pion's reports come for what it sends.
	reportEvery = time.Second
)

// downTrack forwards one publication to one subscriber. It is the
// subscriber's webrtc.TrackLocal: its own queue and writer goroutine, its
// own RTCP reader (see feedback.go), and three parts of its own: which
// simulcast layer it is sent (layerChoice), the sequence numbers and
// timestamps it sees (munger), and what it was sent, for its NACKs
// (history).
type downTrack struct {
	pub         *publication // the first layer: the track's id, kind and codec
	sub         *Member
	sender      *webrtc.RTPSender
	transceiver *webrtc.RTPTransceiver

	layer   layerChoice
	history history

	mu    sync.RWMutex
	ssrc  uint32
	pt    uint8
	write webrtc.TrackLocalWriter // nil while unbound

	// The queue: packets waiting for the writer, oldest first, and a
	// token the writer waits for, sent when the queue stops being empty.
	// A frame's packets go in under one lock and wake the writer once.
	qmu       sync.Mutex
	queue     []*packet
	backlog   int           // packets the writer took last and may still be sending
	wake      chan struct{} // capacity 1
	stop      chan struct{}
	stopOnce  sync.Once
	congested atomic.Bool // a packet was dropped at the queue

	// How packets go when the subscriber has a media.Direct: its stream,
	// once the subscriber's handshake is done, or pion's write chain for
	// good (viaPion). Never both: each keeps its own SRTP rollover count.
	routeMu sync.Mutex
	stream  atomic.Pointer[media.DirectStream]
	viaPion atomic.Bool
	// What went through stream, resends too, for sender reports.
	directPackets, directOctets atomic.Uint64

	// The writer goroutine's own.
	waitKey bool      // video: drop until a keyframe starts
	taken   []*packet // the queue as last taken, kept for its array
	munger  munger
	header  rtp.Header     // the header of the packet being sent
	held    netip.AddrPort // the subscriber's address while forwardQueued holds it
	// For sender reports: the newest frame's timestamp and when its first
	// packet came (framed once there is one), and when the last report
	// went.
	framed   bool
	frameTS  uint32
	frameAt  time.Time
	reported time.Time
	sent     atomic.Uint64
	dropped  atomic.Uint64
}

func newDownTrack(pub *publication, sub *Member) *downTrack {
	d := &downTrack{pub: pub, sub: sub, wake: make(chan struct{}, 1), stop: make(chan struct{}),
		waitKey: pub.kind == webrtc.RTPCodecTypeVideo, munger: munger{clockRate: pub.codec.ClockRate}}
	d.layer.init(pub)
	return d
}

// addLayer makes another simulcast layer of the source available.
func (d *downTrack) addLayer(p *publication) {
	if !d.layer.add(p) {
		return
	}
	d.mu.RLock()
	bound := d.write != nil
	d.mu.RUnlock()
	if bound {
		p.subscribe(d)
	}
	d.layer.choose()
}

// ID is the publisher's track id; StreamID the publisher's participant id,
// so that a subscriber knows whose camera or microphone it receives.
func (d *downTrack) ID() string                { return d.pub.track.ID() }
func (d *downTrack) StreamID() string          { return d.pub.owner.id }
func (d *downTrack) RID() string               { return "" }
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.pub.kind }

// Bind is called by pion when the subscriber's connection has negotiated the
// track: packets start to flow. When the subscriber negotiated none of the
// track's codec, the track is bound to the first codec it did negotiate,
// sends nothing, and the subscriber's owner is told (OnCodecUnsupported):
// refusing the bind would fail the whole description it came with, and
// every other track with it.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(d.pub.codec, ctx.CodecParameters())
	if !ok {
		have := ctx.CodecParameters()
		if len(have) == 0 {
			return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
		}
		u := UnsupportedTrack{Publisher: d.pub.Participant(), Track: d.pub.ID(), Kind: d.pub.kind, Codec: d.pub.codec.MimeType}
		if d.transceiver != nil {
			u.Mid = d.transceiver.Mid()
		}
		if d.sub != nil {
			d.sub.stage.log.Info("a subscriber cannot take a track's codec", "subscriber", d.sub.id, "publisher", u.Publisher,
				"track", u.Track, "codec", u.Codec)
			d.sub.notices.unsupported(u)
		}
		return have[0], nil
	}
	d.mu.Lock()
	d.ssrc, d.pt, d.write = uint32(ctx.SSRC()), uint8(codec.PayloadType), ctx.WriteStream()
	d.mu.Unlock()
	for _, l := range d.layer.all() {
		l.subscribe(d)
	}
	return codec, nil
}

// Unbind is called by pion when the track stops being sent.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	for _, l := range d.layer.all() {
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
	for _, l := range d.layer.all() {
		l.unsubscribe(d)
	}
	d.stopOnce.Do(func() { close(d.stop) })
}

// enqueue hands packets to the writer without waiting, all of them in a
// row. Packets of layers neither forwarded nor switched to are not even
// queued.
func (d *downTrack) enqueue(pkts ...*packet) {
	d.qmu.Lock()
	was := len(d.queue)
	for _, p := range pkts {
		if !d.layer.wanted(p.from) {
			continue
		}
		if len(d.queue)+d.backlog >= queueSize {
			d.dropped.Add(1)
			d.congested.Store(true)
			continue
		}
		d.queue = append(d.queue, p)
	}
	wake := was == 0 && len(d.queue) > 0
	d.qmu.Unlock()
	if wake {
		select {
		case d.wake <- struct{}{}:
		default: // a token is waiting already
		}
	}
}

// take empties the queue and returns what it held, oldest first: the
// writer's, until its next take, and counted against queueSize until then.
func (d *downTrack) take() []*packet {
	d.qmu.Lock()
	defer d.qmu.Unlock()
	q := d.queue
	d.queue, d.taken, d.backlog = d.taken[:0], q, len(q)
	return q
}

// queued returns how many packets wait for the writer.
func (d *downTrack) queued() int {
	d.qmu.Lock()
	defer d.qmu.Unlock()
	return len(d.queue)
}

// maxBatch bounds the packets a writer forwards in a row while it holds the
// subscriber's address (a frame of video is a few).
const maxBatch = 32

func (d *downTrack) run() {
	for {
		select {
		case <-d.wake:
		case <-d.stop:
			return
		}
		for q := d.take(); len(q) > 0; q = d.take() {
			for len(q) > 0 {
				n := min(len(q), maxBatch)
				d.forwardQueued(q[:n])
				clear(q[:n]) // the array is the queue's again: drop the packets
				q = q[n:]
			}
		}
	}
}

// forwardQueued forwards packets taken from the queue, holding the
// subscriber's address meanwhile so that the media port sends them
// together (a video frame in one system call). Until the first packet is
// sent nothing is held: sendFirst may wait for the subscriber's SRTP
// session, and would hold up the subscriber's other tracks.
func (d *downTrack) forwardQueued(pkts []*packet) {
	var dest *destination
	if d.sub != nil && d.sent.Load() > 0 && len(pkts) > 1 {
		dest = d.sub.dest // nothing to send together with a lone packet
	}
	to, held := dest.hold()
	d.held = to // invalid when nothing is held
	for _, p := range pkts {
		d.forward(p)
	}
	d.held = netip.AddrPort{}
	if held {
		dest.release(to)
	}
}

// forward rewrites one packet for this subscriber and sends it.
func (d *downTrack) forward(p *packet) {
	video := d.pub.kind == webrtc.RTPCodecTypeVideo
	ok, switched := d.layer.admit(p)
	if !ok {
		return
	}
	if d.congested.Swap(false) && video && !d.waitKey {
		// A frame lost packets at the queue: everything until the next
		// keyframe would decode wrong, so send nothing until then.
		d.waitKey = true
	}
	if len(p.Payload) == 0 { // padding: nothing to forward, and no hole either
		d.munger.skip()
		return
	}
	if d.waitKey && !switched && !p.Keyframe {
		d.dropped.Add(1)
		if p.from != nil {
			p.from.RequestKeyframe()
		} else {
			d.pub.RequestKeyframe()
		}
		return
	}
	out, ts := d.munger.rewrite(&p.Header, p.At, d.waitKey, switched)
	d.waitKey = false
	d.history.record(p.from, out, p.Header.SequenceNumber, ts)
	if d.sent.Load() > 0 {
		if d.send(p, out, ts, &d.header, d.held) {
			d.sent.Add(1)
			d.report(p, ts)
		}
		return
	}
	if d.sendFirst(p, out, ts) {
		d.sent.Add(1)
		d.report(p, ts)
	} else if video {
		// The first packet (a keyframe's) is lost: start at the next one.
		d.waitKey = true
		d.pub.RequestKeyframe()
	}
}

// send writes a packet with the given sequence number and timestamp, its
// header built in h: the writer's own (header), so that a packet sent costs
// no allocation; the RTCP reader resending passes one of its own. to is the
// subscriber's address when the caller holds it (the zero value: unknown).
func (d *downTrack) send(p *packet, seq uint16, ts uint32, h *rtp.Header, to netip.AddrPort) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.write == nil {
		return false
	}
	*h = rtp.Header{Version: 2, Marker: p.Header.Marker, PayloadType: d.pt, SequenceNumber: seq,
		Timestamp: ts, SSRC: d.ssrc, CSRC: p.Header.CSRC}
	if s, pion := d.route(); !pion {
		return s != nil && d.sendDirect(s, h, p.Payload, to)
	}
	n, err := d.write.WriteRTP(h, p.Payload)
	return err == nil && n > 0
}

// route says how packets go: through the subscriber's media.Direct stream
// s, or through pion's write chain (pion). Neither is a subscriber whose
// handshake is not done: nothing can be sent yet, as with pion before its
// SRTP session starts.
func (d *downTrack) route() (s *media.DirectStream, pion bool) {
	if d.sub == nil || d.sub.direct == nil {
		return nil, true
	}
	if s := d.stream.Load(); s != nil {
		return s, false
	}
	if d.viaPion.Load() {
		return nil, true
	}
	d.routeMu.Lock()
	defer d.routeMu.Unlock()
	if s := d.stream.Load(); s != nil {
		return s, false
	}
	if d.viaPion.Load() {
		return nil, true
	}
	s, ok, err := d.sub.direct.Stream()
	switch {
	case err != nil:
		d.viaPion.Store(true)
		d.sub.throughPion.Do(func() {
			d.sub.stage.log.Warn("media to a participant goes through pion's write chain", "participant", d.sub.id, "reason", err)
		})
		return nil, true
	case ok:
		d.stream.Store(s)
	}
	return s, false
}

// sendDirect sends a packet through the subscriber's Direct stream, to the
// address ICE selected: to, when the caller has it, else looked up; while
// there is none, it is not sent.
func (d *downTrack) sendDirect(s *media.DirectStream, h *rtp.Header, payload []byte, to netip.AddrPort) bool {
	if !to.IsValid() {
		to = d.sub.dest.lookup(time.Now())
	}
	if !to.IsValid() {
		return false
	}
	n, err := s.WriteRTP(to, h, payload)
	if err != nil || n == 0 {
		return false
	}
	d.directPackets.Add(1)
	d.directOctets.Add(uint64(len(payload)))
	return true
}

// report sends, for a track sent past pion, a sender report when
// reportEvery has passed since the last (the first with the first packet):
// pion sends none for what it did not send, and the subscriber needs them
// to play audio and video in step and to tell the round-trip time NACKs are
// limited by. As pion's, a report maps the wall clock onto the track's
// timestamps by the first packet of the newest frame (when it reached the
// server, which the packets of a large frame do over some time), and
// counts every packet and payload byte sent, resends too. Unlike pion's,
// reports come only while packets are forwarded: a track that pauses (a
// subscriber waiting for a keyframe, a layer that stopped) gets none until
// it goes on, which neither its playback nor its NACKs need meanwhile. It
// is the writer's: ts is the packet's timestamp as sent.
func (d *downTrack) report(p *packet, ts uint32) {
	if d.stream.Load() == nil {
		return
	}
	if !d.framed || ts != d.frameTS {
		d.framed, d.frameTS, d.frameAt = true, ts, p.At
	}
	if p.At.Sub(d.reported) < reportEvery {
		return
	}
	now := time.Now()
	d.reported = now
	d.mu.RLock()
	ssrc := d.ssrc
	d.mu.RUnlock()
	sr := &rtcp.SenderReport{SSRC: ssrc, NTPTime: ntpTime(now),
		RTPTime:     d.frameTS + uint32(max(now.Sub(d.frameAt), 0).Seconds()*float64(d.munger.clockRate)),
		PacketCount: uint32(d.directPackets.Load()), OctetCount: uint32(d.directOctets.Load())}
	if err := d.sub.pc.WriteRTCP([]rtcp.Packet{sr}); err != nil {
		d.sub.stage.log.Debug("a sender report was not sent", "participant", d.sub.id, "error", err)
	}
}

// sendFirst sends the first packets of the track. Until the subscriber's
// SRTP session runs, pion drops what is written (returning 0 and no error),
// which would lose the keyframe a picture starts with: wait for it instead,
// a little, holding up only this subscriber.
func (d *downTrack) sendFirst(p *packet, seq uint16, ts uint32) bool {
	for range srtpWaits {
		if d.send(p, seq, ts, &d.header, netip.AddrPort{}) {
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
