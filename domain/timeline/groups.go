package timeline

import (
	"encoding/csv"
	"io"
	"iter"
	"strconv"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
)

// GroupColumns are the columns of WriteGroupsCSV.
var GroupColumns = []string{"offset", "time", "seq", "kind", "group", "group_name", "actor", "actor_name",
	"participant", "participant_name", "text"}

// WriteGroupsCSV writes the lesson's breakout groups as CSV: a row per
// step, in the log's order, with the columns
//
//	offset            time since lesson.created, as WriteCSV's
//	time              the event's time, RFC 3339 UTC
//	seq               its sequence number
//	kind              the event kind (groups.formed, group.joined, …)
//	group             the group's id; empty for a step of every group
//	group_name        its name
//	actor, actor_name who did it
//	participant       whom it placed: a member of a group formed (a row
//	                  each), the student moved or the teacher visiting
//	participant_name  their name
//	text              a group's chat line, the teacher's message to every
//	                  group, or a call back's countdown in seconds
//
// A group formed without members (students choose) has a row of its own.
// What the groups drew is on their boards (the svg export, one board per
// group). Text is made safe as WriteCSV makes it. It returns the number of
// events read.
func WriteGroupsCSV(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(GroupColumns); err != nil {
		return 0, err
	}
	v := newLessonView()
	st := domain.NewState()
	row := func(e domain.Event, group uuid.UUID, participant, text string) error {
		r := []string{clock(v.offset(e.Time)), e.Time.UTC().Format(time.RFC3339Nano), strconv.FormatInt(e.Seq, 10),
			string(e.Kind()), "", "", e.Actor, "", participant, "", cell(text)}
		if group != uuid.Nil {
			r[4], r[5] = group.String(), cell(v.groups[group.String()])
		}
		if e.Actor != "" {
			r[7] = cell(v.name(e.Actor))
		}
		if participant != "" {
			r[9] = cell(v.name(participant))
		}
		return cw.Write(r)
	}
	n, err := v.read(events, func(e domain.Event) error {
		var err error
		switch p := e.Payload.(type) {
		case *domain.GroupsFormed:
			for _, g := range p.Groups {
				if len(g.Members) == 0 {
					err = row(e, g.ID, "", "")
				}
				for _, m := range g.Members {
					if err == nil {
						err = row(e, g.ID, m, "")
					}
				}
			}
		case *domain.GroupJoined:
			who := p.Participant
			if who == "" {
				who = e.Actor
			}
			err = row(e, p.Group, who, "")
		case *domain.GroupLeft:
			var left uuid.UUID
			if g := st.GroupOf(e.Actor); g != nil {
				left = g.ID
			}
			err = row(e, left, e.Actor, "")
		case *domain.GroupsMessaged:
			err = row(e, uuid.Nil, "", p.Text)
		case *domain.GroupsRecalled:
			err = row(e, uuid.Nil, "", strconv.Itoa(p.Seconds))
		case *domain.GroupsEnded:
			err = row(e, uuid.Nil, "", "")
		case *domain.GroupBoardShown:
			err = row(e, p.Group, "", "")
		case *domain.GroupChatPosted:
			err = row(e, p.Group, "", p.Text)
		}
		st.Apply(e)
		return err
	})
	if err != nil {
		return n, err
	}
	cw.Flush()
	return n, cw.Error()
}
