package timelinetest

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
)

// Groups is a short lesson of breakout groups: the teacher ("teacher", Ms
// Rivera) splits Ana ("ana") and Bob ("bob") into the groups Blue and Red;
// Ana draws on Blue's board and chats in Blue, Bob chats in Red; the teacher
// visits Red, moves Bob to Blue, leaves, messages every group, calls
// everyone back, ends the groups, shows Blue's board, and ends the lesson.
// Commands go through domain.Decide, and the events carry their sequence
// numbers. Blue and Red are the groups' ids; BlueStroke is the seq of Ana's
// stroke.
type Groups struct {
	Events     []domain.Event
	Blue, Red  uuid.UUID
	BlueStroke int64
}

// GroupLesson returns a new lesson of breakout groups (see Groups).
func GroupLesson() (Groups, error) {
	g := Groups{Blue: uuid.New(), Red: uuid.New()}
	st := domain.NewState()
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	first, err := domain.NewLesson(uuid.New(), uuid.New(), "Groups", at)
	if err != nil {
		return g, err
	}
	add := func(e domain.Event) {
		e.Seq = int64(len(g.Events) + 1)
		st.Apply(e)
		g.Events = append(g.Events, e)
	}
	add(first)
	for _, c := range []struct {
		actor string
		p     domain.Payload
	}{
		{"teacher", &domain.ParticipantJoined{Name: "Ms Rivera"}},
		{"ana", &domain.ParticipantJoined{Name: "Ana"}},
		{"bob", &domain.ParticipantJoined{Name: "Bob"}},
		{"teacher", &domain.LessonStarted{}},
		{"teacher", &domain.GroupsFormed{Groups: []domain.GroupPlan{
			{ID: g.Blue, Name: "Blue", Members: []string{"ana"}}, {ID: g.Red, Name: "Red", Members: []string{"bob"}}}}},
		{"ana", &domain.StrokeDrawn{Object: uuid.New(), Slide: domain.GroupBoard(g.Blue), Tool: domain.ToolPen, Color: "#000000",
			Width: 2, Points: domain.Points{{X: 1, Y: 1, Pressure: 0.5}, {X: 2, Y: 2, T: 10, Pressure: 0.5}}}},
		{"ana", &domain.GroupChatPosted{Group: g.Blue, Text: "hello blue"}},
		{"bob", &domain.GroupChatPosted{Group: g.Red, Text: "=red alone"}},
		{"teacher", &domain.GroupJoined{Group: g.Red}},
		{"teacher", &domain.GroupJoined{Group: g.Blue, Participant: "bob"}},
		{"teacher", &domain.GroupLeft{}},
		{"teacher", &domain.GroupsMessaged{Text: "two minutes"}},
		{"teacher", &domain.GroupsRecalled{Seconds: 30}},
		{"teacher", &domain.GroupsEnded{}},
		{"teacher", &domain.GroupBoardShown{Group: g.Blue}},
		{"teacher", &domain.LessonEnded{}},
	} {
		role := domain.RoleStudent
		if c.actor == "teacher" {
			role = domain.RoleTeacher
		}
		at = at.Add(time.Second)
		e, err := domain.Decide(st, domain.Command{ID: uuid.New(), Actor: c.actor, Role: role, Payload: c.p}, at)
		if err != nil {
			return g, fmt.Errorf("%s by %s: %w", c.p.Kind(), c.actor, err)
		}
		add(e)
		if _, ok := c.p.(*domain.StrokeDrawn); ok {
			g.BlueStroke = int64(len(g.Events))
		}
	}
	return g, nil
}
