package domain

import "slices"

// What a student is not sent: another student's answer to an anonymous
// poll, and the chat of a breakout group they are not in. The log and the
// teachers' state keep both; the live fan-out, the catch-up, the replay and
// the export leave them out of what a student receives.

// HiddenFrom reports whether a participant must not be sent the event: a
// student's answer to an anonymous poll reaches the teachers and its author
// only, and a chat line said inside a breakout group the teachers, its
// author and the group's members when it was said. Viewers, who watch the
// whole lesson, are sent both.
func HiddenFrom(e Event, participant string, role Role) bool {
	if role != RoleStudent || e.Actor == participant {
		return false
	}
	switch p := e.Payload.(type) {
	case *PollAnswered:
		return p.Anonymous
	case *GroupChatPosted:
		return !slices.Contains(p.Members, participant)
	}
	return false
}

// ForStudent returns a copy of the state as a student may be sent it: of
// anonymous polls, only their own answers; of breakout groups' chat, that of
// the group they are a member of (the last one, once the groups ended),
// history included, and their own lines in any other. It returns s itself
// when nothing is to be left out.
func (s *State) ForStudent(participant string) *State {
	c := *s
	others := func(g *Group) bool {
		return !slices.Contains(g.Members, participant) &&
			slices.ContainsFunc(g.Chat, func(m ChatMessage) bool { return m.Actor != participant })
	}
	if s.Breakout != nil && slices.ContainsFunc(s.Breakout.Groups, others) {
		b := *s.Breakout
		b.Groups = make([]*Group, len(s.Breakout.Groups))
		for i, g := range s.Breakout.Groups {
			b.Groups[i] = g
			if others(g) {
				h := *g
				h.Chat = nil
				for _, m := range g.Chat {
					if m.Actor == participant {
						h.Chat = append(h.Chat, m)
					}
				}
				b.Groups[i] = &h
			}
		}
		c.Breakout = &b
	}
	if !slices.ContainsFunc(s.Polls, func(p *Poll) bool {
		return p.Anonymous && slices.ContainsFunc(p.Answers, func(a PollAnswer) bool { return a.Participant != participant })
	}) {
		if c.Breakout == s.Breakout {
			return s
		}
		return &c
	}
	c.Polls = make([]*Poll, len(s.Polls))
	for i, p := range s.Polls {
		if !p.Anonymous {
			c.Polls[i] = p
			continue
		}
		q := *p
		q.Answers = nil
		if a, ok := p.Answer(participant); ok {
			q.Answers = []PollAnswer{a}
		}
		c.Polls[i] = &q
	}
	return &c
}
