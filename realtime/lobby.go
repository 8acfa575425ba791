package realtime

import (
	"context"

	"github.com/google/uuid"

	"classroom/domain"
)

// The lobby and removal, as the room acts on them. A student the lesson's
// rules hold back (domain.State.MayEnter) waits: their session is in
// Room.lobby, not in Room.sessions, so that nothing of the lesson reaches
// it (no event, no ephemeral message, no media, no names) until the log
// says they may enter. A removal ends the removed participant's sessions
// when the room folds it, whichever node stored it, so that it holds on
// every node that has a session of theirs.

// wait puts a student the lobby holds back into it: it records their
// arrival (participant.waiting) unless the log has them waiting already,
// and answers the enter with the channel that says when they may enter.
func (r *Room) wait(req *enter) {
	s := req.s
	if !r.state.IsWaiting(s.participant) {
		ev, err := domain.Decide(r.state, domain.Command{ID: uuid.New(), Actor: s.participant, Role: s.role,
			Payload: &domain.ParticipantWaiting{Name: s.name}}, r.srv.now())
		if err != nil {
			req.reply <- enterReply{err: err}
			return
		}
		r.queue(ev, nil)
		// Ended if it is not stored: else the log would not have them
		// waiting, and the lobby would tell them the teacher sent them away.
		r.pending[len(r.pending)-1].joiner = s
	}
	for other := range r.lobby {
		if other.participant == s.participant {
			other.kill(domain.Errorf(domain.CodeConflict, "you joined from somewhere else").Because(domain.ReasonJoinedElsewhere))
			delete(r.lobby, other)
		}
	}
	answer := make(chan error, 1)
	r.lobby[s] = answer
	req.reply <- enterReply{wait: answer}
}

// leaveLobby records that a student who waited in the lobby left it (closed
// the page, lost the connection), so that the teacher's waiting list does
// not keep them; a student waiting through another session of theirs stays.
func (r *Room) leaveLobby(ctx context.Context, s *session) {
	for other := range r.lobby {
		if other.participant == s.participant {
			return
		}
	}
	if r.state == nil || !r.state.IsWaiting(s.participant) || r.srv.draining.Load() {
		return
	}
	ev, err := domain.Decide(r.state, domain.Command{ID: uuid.New(), Actor: s.participant, Role: s.role,
		Payload: &domain.ParticipantLeft{}}, r.srv.now())
	if err != nil {
		return
	}
	r.queue(ev, nil)
	r.flush(ctx)
}

// answerLobby tells the waiting students whom the log (st, the state as
// stored) now lets in to enter again, and those it no longer holds waiting
// (denied, removed) why not.
func (r *Room) answerLobby(st *domain.State) {
	for s, answer := range r.lobby {
		err := st.MayEnter(s.participant, s.role)
		switch {
		case st.Status == domain.StatusEnded:
			err = domain.Errorf(domain.CodeConflict, "the lesson has ended").Because(domain.ReasonLessonEnded)
		case err == nil:
		case st.IsWaiting(s.participant):
			continue // a lock keeps no one out who waits already
		case domain.ErrorReason(err) == domain.ReasonWaiting:
			err = domain.Errorf(domain.CodeForbidden, "the teacher did not let you in").Because(domain.ReasonDenied)
		}
		answer <- err
		delete(r.lobby, s)
	}
}

// removeSessions ends the sessions of the participants the events remove.
func (r *Room) removeSessions(events []domain.Event) {
	for _, e := range events {
		p, ok := e.Payload.(*domain.ParticipantRemoved)
		if !ok {
			continue
		}
		for s := range r.sessions {
			if s.participant == p.Participant {
				r.drop(s, domain.Errorf(domain.CodeForbidden, "the teacher removed you from this lesson").Because(domain.ReasonRemoved))
			}
		}
	}
}
