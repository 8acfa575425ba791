package realtime

import (
	"encoding/json"
	"slices"

	"github.com/pion/webrtc/v4"

	"classroom/realtime/protocol"
)

// The ephemeral relay: cursors and stroke previews, relayed to the other
// participants as they come, never stored. While breakout groups are open,
// a message reaches only those on its sender's board, as the groups' media
// does (groups.go): the members of the sender's group and the teacher
// visiting it, or, from the main room, those in the main room. Who is on
// which board is worked out when the sessions or the groups change
// (updatePeers), not per message; every node serving the lesson filters its
// own sessions so, by the groups of its own fold of the log.

// relayPeers is who the ephemeral relay sends to. It is replaced whole,
// never changed once stored.
type relayPeers struct {
	all []*session
	// While groups are open: who is in which group (participant → group
	// id; not there: the main room), and the sessions on each board (group
	// id, "" for the main room's). Both nil when no groups are open.
	group map[string]string
	board map[string][]*session
}

// to returns the sessions on actor's board.
func (p *relayPeers) to(actor string) []*session {
	if p.board == nil {
		return p.all
	}
	return p.board[p.group[actor]]
}

// updatePeers publishes the room's sessions, and who of them is on which
// board, to the ephemeral relay. The room calls it when its sessions or its
// groups (r.groups) change.
func (r *Room) updatePeers() {
	p := &relayPeers{all: make([]*session, 0, len(r.sessions))}
	for s := range r.sessions {
		p.all = append(p.all, s)
	}
	if len(r.groups) > 0 {
		p.group, p.board = r.groups, map[string][]*session{}
		for _, s := range p.all {
			g := r.groups[s.participant]
			p.board[g] = append(p.board[g], s)
		}
	}
	r.peers.Store(p)
}

// onEphemeral relays a cursor or stroke preview to the other participants
// on the sender's board.
func (s *session) onEphemeral(msg webrtc.DataChannelMessage) {
	s.srv.metrics.received(protocol.EphemeralChannel, len(msg.Data))
	if !s.cursors.Allow() {
		return
	}
	e, err := protocol.DecodeEphemeral(msg.Data)
	if err != nil {
		return // unreliable and unanswered: a bad message is dropped
	}
	e.Actor = s.participant
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	if peers := s.room.peers.Load(); peers == nil || !slices.Contains(peers.all, s) {
		return // not in the lesson: waiting in the lobby, or removed
	}
	s.room.relayEphemeral(b, s.participant, s, nil)
}

// relayEphemeral sends actor's ephemeral message to the room's participants
// on actor's board but the sender (from, nil when it is on another node),
// and to the other nodes serving the lesson but the one it came from (via,
// nil when it came from a participant of this node): a follower sends it to
// the owner, the owner to every follower; each node passes it on to its
// own participants on actor's board.
func (r *Room) relayEphemeral(b []byte, actor string, from *session, via *nodeLink) {
	if peers := r.peers.Load(); peers != nil {
		for _, p := range peers.to(actor) {
			if p != from && p.ephemeral != nil && p.ephemeral.ReadyState() == webrtc.DataChannelStateOpen && p.ephemeral.BufferedAmount() < ephemeralBuffer {
				if p.ephemeral.SendText(string(b)) == nil {
					r.srv.metrics.sent(protocol.EphemeralChannel, len(b))
				}
			}
		}
	}
	msg := linkMsg{Type: linkEphemeral, Participant: actor, Ephemeral: b}
	if r.link != nil {
		if via == nil {
			r.link.send(msg)
		}
		return
	}
	if links := r.followers.Load(); links != nil {
		for _, l := range *links {
			if l != via {
				l.send(msg)
			}
		}
	}
}

// relayLinked relays an ephemeral message another node sent over l.
func (r *Room) relayLinked(m linkMsg, l *nodeLink) {
	actor := m.Participant
	if actor == "" {
		// From a node that does not name the sender on the link: the
		// message does.
		var e struct {
			Actor string `json:"actor"`
		}
		if json.Unmarshal(m.Ephemeral, &e) != nil {
			return
		}
		actor = e.Actor
	}
	r.relayEphemeral(m.Ephemeral, actor, nil, l)
}
