package sfu

import (
	"log/slog"
	"maps"
	"sync"

	"github.com/pion/webrtc/v4"

	"classroom/media"
)

// Stage is the media of one lesson: who is connected, what each of them
// publishes, and who is on stage — the participants whose tracks are
// forwarded to everyone else (the teacher, and the student who has the
// floor). Nothing of anyone else is forwarded, whatever they send.
//
// While breakout groups are open, each group is a stage of its own
// (SetGroups): every track of a participant in a group (its members and the
// teacher visiting it) is forwarded to the others in that group, and to
// nobody else; a participant in a group is sent nothing of the main room's
// stage. Those in no group follow the main stage's rule above.
//
// The stage adds forwarded tracks to subscribers' PeerConnections and
// removes them; the owner of each PeerConnection renegotiates when pion
// says it is needed. It also offers the tracks on stage to subscribers that
// are not participants' connections (see Subscribe).
type Stage struct {
	log *slog.Logger

	mu      sync.Mutex
	members map[*Member]struct{}
	onStage map[string]bool
	groups  map[string]string // participant → the breakout group they are in; absent: the main room
	muted   map[string]Muted  // media held back whoever is on stage
	closed  bool
	subs    []media.Subscriber // besides the members: recorders
	// labelled holds the track each publication in a group is offered to
	// subscribers as, so that it stays the same track while its group does.
	labelled map[*publication]*groupTrack
	wg       sync.WaitGroup // writers and RTCP readers of forwarded tracks

	batcher media.SendBatcher // set before anyone joins; nil: packets go out one by one
}

// Member is one participant's connection on a stage.
type Member struct {
	stage *Stage
	id    string
	pc    *webrtc.PeerConnection

	reading sync.WaitGroup // read loops of the member's publications
	dest    *destination   // where its media goes, for batched sends
	// direct, when set, sends what is forwarded to the member past pion's
	// write chain (see media.Direct); throughPion is logged once when it
	// cannot.
	direct      *media.Direct
	throughPion sync.Once

	// relay is another node's relay of the stage (JoinRelay); relayed is a
	// participant of another node whose tracks come over a relay
	// (JoinRelayed). Neither changes once joined.
	relay, relayed bool

	// Guarded by stage.mu.
	pubs  []*publication
	downs map[*publication]*downTrack
	left  bool

	notices codecNotices
}

// NewStage returns an empty stage. Close ends it.
func NewStage(log *slog.Logger) *Stage {
	if log == nil {
		log = slog.Default()
	}
	return &Stage{log: log, members: map[*Member]struct{}{}, onStage: map[string]bool{}}
}

// Join adds a participant's connection to the stage: it is sent the tracks
// of everyone on stage. Call Publish from the connection's OnTrack, and
// Leave before closing the connection.
func (s *Stage) Join(participant string, pc *webrtc.PeerConnection) *Member {
	return s.JoinDirect(participant, pc, nil)
}

// JoinDirect is Join for a connection made by the engine's
// NewMemberConnection, with the Direct made with it (direct must be pc's):
// what is forwarded to the member is encrypted and sent by the stage
// itself, which also sends its sender reports; nil is Join. The stage takes
// pc's ICE transport's OnSelectedCandidatePairChange (pion keeps one
// handler), to send to a newly selected pair at once.
func (s *Stage) JoinDirect(participant string, pc *webrtc.PeerConnection, direct *media.Direct) *Member {
	return s.join(&Member{stage: s, id: participant, pc: pc, direct: direct, downs: map[*publication]*downTrack{}})
}

// JoinRelay adds another node's relay of the stage: its connection is sent
// the tracks of everyone on stage, like a participant's, except those that
// came here over a relay themselves. Every node takes a lesson's media
// straight from each node it is published on, so nothing is relayed twice
// nor back to where it came from. The relay's simulcast tracks are sent the
// best layer that is sending, since the receiving node sends no bandwidth
// estimate. Its keyframe requests and NACKs are answered as a
// participant's are.
func (s *Stage) JoinRelay(node string, pc *webrtc.PeerConnection) *Member {
	return s.join(&Member{stage: s, id: "node:" + node, pc: pc, downs: map[*publication]*downTrack{}, relay: true})
}

