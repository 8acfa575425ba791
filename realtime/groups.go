package realtime

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
)

// Breakout groups' media: while groups are open, each is a stage of its own
// on the lesson's sfu.Stage (SetGroups): its members and the teacher
// visiting it send their camera and microphone to each other and receive
// nothing of the main room nor of another group. A call back leaves the
// groups talking until its countdown ends; then, or when the groups end,
// everyone is back on the main stage, and the room that decides the lesson
// ends the groups in the log (endRecalledGroups), so that every page, the
// replay and the export show everyone back in the main room even when no
// teacher's page is open to end them.

// stageGroups returns who is in which group's stage at now (participant →
// group id), empty when nobody is, and when that changes next by itself (the
// end of a call back's countdown), zero when it does not.
func stageGroups(st *domain.State, now time.Time) (map[string]string, time.Time) {
	b := st.Breakout
	if b == nil || !b.Open {
		return nil, time.Time{}
	}
	back := recallEnd(b)
	if !back.IsZero() && !now.Before(back) {
		return nil, time.Time{}
	}
	groups := map[string]string{}
	for _, g := range b.Groups {
		id := g.ID.String()
		for _, p := range g.Members {
			groups[p] = id
		}
		for _, p := range g.Visitors {
			groups[p] = id
		}
	}
	return groups, back
}

// recallEnd returns when a call back's countdown ends and everyone is back
// on the main stage, zero when the groups were not called back.
func recallEnd(b *domain.Breakout) time.Time {
	if b.Recalled.IsZero() {
		return time.Time{}
	}
	return b.Recalled.Add(time.Duration(b.Recall) * time.Second)
}

// updateGroups tells the stage and the ephemeral relay (ephemeral.go) who
// is in which group's stage, as st (the state as stored) says, and arms
// r.recallDue for the end of a call back's countdown, when it changes by
// itself.
func (r *Room) updateGroups(st *domain.State) {
	now := r.srv.now()
	groups, back := stageGroups(st, now)
	r.setGroups(groups)
	if !back.Equal(r.recallAt) {
		r.recallAt, r.recallDue = back, nil
		if !back.IsZero() {
			r.recallDue = time.After(back.Sub(now))
		}
	}
}

// recalled ends the groups' stages once the call back's countdown the
// stage was last told of is over by the room's clock, and arms r.recallDue
// again while it is not: the state as stored said who was in which group
// until then, and says no one is after it.
func (r *Room) recalled() {
	if r.recallAt.IsZero() {
		return
	}
	if now := r.srv.now(); now.Before(r.recallAt) {
		r.recallDue = time.After(r.recallAt.Sub(now))
		return
	}
	r.recallAt = time.Time{}
	r.setGroups(nil)
}

// setGroups tells the stage and the ephemeral relay who is in which
// group's stage, when that changed.
func (r *Room) setGroups(groups map[string]string) {
	if !maps.Equal(groups, r.groups) {
		r.groups = groups
		r.stage.SetGroups(groups)
		r.updatePeers()
	}
}

// endRecalledGroups ends the open groups once a call back's countdown is
// over. The room calls it after everything that wakes it (the countdown's
// timer, a call back of 0 seconds, a teacher arriving after the countdown,
// a state loaded after it); it returns at once unless groups wait for it.
// The groups.ended is decided for a present teacher (the first by id, so
// that the same state gives the same log) and checked by the rules like
// theirs. With no teacher present the groups stay open in the log, their
// media back on the main stage, until a teacher comes. Only the room that
// decides the lesson does it; a follower's updates its stage.
func (r *Room) endRecalledGroups(ctx context.Context) {
	if r.link != nil || r.state == nil || r.state.Status == domain.StatusEnded {
		return
	}
	b := r.state.Breakout
	if b == nil || !b.Open {
		return
	}
	if back := recallEnd(b); back.IsZero() || r.srv.now().Before(back) {
		return
	}
	var teachers []string
	for id, p := range r.state.Participants {
		if p.Present && p.Role == domain.RoleTeacher {
			teachers = append(teachers, id)
		}
	}
	if len(teachers) == 0 {
		return
	}
	slices.Sort(teachers)
	ev, err := domain.Decide(r.state, domain.Command{ID: uuid.New(), Actor: teachers[0], Role: domain.RoleTeacher,
		Payload: &domain.GroupsEnded{}}, r.srv.now())
	if err != nil {
		r.srv.log.Error("ending the groups after a call back", "lesson", r.lesson, "err", err)
		return
	}
	r.queue(ev, nil)
	r.pipe(ctx)
}
