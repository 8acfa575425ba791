package domain

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// Breakout groups: the teacher splits the present students into groups (at
// random or by hand, the page choosing the members, or lets them choose),
// with an optional timer. Each group has its own board, the slide whose deck
// is the group's id, page 0, on which its members draw; the teacher can
// visit any group and come back, broadcast a message to all groups, and call
// everyone back with a countdown, then end the groups. Back in the main
// room, the teacher can show any group's board to the class. Each step is a
// command Decide checks and an event Apply folds, so that a replay can
// follow any group's board. A chat line said inside a group
// (group.chat.posted) belongs to that group: it reaches the group's members
// and the teachers only (HiddenFrom), and the group keeps it (Group.Chat).

// Event kinds of breakout groups. The strings are part of the stored
// format: never change one.
const (
	KindGroupsFormed    Kind = "groups.formed"
	KindGroupJoined     Kind = "group.joined"
	KindGroupLeft       Kind = "group.left"
	KindGroupsMessaged  Kind = "groups.messaged"
	KindGroupsRecalled  Kind = "groups.recalled"
	KindGroupsEnded     Kind = "groups.ended"
	KindGroupBoardShown Kind = "group.board.shown"
	KindGroupChatPosted Kind = "group.chat.posted"
)

// Bounds of breakout groups.
const (
	MaxGroups         = 50
	MaxGroupMembers   = 8
	MaxGroupSeconds   = 24 * 60 * 60 // a group's timer
	MaxRecallSeconds  = 600          // the countdown of a call back
	MaxGroupNameRunes = MaxNameRunes
	MaxBroadcastRunes = MaxChatRunes
	groupBoardPage    = 0
)

// GroupPlan is one group as the teacher forms it.
type GroupPlan struct {
	ID      uuid.UUID `json:"id"`
	Name    string    `json:"name"`
	Members []string  `json:"members,omitempty"`
}

// GroupsFormed splits the class into groups and opens them. With Choose,
// students pick their group (group.joined) and Members may be empty. With
// Blank the groups' boards start on a blank page, else over the slide shown.
// Seconds is the timer, 0 for none.
type GroupsFormed struct {
	Groups  []GroupPlan `json:"groups"`
	Choose  bool        `json:"choose,omitempty"`
	Blank   bool        `json:"blank,omitempty"`
	Seconds int         `json:"seconds,omitempty"`
}

// GroupJoined puts a participant into a group, out of any other: a student
// choosing their own group (Participant empty or theirs, while students
// choose), the teacher moving a student, or the teacher visiting the group
// (Participant empty or theirs).
type GroupJoined struct {
	Group       uuid.UUID `json:"group"`
	Participant string    `json:"participant,omitempty"`
}

// GroupLeft brings the teacher back from the group they visit.
type GroupLeft struct{}

// GroupsMessaged is the teacher's message to every group.
type GroupsMessaged struct {
	Text string `json:"text"`
}

// GroupsRecalled calls everyone back to the main room in Seconds.
type GroupsRecalled struct {
	Seconds int `json:"seconds"`
}

// GroupsEnded ends the groups: everyone is back in the main room. Their
// boards stay.
type GroupsEnded struct{}

// GroupBoardShown shows a group's board to the class in the main room, or
// stops showing one with Group nil.
type GroupBoardShown struct {
	Group uuid.UUID `json:"group"`
}

// GroupChatPosted is a chat line said inside a group, by one of its members
// or a teacher. Members is not the sender's to say: Decide sets it to the
// group's members when the line is said, the students it reaches, so that
// the stored event tells whom it was for without the state of the time.
type GroupChatPosted struct {
	Group   uuid.UUID `json:"group"`
	Text    string    `json:"text"`
	Members []string  `json:"members,omitempty"`
}

func (*GroupsFormed) Kind() Kind    { return KindGroupsFormed }
func (*GroupJoined) Kind() Kind     { return KindGroupJoined }
func (*GroupLeft) Kind() Kind       { return KindGroupLeft }
func (*GroupsMessaged) Kind() Kind  { return KindGroupsMessaged }
func (*GroupsRecalled) Kind() Kind  { return KindGroupsRecalled }
func (*GroupsEnded) Kind() Kind     { return KindGroupsEnded }
func (*GroupBoardShown) Kind() Kind { return KindGroupBoardShown }
func (*GroupChatPosted) Kind() Kind { return KindGroupChatPosted }

