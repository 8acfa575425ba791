package realtime

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/media"
	"classroom/media/sfu"
)

// stageTracks is a subscriber that only notes what is on stage when it
// subscribes.
type stageTracks struct{ tracks []media.Track }

func (t *stageTracks) OnStage(tracks []media.Track) { t.tracks = sfu.MainStage(tracks) }
func (t *stageTracks) StageClosed()                 {}

// viewQueue is how many packets wait for a WHEP viewer's writer; more are
// dropped, never waited for.
const viewQueue = 512

// stageView is a WHEP viewer's side of the stage: a media.Subscriber, as
// a recorder is, that feeds each media section of the viewer's offer from
// a track on stage — the first video and audio sections the teacher's
// (their newest video: a screen share when there is one), the next ones
// the student's with the floor. WHEP has no offer from the server, so the
// viewer's tracks are made once, with the answer; when who is on stage
// changes, a section switches to its new source, its sequence numbers and
// timestamps carrying on, and video waits for a keyframe it asks for. A
// source of another codec than its section's is not shown.
type stageView struct {
	log   *slog.Logger
	slots []*viewSlot

	ctx     context.Context
	cancel  context.CancelFunc
	writers sync.WaitGroup
}

// viewSlot is one media section of the viewer's and the track feeding it.
type viewSlot struct {
	view   *stageView
	kind   webrtc.RTPCodecType
	rank   int // 0: the teacher's, 1: the next participant's on stage
	mime   string
	clock  uint32
	local  *webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender
	queue  chan sourced

	mu  sync.Mutex
	src media.Track
	in  *slotSink

	// The writer's.
	started  bool
	waitKey  bool
	seqDelta uint16 // sent = received + seqDelta
	tsDelta  uint32 // likewise for timestamps
	lastSeq  uint16
	lastTS   uint32
	lastAt   time.Time
	from     *slotSink // the source of the last packet sent
}

// slotSink is a slot's sink on one source: packets from a source the slot
// has left are told apart from the new one's.
type slotSink struct{ slot *viewSlot }

type sourced struct {
	from *slotSink
	p    *media.Packet
}

func (k *slotSink) Enqueue(p *media.Packet) {
	select {
	case k.slot.queue <- sourced{k, p}:
	default: // the viewer is behind: drop, never wait
	}
}

// newStageView adds the viewer's tracks to pc, one for each audio and video
// section of the offer in order, of the codec chosen for it, before the
// offer is set; current is what is on stage now, and encoder says whether
// a WHIP encoder publishes to the lesson.
func newStageView(parent context.Context, log *slog.Logger, pc *webrtc.PeerConnection, sections []offeredSection,
	current []media.Track, encoder bool) (*stageView, error) {
	v := &stageView{log: log}
	v.ctx, v.cancel = context.WithCancel(parent)
	ranks := map[webrtc.RTPCodecType]int{}
	for _, sec := range sections {
		s := &viewSlot{view: v, kind: sec.kind, rank: ranks[sec.kind], queue: make(chan sourced, viewQueue)}
		ranks[sec.kind]++
		cap, ok := s.chooseCodec(sec.codecs, current, encoder)
		if !ok {
			v.cancel()
			return nil, errNoCodec
		}
		s.mime, s.clock = strings.ToLower(cap.MimeType), cap.ClockRate
		local, err := webrtc.NewTrackLocalStaticRTP(cap, sec.kind.String(), "stage")
		if err != nil {
			v.cancel()
			return nil, err
		}
		tr, err := pc.AddTransceiverFromTrack(local, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			v.cancel()
			return nil, err
		}
		s.local, s.sender = local, tr.Sender()
		v.slots = append(v.slots, s)
	}
	return v, nil
}

var errNoCodec = domain.Errorf(domain.CodeInvalid, "the offer has no codec the server forwards (Opus, H.264, VP8)")

// chooseCodec picks a section's codec: the one its source on stage sends,
// when the viewer takes it; else H.264 when an encoder publishes (what
// encoders send) and VP8 when none does (what browsers send), else the
// other.
func (s *viewSlot) chooseCodec(offered []string, current []media.Track, encoder bool) (webrtc.RTPCodecCapability, bool) {
	want := []string{webrtc.MimeTypeOpus}
	if s.kind == webrtc.RTPCodecTypeVideo {
		want = []string{webrtc.MimeTypeVP8, webrtc.MimeTypeH264}
		if encoder {
			want = []string{webrtc.MimeTypeH264, webrtc.MimeTypeVP8}
		}
		if src := s.pick(current); src != nil {
			want = append([]string{src.Codec().MimeType}, want...)
		}
	}
	for _, w := range want {
		if slices.ContainsFunc(offered, func(o string) bool { return strings.EqualFold(o, w) }) {
			for _, c := range media.ForwardingCodecs(s.kind) {
				if strings.EqualFold(c.MimeType, w) {
					return c.RTPCodecCapability, true
				}
			}
		}
	}
	return webrtc.RTPCodecCapability{}, false
}

