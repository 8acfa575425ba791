package realtime

import (
	"encoding/json"
	"slices"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/realtime/protocol"
)

// onCommand hands a command from the events channel to the room, which
// decides it; a command refused before that is answered here.
func (s *session) onCommand(msg webrtc.DataChannelMessage) {
	s.srv.metrics.received(protocol.EventsChannel, len(msg.Data))
	id, payload, err := decodeClientCommand(msg.Data)
	if err != nil {
		s.replyError(id, err)
		return
	}
	// A command over the rate still goes to the room, within a second,
	// looser budget (a client resending its backlog after a reconnect): the
	// room acknowledges it if it is a resend of a stored one and refuses it
	// otherwise, without deciding it. Past that budget it is refused here,
	// so that a flood never reaches the room.
	limited := !s.commands.Allow()
	if limited && !s.resends.Allow() {
		s.replyError(id, domain.Errorf(domain.CodeRateLimited, "too many commands; slow down"))
		return
	}
	if err := s.room.send(s.ctx, &submit{s: s, id: id, payload: payload, limited: limited, raw: msg.Data}); err != nil && s.ctx.Err() == nil {
		s.kill(err) // the room has stopped: no final answer to what may be a resend; the client reconnects
	}
}

// decodeClientCommand decodes a command a client sent, and refuses the
// kinds that only the server records.
func decodeClientCommand(b []byte) (uuid.UUID, domain.Payload, error) {
	id, payload, err := protocol.DecodeCommand(b)
	if err != nil {
		return id, nil, err
	}
	switch payload.Kind() {
	case domain.KindLessonCreated, domain.KindParticipantJoined, domain.KindParticipantLeft:
		// The server records these itself, as lessons are made and
		// sessions come and go.
		return id, nil, domain.Errorf(domain.CodeForbidden, "%s is recorded by the server, not sent by clients", payload.Kind())
	}
	return id, payload, nil
}

// onEphemeral relays a cursor or stroke preview to the other participants.
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
	if peers := s.room.peers.Load(); peers == nil || !slices.Contains(*peers, s) {
		return // not in the lesson: waiting in the lobby, or removed
	}
	s.room.relayEphemeral(b, s, nil)
}

// relayEphemeral sends an ephemeral message to the room's participants but
// the sender (from, nil when it is on another node), and to the other nodes
// serving the lesson but the one it came from (via, nil when it came from a
// participant of this node): a follower sends it to the owner, the owner to
// every follower.
func (r *Room) relayEphemeral(b []byte, from *session, via *nodeLink) {
	if peers := r.peers.Load(); peers != nil {
		for _, p := range *peers {
			if p != from && p.ephemeral != nil && p.ephemeral.ReadyState() == webrtc.DataChannelStateOpen && p.ephemeral.BufferedAmount() < ephemeralBuffer {
				if p.ephemeral.SendText(string(b)) == nil {
					r.srv.metrics.sent(protocol.EphemeralChannel, len(b))
				}
			}
		}
	}
	msg := linkMsg{Type: linkEphemeral, Ephemeral: b}
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

// deliver queues a message for the client's events channel. A client too
// slow to keep up is dropped rather than buffered without bound; it resumes
// from its last sequence when it reconnects.
func (s *session) deliver(b []byte) {
	if s.remote != nil {
		return // its node delivers the lesson's events from the log
	}
	if !s.out.enqueue(b) {
		s.kill(domain.Errorf(domain.CodeUnavailable, "too far behind the lesson; reconnect to catch up"))
	}
}

// replyAck answers a command stored as event seq.
func (s *session) replyAck(id uuid.UUID, seq int64) {
	if s.remote != nil {
		s.remote.send(linkMsg{Type: linkAck, Key: s.linkKey, ID: id, Seq: seq})
		return
	}
	b, _ := json.Marshal(protocol.Message{Type: protocol.TypeAck, ID: id, Seq: seq})
	s.deliver(b)
}

// replyError answers a refused command, or a session problem when id is uuid.Nil.
func (s *session) replyError(id uuid.UUID, err error) {
	code := domain.ErrorCode(err)
	s.srv.metrics.refuse(string(code))
	if code == domain.CodeInternal {
		s.srv.log.Error("command failed", "participant", s.participant, "err", err)
	}
	if s.remote != nil {
		s.remote.send(linkMsg{Type: linkRefused, Key: s.linkKey, ID: id}.withErr(err))
		return
	}
	b, _ := json.Marshal(protocol.Message{Type: protocol.TypeError, ID: id, Code: code, Reason: domain.ErrorReason(err),
		Message: domain.ErrorMessage(err)})
	s.deliver(b)
}