// JoinRelayed adds a participant of another node whose tracks arrive over
// pc, a relay from that node: Publish them like a participant's. It is sent
// nothing. Keyframe requests for its tracks go to the other node over pc,
// which asks the participant.
func (s *Stage) JoinRelayed(participant string, pc *webrtc.PeerConnection) *Member {
	return s.join(&Member{stage: s, id: participant, pc: pc, downs: map[*publication]*downTrack{}, relayed: true})
}

// WithBatcher has the stage send the packets a subscriber's writer finds
// queued together through b, the engine's shared media port (see
// media.Engine.Batcher); nil keeps one write a packet. Call it before
// anyone joins. It returns the stage.
func (s *Stage) WithBatcher(b media.SendBatcher) *Stage {
	s.batcher = b
	return s
}

func (s *Stage) join(m *Member) *Member {
	m.dest = &destination{batcher: s.batcher, pc: m.pc}
	if m.relay {
		// A relay to another node sends from its own port, not the
		// batcher's: nothing sent to it is held there.
		m.dest.batcher = nil
	}
	if m.direct != nil {
		// What a Direct sends goes to the address looked up: when ICE
		// moves to another pair (an ICE restart after the participant's
		// network changed), it goes there at once, as pion's would.
		m.pc.SCTP().Transport().ICETransport().OnSelectedCandidatePairChange(func(*webrtc.ICECandidatePair) { m.dest.forget() })
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		m.left = true
		return m
	}
	s.members[m] = struct{}{}
	s.reconcile()
	return m
}

// SetOnStage says whose tracks are forwarded: these participants', to every
// other member. Tracks of participants who leave the stage are removed from
// everyone's connections.
func (s *Stage) SetOnStage(participants ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onStage = make(map[string]bool, len(participants))
	for _, p := range participants {
		s.onStage[p] = true
	}
	s.reconcile()
}

// SetGroups says who is in a breakout group: participant → group, anyone
// absent being in the main room. The tracks of a participant in a group are
// forwarded to the others in the same group only, and they are sent only
// those; a move from one stage to another takes the tracks from the
// connections they no longer reach and adds them to the new ones.
func (s *Stage) SetGroups(groups map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups = maps.Clone(groups)
	s.reconcile()
}

// Muted says which of a participant's media the stage forwards to nobody.
type Muted struct{ Audio, Video bool }

// SetMuted says whose microphone (Audio) or camera (Video) reaches no one,
// on stage or not; a participant muted is absent from muted. Their tracks
// are taken from every subscriber at once, and come back when unmuted.
func (s *Stage) SetMuted(muted map[string]Muted) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.muted = maps.Clone(muted)
	s.reconcile()
}

// Publish takes a track the member sends. It is read until it ends, and
// forwarded while the member is on stage.
func (m *Member) Publish(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	s := m.stage
	p := newPublication(m, track)
	s.mu.Lock()
	if m.left || s.closed {
		s.mu.Unlock()
		return // pion stops the track with the connection
	}
	m.pubs = append(m.pubs, p)
	m.reading.Add(1)
	s.reconcile()
	s.mu.Unlock()
	s.log.Debug("track published", "participant", m.id, "track", track.ID(), "rid", track.RID(), "kind", track.Kind().String(),
		"codec", track.Codec().MimeType)
	go func() {
		defer m.reading.Done()
		p.run()
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, q := range m.pubs {
			if q == p {
				m.pubs = append(m.pubs[:i:i], m.pubs[i+1:]...)
				break
			}
		}
		s.reconcile()
	}()
}

// Leave takes the member off the stage: its tracks stop being forwarded and
// are removed from everyone's connections, and nothing is forwarded to it any
// more. Close the member's connection after Leave, then Wait.
func (m *Member) Leave() {
	s := m.stage
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.left {
		return
	}
	m.left = true
	delete(s.members, m)
	for pub, d := range m.downs {
		s.unforward(m, pub, d)
	}
	s.reconcile()
}

// Wait waits until the member's tracks are no longer read: after its
// connection is closed.
func (m *Member) Wait() { m.reading.Wait() }

