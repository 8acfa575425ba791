package realtime

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"

	"classroom/domain"
)

// A following room (one whose lesson another node owns, nodes.go) decides
// nothing: it forwards its sessions' joins, commands and leaves to the owner
// over its node link and answers them as the owner does, while it keeps its
// own fold of the log to deliver the lesson's events and to catch joiners
// up. Everything here runs on the room's goroutine.

// heldAck is an owner's ack that waits until the room has delivered the
// event it names, so that a client never has the ack of an event before the
// event.
type heldAck struct {
	req *submit
	seq int64
}

// readOwner hands the owner's messages to the room's goroutine until the
// link ends or ctx does; it closes out when it returns.
func (r *Room) readOwner(ctx context.Context, out chan<- linkMsg) {
	defer close(out)
	for {
		m, err := r.link.read()
		if err != nil {
			return
		}
		if m.Type == linkEphemeral {
			r.relayLinked(m, r.link) // unordered: not through the room's goroutine
			continue
		}
		select {
		case out <- m:
		case <-ctx.Done():
			return
		}
	}
}

// forward sends a command to the owner.
func (r *Room) forward(req *submit) {
	if _, ok := r.forwarded[req.id]; ok {
		return // the same command twice before its answer: the first one's answers both
	}
	r.forwarded[req.id] = req
	r.link.send(linkMsg{Type: linkCommand, Key: req.s.linkKey, ID: req.id, Command: req.raw, Limited: req.limited})
}

// forwardJoin asks the owner to record a session's join; the session enters
// once the owner has answered (joined).
func (r *Room) forwardJoin(req *enter) {
	s := req.s
	s.linkKey = uuid.NewString()
	r.joining[s.linkKey] = req
	r.link.send(linkMsg{Type: linkJoin, Key: s.linkKey, Participant: s.participant, Role: s.role, Name: s.name})
}

// forwardLeave asks the owner to record a session's leave; its done closes
// once the owner has answered (left). A session still joining is answered
// that it left, and its join, if the owner took it, is undone by the leave.
func (r *Room) forwardLeave(req *exit) {
	s := req.s
	if j, ok := r.joining[s.linkKey]; ok {
		delete(r.joining, s.linkKey)
		j.reply <- enterReply{err: errMoved}
	} else if _, ok := r.waiting[s.linkKey]; ok {
		// Left the lobby: the owner forgets the waiting join.
		delete(r.waiting, s.linkKey)
		r.link.send(linkMsg{Type: linkLeave, Key: s.linkKey})
		close(req.done)
		return
	} else if _, ok := r.sessions[s]; !ok {
		close(req.done) // replaced by a newer session, or never entered
		return
	}
	delete(r.sessions, s)
	delete(r.byKey, s.linkKey)
	r.updatePeers()
	if r.srv.draining.Load() {
		close(req.done) // the participant reconnects through another node
		return
	}
	r.exiting[s.linkKey] = req.done
	r.link.send(linkMsg{Type: linkLeave, Key: s.linkKey})
}

