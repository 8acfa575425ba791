package realtime

import (
	"maps"
	"time"

	"classroom/domain"
)

// Breakout groups' media: while groups are open, each is a stage of its own
// on the lesson's sfu.Stage (SetGroups): its members and the teacher
// visiting it send their camera and microphone to each other and receive
// nothing of the main room nor of another group. A call back leaves the
// groups talking until its countdown ends; then, or when the groups end,
// everyone is back on the main stage.

// stageGroups returns who is in which group's stage at now (participant →
// group id), empty when nobody is, and when that changes next by itself (the
// end of a call back's countdown), zero when it does not.
func stageGroups(st *domain.State, now time.Time) (map[string]string, time.Time) {
	b := st.Breakout
	if b == nil || !b.Open {
		return nil, time.Time{}
	}
	var back time.Time
	if !b.Recalled.IsZero() {
		if back = b.Recalled.Add(time.Duration(b.Recall) * time.Second); !now.Before(back) {
			return nil, time.Time{}
		}
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

// updateGroups tells the stage who is in which group's stage, and arms
// r.recallDue for the end of a call back's countdown, when it changes by
// itself.
func (r *Room) updateGroups() {
	groups, back := stageGroups(r.state, time.Now())
	if !maps.Equal(groups, r.groups) {
		r.groups = groups
		r.stage.SetGroups(groups)
	}
	if !back.Equal(r.recallAt) {
		r.recallAt, r.recallDue = back, nil
		if !back.IsZero() {
			r.recallDue = time.After(time.Until(back))
		}
	}
}