// reconcile makes every member's forwarded tracks what the stage says.
// Called with s.mu held.
func (s *Stage) reconcile() {
	for sub := range s.members {
		for pub, d := range sub.downs {
			if !s.forwarded(pub, sub) {
				s.unforward(sub, pub, d)
			}
		}
	}
	for pubMember := range s.members {
		primary := map[string]*publication{} // the first layer of each source
		for _, pub := range pubMember.pubs {
			first, layered := primary[pub.source()]
			if !layered {
				primary[pub.source()] = pub
				first = pub
			}
			for sub := range s.members {
				if !s.forwarded(first, sub) {
					continue
				}
				d, ok := sub.downs[first]
				if !ok {
					s.forward(sub, first)
					d = sub.downs[first]
				}
				if d != nil && pub != first {
					d.addLayer(pub) // another simulcast layer of the same track
				}
			}
		}
	}
	s.tellSubscribers()
}

// staged reports whether pub is a live track of someone on the main stage:
// what is forwarded to everyone else in the main room, and offered to
// subscribers.
func (s *Stage) staged(pub *publication) bool {
	o := pub.owner
	return s.onStage[o.id] && s.groups[o.id] == "" && s.live(pub)
}

// live reports whether pub is a track its owner is sending the stage and
// may be forwarded: the owner is a member, the track has not ended, and the
// teacher has not muted it.
func (s *Stage) live(pub *publication) bool {
	o := pub.owner
	if s.closed || o.left {
		return false
	}
	if m := s.muted[o.id]; m.Audio && pub.kind == webrtc.RTPCodecTypeAudio || m.Video && pub.kind == webrtc.RTPCodecTypeVideo {
		return false
	}
	select {
	case <-pub.done:
		return false
	default:
	}
	_, live := s.members[o]
	return live && containsPub(o.pubs, pub)
}

// forwarded reports whether pub should reach sub now: a track of the main
// stage to those in the main room, a track in a group to the others in the
// group; another node's relay takes both, its node deciding whom they
// reach by the same rules.
func (s *Stage) forwarded(pub *publication, sub *Member) bool {
	o := pub.owner
	if sub.relayed || (sub.relay && o.relayed) || sub.left || o == sub || o.id == sub.id {
		return false
	}
	group := s.groups[o.id]
	switch {
	case sub.relay:
		return (group != "" || s.onStage[o.id]) && s.live(pub)
	case group != s.groups[sub.id]:
		return false
	case group != "":
		return s.live(pub)
	}
	return s.staged(pub)
}

func containsPub(pubs []*publication, p *publication) bool {
	for _, q := range pubs {
		if q == p {
			return true
		}
	}
	return false
}

func (s *Stage) forward(sub *Member, pub *publication) {
	d := newDownTrack(pub, sub)
	// A transceiver of its own, never one the subscriber negotiated
	// earlier: pion would start sending on a reused one before the
	// subscriber has heard of the new stream, and the subscriber would
	// drop it. It is sendrecv because a browser's addTrack reuses it for
	// the browser's own camera, which the server must then receive.
	tr, err := sub.pc.AddTransceiverFromTrack(d, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
	var sender *webrtc.RTPSender
	if err == nil {
		sender = tr.Sender()
		if pub.kind == webrtc.RTPCodecTypeVideo {
			// Ask the subscriber for REMB rather than transport-wide
			// feedback, so that its bandwidth estimate comes to us whole
			// and picks its simulcast layer.
			if err := tr.SetCodecPreferences(media.ForwardingCodecs(pub.kind)); err != nil {
				s.log.Debug("codec preferences of a forwarded track", "err", err)
			}
		}
	}
	if err != nil {
		s.log.Debug("forward a track", "to", sub.id, "from", pub.owner.id, "err", err)
		return
	}
	d.sender, d.transceiver = sender, tr
	sub.downs[pub] = d
	d.start(&s.wg)
}

func (s *Stage) unforward(sub *Member, pub *publication, d *downTrack) {
	delete(sub.downs, pub)
	if d.sender != nil {
		if err := sub.pc.RemoveTrack(d.sender); err != nil {
			d.sender.Stop() // the connection is closing: still end the RTCP reader
		}
	}
	d.close()
}

// Close takes everyone off the stage, tells the subscribers (which finalize
// what they record), and waits for the forwarding goroutines and the
// subscribers. The read loops of what members publish end with their
// connections, which their owners close (see Member.Wait).
func (s *Stage) Close() {
	s.mu.Lock()
	s.closed = true
	for m := range s.members {
		m.left = true
	}
	s.reconcile() // forwards nothing once closed
	s.members = map[*Member]struct{}{}
	subs := s.subs
	s.subs = nil
	s.mu.Unlock()
	for _, sub := range subs {
		sub.StageClosed()
	}
	s.wg.Wait()
}