// fromOwner handles one message of the owner.
func (r *Room) fromOwner(ctx context.Context, m linkMsg) {
	switch m.Type {
	case linkJoined:
		req, ok := r.joining[m.Key]
		if !ok {
			return
		}
		delete(r.joining, m.Key)
		if err := m.err(); err != nil {
			req.reply <- enterReply{err: err}
			return
		}
		if m.Waiting {
			answer := make(chan error, 1)
			r.waiting[m.Key] = answer
			req.reply <- enterReply{wait: answer}
			return
		}
		if req.after > r.broadcast {
			r.applyOthers(ctx)
		}
		plan, err := r.catchUp(req.after)
		if err != nil {
			req.reply <- enterReply{err: err}
			r.link.send(linkMsg{Type: linkLeave, Key: m.Key})
			return
		}
		r.sessions[req.s] = struct{}{}
		r.byKey[m.Key] = req.s
		r.updatePeers()
		req.reply <- enterReply{plan: plan}
	case linkAck:
		req, ok := r.forwarded[m.ID]
		if !ok {
			return
		}
		delete(r.forwarded, m.ID)
		if m.Seq <= r.broadcast {
			req.s.replyAck(m.ID, m.Seq)
			return
		}
		r.held = append(r.held, heldAck{req: req, seq: m.Seq})
	case linkRefused:
		if req, ok := r.forwarded[m.ID]; ok {
			delete(r.forwarded, m.ID)
			req.s.replyError(m.ID, m.err())
		} else if s := r.byKey[m.Key]; s != nil && m.ID == uuid.Nil {
			s.replyError(uuid.Nil, m.err())
		}
	case linkEvents:
		var events []domain.Event
		if err := json.Unmarshal(m.Events, &events); err != nil {
			r.srv.log.Warn("malformed events from the lesson's owner", "lesson", r.lesson, "err", err)
			r.applyOthers(ctx)
			return
		}
		r.applyPushed(ctx, events)
	case linkLobby:
		if answer, ok := r.waiting[m.Key]; ok {
			delete(r.waiting, m.Key)
			answer <- m.err()
			// The owner's session of this join waited and is done with:
			// a leave ends it there (a wait records no presence).
			r.link.send(linkMsg{Type: linkLeave, Key: m.Key})
		}
	case linkLeft:
		if done, ok := r.exiting[m.Key]; ok {
			delete(r.exiting, m.Key)
			close(done)
		}
	case linkKill:
		if req, ok := r.joining[m.Key]; ok {
			delete(r.joining, m.Key)
			req.reply <- enterReply{err: m.err()}
		}
		if answer, ok := r.waiting[m.Key]; ok {
			delete(r.waiting, m.Key)
			answer <- m.err()
		}
		if s := r.byKey[m.Key]; s != nil {
			delete(r.byKey, m.Key)
			delete(r.sessions, s)
			r.updatePeers()
			s.kill(m.err())
		}
	}
}

// releaseHeld sends the held acks whose events the room has delivered.
func (r *Room) releaseHeld() {
	if len(r.held) == 0 {
		return
	}
	kept := r.held[:0]
	for _, h := range r.held {
		if h.seq <= r.broadcast {
			h.req.s.replyAck(h.req.id, h.seq)
		} else {
			kept = append(kept, h)
		}
	}
	clear(r.held[len(kept):])
	r.held = kept
}

// abandonForwarded ends what waits for the owner's answer: the senders of
// forwarded commands (which may be stored: no final answer; they resend once
// reconnected), joins and leaves.
func (r *Room) abandonForwarded(why error) {
	for id, req := range r.forwarded {
		req.s.kill(why)
		delete(r.forwarded, id)
	}
	for _, h := range r.held {
		h.req.s.replyAck(h.req.id, h.seq) // stored: the ack is final
	}
	r.held = nil
	for key, req := range r.joining {
		req.reply <- enterReply{err: why}
		delete(r.joining, key)
	}
	for key, answer := range r.waiting {
		answer <- why
		delete(r.waiting, key)
	}
	for key, done := range r.exiting {
		close(done)
		delete(r.exiting, key)
	}
}

// applyPushed applies and delivers the events the owner sent that follow
// what the room has; when some are missing before them, it reads the log.
func (r *Room) applyPushed(ctx context.Context, events []domain.Event) {
	if r.state == nil {
		return // reloading: the reload reads the log
	}
	for len(events) > 0 && events[0].Seq <= r.broadcast {
		events = events[1:]
	}
	if len(events) == 0 {
		return
	}
	if events[0].Seq != r.broadcast+1 {
		r.applyOthers(ctx)
		return
	}
	for i := 1; i < len(events); i++ {
		if events[i].Seq != events[i-1].Seq+1 {
			r.applyOthers(ctx)
			return
		}
	}
	for _, e := range events {
		r.state.Apply(e)
	}
	r.publish(events, r.state) // a follower decides nothing on top
}

// pushEvents sends events the owner's room stored to the nodes following
// the lesson.
func (r *Room) pushEvents(events []domain.Event) {
	if r.link != nil {
		return
	}
	if links := r.followers.Load(); links != nil && len(*links) > 0 {
		b, err := json.Marshal(events) // here, while nothing changes them
		if err != nil {
			r.srv.log.Error("encode events for the followers", "lesson", r.lesson, "err", err)
			return
		}
		msg := linkMsg{Type: linkEvents, Events: b}
		for _, l := range *links {
			l.send(msg)
		}
	}
}