func (p *GroupsFormed) validate() error {
	if len(p.Groups) == 0 || len(p.Groups) > MaxGroups {
		return Errorf(CodeInvalid, "form 1 to %d groups", MaxGroups)
	}
	if p.Seconds < 0 || p.Seconds > MaxGroupSeconds {
		return Errorf(CodeInvalid, "a group's timer is 0 to %d seconds", MaxGroupSeconds)
	}
	ids := map[uuid.UUID]bool{}
	members := map[string]bool{}
	for _, g := range p.Groups {
		if g.ID == uuid.Nil || ids[g.ID] {
			return Errorf(CodeInvalid, "each group needs an id of its own")
		}
		ids[g.ID] = true
		if err := checkText("group name", g.Name, 1, MaxGroupNameRunes); err != nil {
			return err
		}
		if len(g.Members) > MaxGroupMembers {
			return Errorf(CodeInvalid, "a group has at most %d members", MaxGroupMembers)
		}
		if len(g.Members) == 0 && !p.Choose {
			return Errorf(CodeInvalid, "group %q has no members", g.Name)
		}
		for _, m := range g.Members {
			if err := checkID("member", m, true); err != nil {
				return err
			}
			if members[m] {
				return Errorf(CodeInvalid, "%q is in two groups", m)
			}
			members[m] = true
		}
	}
	return nil
}

func (p *GroupJoined) validate() error {
	if p.Group == uuid.Nil {
		return Errorf(CodeInvalid, "group has no id")
	}
	return checkID("participant", p.Participant, false)
}
func (*GroupLeft) validate() error { return nil }
func (p *GroupsMessaged) validate() error {
	return checkText("message", p.Text, 1, MaxBroadcastRunes)
}
func (p *GroupsRecalled) validate() error {
	if p.Seconds < 0 || p.Seconds > MaxRecallSeconds {
		return Errorf(CodeInvalid, "the countdown is 0 to %d seconds", MaxRecallSeconds)
	}
	return nil
}
func (*GroupsEnded) validate() error     { return nil }
func (*GroupBoardShown) validate() error { return nil }
func (p *GroupChatPosted) validate() error {
	if p.Group == uuid.Nil {
		return Errorf(CodeInvalid, "group has no id")
	}
	if len(p.Members) > MaxGroupMembers {
		return Errorf(CodeInvalid, "a group has at most %d members", MaxGroupMembers)
	}
	for _, m := range p.Members {
		if err := checkID("member", m, true); err != nil {
			return err
		}
	}
	return checkText("chat message", p.Text, 1, MaxChatRunes)
}

// breakoutPayload returns a zero payload of a breakout kind, or nil.
func breakoutPayload(k Kind) Payload {
	switch k {
	case KindGroupsFormed:
		return &GroupsFormed{}
	case KindGroupJoined:
		return &GroupJoined{}
	case KindGroupLeft:
		return &GroupLeft{}
	case KindGroupsMessaged:
		return &GroupsMessaged{}
	case KindGroupsRecalled:
		return &GroupsRecalled{}
	case KindGroupsEnded:
		return &GroupsEnded{}
	case KindGroupBoardShown:
		return &GroupBoardShown{}
	case KindGroupChatPosted:
		return &GroupChatPosted{}
	}
	return nil
}

// Breakout is the lesson's breakout groups: open, or the last ones, whose
// boards stay.
type Breakout struct {
	Seq      int64     `json:"seq"` // the event that formed them
	Started  time.Time `json:"started"`
	Seconds  int       `json:"seconds"` // the timer, 0 for none
	Choose   bool      `json:"choose"`  // students pick their group
	Open     bool      `json:"open"`
	Groups   []*Group  `json:"groups"`
	Message  string    `json:"message"`  // the teacher's last message to all groups
	Recalled time.Time `json:"recalled"` // when everyone was called back; zero if not
	Recall   int       `json:"recall"`   // the call back's countdown in seconds
	Shown    uuid.UUID `json:"shown"`    // the group whose board the main room shows, or nil
}

// Group is one breakout group.
type Group struct {
	ID       uuid.UUID `json:"id"`
	Name     string    `json:"name"`
	Members  []string  `json:"members"`  // students, in the order they came
	Visitors []string  `json:"visitors"` // teachers visiting
	Slide    Slide     `json:"slide"`    // shown under the group's board
	// Chat is what was said inside the group, the latest
	// MaxChatMessagesKept lines.
	Chat []ChatMessage `json:"chat"`
}

