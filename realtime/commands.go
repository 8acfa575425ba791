package realtime

import (
	"encoding/json"

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

// deliver queues a message for the client's events channel. A client too
// slow to keep up is dropped rather than buffered without bound; it resumes
// from its last sequence when it reconnects.
func (s *session) deliver(b []byte) {
	s.queue(outgoing{b: b})
}

// deliverEvents queues events messages: each as JSON text, or compressed
// (packed, the same messages compressed, a nil one where that did not
// make it smaller) when the client takes compressed messages.
func (s *session) deliverEvents(text, packed [][]byte) {
	for i, b := range text {
		if s.compress && packed != nil && packed[i] != nil {
			s.queue(outgoing{b: packed[i], binary: true})
		} else {
			s.queue(outgoing{b: b})
		}
	}
}

// queue hands m to the session's delivery, and ends the session when its
// queue is full (the client fell too far behind). A session of another
// node is sent nothing: its node delivers from the log.
func (s *session) queue(m outgoing) {
	if s.remote != nil {
		return // its node delivers the lesson's events from the log
	}
	if !s.out.enqueue(m) {
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
