package domain

import "slices"

// LeavesRoster reports whether an event of kind k, folded into any state,
// leaves its roster as it was: the lesson's status, who is known (and with
// which role), present, muted (audio, video) and on the floor, the lobby and
// the lock, who waits, is admitted or removed, and the breakout groups'
// members and visitors, whether they are open and when they are called
// back. It is true only for the kinds listed here (the board's, the
// slides', hands, chats, polls, recording and permissions), false for any
// other, a kind added later included. The room acts on the roster outside
// the log (the stage, the lobby), and keeps no copy of it across an event
// that leaves it as it was.
func LeavesRoster(k Kind) bool {
	switch k {
	case KindStrokeDrawn, KindShapeAdded, KindTextAdded, KindObjectsErased, KindBoardUndone, KindBoardRedone,
		KindBoardCleared, KindDeckAdded, KindSlideChanged, KindHandRaised, KindHandLowered, KindChatPosted,
		KindRecordingStarted, KindRecordingStopped, KindDrawingPermitted, KindChatPermitted, KindUnmuteAsked,
		KindPollAsked, KindPollAnswered, KindPollClosed, KindPollResultsShown,
		KindGroupsMessaged, KindGroupBoardShown, KindGroupChatPosted:
		return true
	}
	return false
}

// Roster returns a copy of the state's roster, the parts LeavesRoster
// speaks of (the participants whole, Drawing and UnmuteAsked included; the
// breakout with its groups' ids, names, members and visitors), with its
// lesson and sequence; every other field is left zero. Folding events into
// s afterwards leaves the copy as it was: the two share no map, slice or
// pointer.
func (s *State) Roster() *State {
	r := &State{Lesson: s.Lesson, Seq: s.Seq, Status: s.Status, Floor: s.Floor,
		Participants: make(map[string]*Participant, len(s.Participants)),
		Lobby:        s.Lobby, Locked: s.Locked, Waiting: slices.Clone(s.Waiting),
		Admitted: slices.Clone(s.Admitted), Removed: slices.Clone(s.Removed)}
	ps := make([]Participant, 0, len(s.Participants)) // one allocation for all of them
	for id, p := range s.Participants {
		ps = append(ps, *p)
		c := &ps[len(ps)-1]
		if p.Drawing != nil {
			d := *p.Drawing
			c.Drawing = &d
		}
		r.Participants[id] = c
	}
	if b := s.Breakout; b != nil {
		c := *b
		c.Groups = make([]*Group, len(b.Groups))
		for i, g := range b.Groups {
			c.Groups[i] = &Group{ID: g.ID, Name: g.Name, Members: slices.Clone(g.Members), Visitors: slices.Clone(g.Visitors)}
		}
		r.Breakout = &c
	}
	return r
}