// GroupBoard returns the slide that holds a group's board.
func GroupBoard(group uuid.UUID) Slide { return Slide{Deck: group, Page: groupBoardPage} }

// Group returns the group of the given id, or nil.
func (s *State) Group(id uuid.UUID) *Group {
	if s.Breakout == nil {
		return nil
	}
	if i := slices.IndexFunc(s.Breakout.Groups, func(g *Group) bool { return g.ID == id }); i >= 0 {
		return s.Breakout.Groups[i]
	}
	return nil
}

// GroupOf returns the open group a participant is in (as member or
// visitor), or nil when they are in the main room.
func (s *State) GroupOf(participant string) *Group {
	if s.Breakout == nil || !s.Breakout.Open {
		return nil
	}
	for _, g := range s.Breakout.Groups {
		if slices.Contains(g.Members, participant) || slices.Contains(g.Visitors, participant) {
			return g
		}
	}
	return nil
}

// checkGroupDraw checks drawing on a group's board: the teacher may, and
// the group's members while the groups are open. It reports false when the
// slide is not a group's board.
func (s *State) checkGroupDraw(me *Participant, sl Slide) (bool, error) {
	g := s.Group(sl.Deck)
	if g == nil {
		return false, nil
	}
	switch {
	case sl.Page != groupBoardPage:
		return true, Errorf(CodeNotFound, "a group's board has one page")
	case me.Role == RoleTeacher:
		return true, nil
	case !s.Breakout.Open || !slices.Contains(g.Members, me.ID):
		return true, Errorf(CodeForbidden, "only %s's members draw on its board", g.Name)
	}
	return true, nil
}

// stampGroupChat returns the payload a group chat line is stored with: the
// group's members at the time (GroupChatPosted.Members), whatever the
// sender said. Any other payload is returned as it is.
func (s *State) stampGroupChat(pl Payload) Payload {
	p, ok := pl.(*GroupChatPosted)
	if !ok {
		return pl
	}
	q := *p
	q.Members = nil
	if g := s.Group(p.Group); g != nil {
		q.Members = slices.Clone(g.Members)
	}
	return &q
}

// checkBreakoutCommand checks the commands of breakout groups.
func (s *State) checkBreakoutCommand(c Command) error {
	teacher := c.Role == RoleTeacher
	b := s.Breakout
	open := b != nil && b.Open
	switch c.Payload.(type) {
	case *GroupJoined, *GroupChatPosted:
	default:
		if !teacher {
			return Errorf(CodeForbidden, "only the teacher leads breakout groups")
		}
	}
	switch p := c.Payload.(type) {
	case *GroupChatPosted:
		g := s.Group(p.Group)
		switch {
		case !open:
			return Errorf(CodeConflict, "no groups are open")
		case g == nil:
			return Errorf(CodeNotFound, "no group %s", p.Group)
		case !teacher && !slices.Contains(g.Members, c.Actor):
			return Errorf(CodeForbidden, "only %s's members chat in it", g.Name)
		case !s.MayChat(c.Actor):
			return Errorf(CodeForbidden, "the teacher has switched the chat off")
		}
	case *GroupsFormed:
		if open {
			return Errorf(CodeConflict, "end the open groups first")
		}
		for _, g := range p.Groups {
			for _, m := range g.Members {
				if pt := s.Participants[m]; pt == nil || !pt.Present || pt.Role != RoleStudent {
					return Errorf(CodeNotFound, "%q is not a student in the lesson", m)
				}
			}
			// An earlier round's group keeps its board: a new group
			// under its id would carry on drawing on it.
			if s.deck(g.ID) != nil || s.Group(g.ID) != nil || s.Boards[GroupBoard(g.ID).Key()] != nil {
				return Errorf(CodeConflict, "group id %s is taken", g.ID)
			}
		}
	case *GroupJoined:
		g := s.Group(p.Group)
		who := p.Participant
		if who == "" {
			who = c.Actor
		}
		switch {
		case !open:
			return Errorf(CodeConflict, "no groups are open")
		case g == nil:
			return Errorf(CodeNotFound, "no group %s", p.Group)
		case !teacher && who != c.Actor:
			return Errorf(CodeForbidden, "only the teacher moves another student")
		case !teacher && !b.Choose:
			return Errorf(CodeForbidden, "the teacher has placed you in your group")
		case slices.Contains(g.Members, who) || slices.Contains(g.Visitors, who):
			return Errorf(CodeConflict, "already in %s", g.Name)
		}
		pt := s.Participants[who]
		switch {
		case pt == nil || !pt.Present:
			return Errorf(CodeNotFound, "%q is not in the lesson", who)
		case pt.Role == RoleStudent && len(g.Members) >= MaxGroupMembers:
			return Errorf(CodeConflict, "%s is full", g.Name)
		case pt.Role != RoleStudent && who != c.Actor:
			return Errorf(CodeInvalid, "only students are moved into groups")
		}
	case *GroupLeft:
		if s.GroupOf(c.Actor) == nil {
			return Errorf(CodeConflict, "you are in the main room")
		}
	case *GroupsMessaged:
		if !open {
			return Errorf(CodeConflict, "no groups are open")
		}
	case *GroupsRecalled:
		switch {
		case !open:
			return Errorf(CodeConflict, "no groups are open")
		case !b.Recalled.IsZero():
			return Errorf(CodeConflict, "everyone is already called back")
		}
	case *GroupsEnded:
		if !open {
			return Errorf(CodeConflict, "no groups are open")
		}
	case *GroupBoardShown:
		switch {
		case b == nil:
			return Errorf(CodeNotFound, "there have been no groups")
		case open:
			return Errorf(CodeConflict, "end the groups first")
		case p.Group != uuid.Nil && s.Group(p.Group) == nil:
			return Errorf(CodeNotFound, "no group %s", p.Group)
		case b.Shown == p.Group:
			return Errorf(CodeConflict, "that is already shown")
		}
	default:
		return notACommand(c)
	}
	return nil
}