// pick returns the track on stage the slot shows, or nil.
func (s *viewSlot) pick(tracks []media.Track) media.Track {
	var people []string
	for _, t := range tracks {
		if t.Kind() == s.kind && !slices.Contains(people, t.Participant()) {
			people = append(people, t.Participant())
		}
	}
	slices.SortFunc(people, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == TeacherID:
			return -1
		case b == TeacherID:
			return 1
		}
		return strings.Compare(a, b)
	})
	if s.rank >= len(people) {
		return nil
	}
	var out media.Track
	for _, t := range tracks {
		if t.Kind() == s.kind && t.Participant() == people[s.rank] {
			out = t
			if s.kind == webrtc.RTPCodecTypeAudio {
				break // the first microphone; the newest video
			}
		}
	}
	return out
}

// OnStage implements media.Subscriber. A viewer, in no breakout group, is
// shown the main stage.
func (v *stageView) OnStage(tracks []media.Track) {
	tracks = sfu.MainStage(tracks)
	for _, s := range v.slots {
		s.follow(s.pick(tracks))
	}
}

// StageClosed implements media.Subscriber.
func (v *stageView) StageClosed() {
	for _, s := range v.slots {
		s.follow(nil)
	}
}

// follow makes src the slot's source.
func (s *viewSlot) follow(src media.Track) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if src == s.src {
		return
	}
	if s.src != nil {
		s.src.RemoveSink(s.in)
	}
	s.src, s.in = nil, nil
	if src == nil {
		return
	}
	if !strings.EqualFold(src.Codec().MimeType, s.mime) {
		s.view.log.Info("a WHEP viewer cannot be shown a track of another codec than its own",
			"participant", src.Participant(), "codec", src.Codec().MimeType, "viewer_codec", s.mime)
		return
	}
	s.src, s.in = src, &slotSink{slot: s}
	src.AddSink(s.in)
	src.RequestKeyframe()
}

// start runs the slots' writers and keyframe requests until stop.
func (v *stageView) start() {
	for _, s := range v.slots {
		v.writers.Go(s.write)
		v.writers.Go(s.readRTCP)
	}
}

// stop ends the writers; call after the viewer is off the stage and its
// connection is closed (which ends the RTCP readers).
func (v *stageView) stop() {
	v.StageClosed()
	v.cancel()
	v.writers.Wait()
}

// write sends the slot's packets, rewriting their sequence numbers and
// timestamps so that a change of source leaves no gap and no jump back.
func (s *viewSlot) write() {
	for {
		var in sourced
		select {
		case in = <-s.queue:
		case <-s.view.ctx.Done():
			return
		}
		s.mu.Lock()
		current := in.from == s.in
		s.mu.Unlock()
		if !current {
			continue // from a source the slot has left
		}
		p := in.p
		if in.from != s.from {
			s.from, s.waitKey = in.from, s.kind == webrtc.RTPCodecTypeVideo
			s.rebase(&p.Header, p.At)
		}
		if s.waitKey {
			if !p.Keyframe {
				continue
			}
			s.waitKey = false
			s.rebase(&p.Header, p.At)
		}
		h := p.Header
		h.SequenceNumber += s.seqDelta
		h.Timestamp += s.tsDelta
		s.lastSeq, s.lastTS, s.lastAt = h.SequenceNumber, h.Timestamp, p.At
		if err := s.local.WriteRTP(&rtp.Packet{Header: h, Payload: p.Payload}); err != nil {
			return
		}
	}
}

// rebase makes the packet h the next one the viewer gets: one sequence
// number and as much time after the last one sent as passed.
func (s *viewSlot) rebase(h *rtp.Header, at time.Time) {
	if !s.started {
		s.started = true
		s.seqDelta, s.tsDelta = uint16(rand.Uint32())-h.SequenceNumber, rand.Uint32()-h.Timestamp
		return
	}
	gap := uint32(max(at.Sub(s.lastAt), time.Millisecond).Seconds() * float64(s.clock))
	s.seqDelta = s.lastSeq + 1 - h.SequenceNumber
	s.tsDelta = s.lastTS + gap - h.Timestamp
}

// readRTCP reads the viewer's feedback and asks the source for a keyframe
// when the viewer does.
func (s *viewSlot) readRTCP() {
	for {
		pkts, _, err := s.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				s.mu.Lock()
				src := s.src
				s.mu.Unlock()
				if src != nil {
					src.RequestKeyframe()
				}
			}
		}
	}
}