// applyBreakout folds the events of breakout groups.
func (s *State) applyBreakout(e Event) {
	b := s.Breakout
	open := b != nil && b.Open
	switch e.Payload.(type) {
	case *GroupJoined, *GroupChatPosted:
	default:
		if e.Role != RoleTeacher {
			return
		}
	}
	switch p := e.Payload.(type) {
	case *GroupChatPosted:
		if g := s.Group(p.Group); open && g != nil {
			g.Chat = append(g.Chat, ChatMessage{Seq: e.Seq, Actor: e.Actor, Time: e.Time, Text: p.Text})
			if len(g.Chat) > MaxChatMessagesKept {
				g.Chat = slices.Delete(g.Chat, 0, len(g.Chat)-MaxChatMessagesKept)
			}
		}
	case *GroupsFormed:
		if open {
			return
		}
		nb := &Breakout{Seq: e.Seq, Started: e.Time, Seconds: p.Seconds, Choose: p.Choose, Open: true}
		for _, g := range p.Groups {
			sl := s.Slide
			if p.Blank {
				sl = Slide{}
			}
			nb.Groups = append(nb.Groups, &Group{ID: g.ID, Name: g.Name, Members: slices.Clone(g.Members), Slide: sl})
		}
		s.Breakout = nb
	case *GroupJoined:
		who := p.Participant
		if who == "" {
			who = e.Actor
		}
		g := s.Group(p.Group)
		pt := s.Participants[who]
		if !open || g == nil || pt == nil {
			return
		}
		for _, o := range b.Groups {
			o.Members = remove(o.Members, who)
			o.Visitors = remove(o.Visitors, who)
		}
		if pt.Role == RoleStudent {
			if len(g.Members) < MaxGroupMembers {
				g.Members = append(g.Members, who)
			}
		} else {
			g.Visitors = append(g.Visitors, who)
		}
	case *GroupLeft:
		if open {
			for _, g := range b.Groups {
				g.Visitors = remove(g.Visitors, e.Actor)
			}
		}
	case *GroupsMessaged:
		if open {
			b.Message = p.Text
		}
	case *GroupsRecalled:
		if open && b.Recalled.IsZero() {
			b.Recalled, b.Recall = e.Time, p.Seconds
		}
	case *GroupsEnded:
		if open {
			b.Open = false
			for _, g := range b.Groups {
				g.Visitors = nil
			}
		}
	case *GroupBoardShown:
		if b != nil && !b.Open && (p.Group == uuid.Nil || s.Group(p.Group) != nil) {
			b.Shown = p.Group
		}
	}
}
