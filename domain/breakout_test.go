package domain

import (
	"slices"
	"testing"

	"github.com/google/uuid"
)

func TestBreakoutGroups(t *testing.T) {
	p := newLive(t, ann, bob, cat)
	one, two := id("one"), id("two")
	form := &GroupsFormed{Groups: []GroupPlan{{ID: one, Name: "One", Members: []string{ann, bob}},
		{ID: two, Name: "Two", Members: []string{cat}}}, Seconds: 600}
	p.refuseStudent(CodeForbidden, ann, form)
	p.refuseTeacher(CodeNotFound, &GroupsFormed{Groups: []GroupPlan{{ID: one, Name: "One", Members: []string{"dan"}}}})
	p.refuseTeacher(CodeInvalid, &GroupsFormed{Groups: []GroupPlan{{ID: one, Name: "One", Members: []string{ann}},
		{ID: two, Name: "Two", Members: []string{ann}}}})
	p.refuseTeacher(CodeInvalid, &GroupsFormed{Groups: []GroupPlan{{ID: one, Name: "One"}}}) // empty, and students do not choose
	p.teacher(form)
	p.refuseTeacher(CodeConflict, form)

	// Each group draws on its own board only.
	p.student(ann, pen("a", GroupBoard(one), line(2, 0)))
	p.refuseStudent(CodeForbidden, cat, pen("c", GroupBoard(one), line(2, 0)))
	p.student(cat, pen("c", GroupBoard(two), line(2, 0)))
	p.refuseStudent(CodeNotFound, cat, pen("c2", Slide{Deck: two, Page: 1}, line(2, 0)))
	if n := len(p.st.Board(GroupBoard(one)).Objects); n != 1 {
		t.Fatalf("group one's board holds %d objects", n)
	}

	// Students do not choose here; the teacher moves them and visits.
	p.refuseStudent(CodeForbidden, cat, &GroupJoined{Group: one})
	p.refuseStudent(CodeForbidden, cat, &GroupJoined{Group: one, Participant: ann})
	p.teacher(&GroupJoined{Group: two, Participant: bob})
	p.teacher(&GroupJoined{Group: one})
	if g := p.st.GroupOf(bob); g == nil || g.ID != two || p.st.GroupOf(teacher).ID != one || slices.Contains(p.st.Group(one).Members, bob) {
		t.Fatalf("groups %+v %+v", p.st.Group(one), p.st.Group(two))
	}
	p.refuseTeacher(CodeConflict, &GroupJoined{Group: one})
	p.teacher(&GroupLeft{})
	p.refuseTeacher(CodeConflict, &GroupLeft{})
	p.refuseStudent(CodeForbidden, ann, &GroupsMessaged{Text: "hi"})
	p.teacher(&GroupsMessaged{Text: "Five minutes left"})
	p.refuseStudent(CodeForbidden, ann, &GroupsRecalled{Seconds: 30})
	p.teacher(&GroupsRecalled{Seconds: 30})
	p.refuseTeacher(CodeConflict, &GroupsRecalled{Seconds: 30})
	p.refuseTeacher(CodeConflict, &GroupBoardShown{Group: one}) // still open
	p.refuseStudent(CodeForbidden, ann, &GroupsEnded{})
	p.teacher(&GroupsEnded{})
	if p.st.GroupOf(ann) != nil {
		t.Fatal("ann is still in a group after the end")
	}
	p.refuseStudent(CodeForbidden, ann, pen("late", GroupBoard(one), line(2, 0)))
	p.refuseStudent(CodeForbidden, ann, &GroupBoardShown{Group: one})
	p.teacher(&GroupBoardShown{Group: one})
	p.refuseTeacher(CodeConflict, &GroupBoardShown{Group: one})
	p.teacher(&GroupBoardShown{})
	p.refuseTeacher(CodeNotFound, &GroupBoardShown{Group: uuid.New()})
	p.refuseTeacher(CodeConflict, &DeckAdded{Deck: one, Name: "clash", Pages: 1})

	// Students choose.
	pick := id("pick")
	p.teacher(&GroupsFormed{Groups: []GroupPlan{{ID: pick, Name: "Pick"}}, Choose: true, Blank: true})
	p.student(cat, &GroupJoined{Group: pick})
	p.refuseStudent(CodeForbidden, cat, &GroupJoined{Group: pick, Participant: bob})
	if !slices.Equal(p.st.Group(pick).Members, []string{cat}) {
		t.Fatalf("members %v", p.st.Group(pick).Members)
	}

	// A later round may not take the id of a round before the last: that
	// group's board is kept, and a new group would draw on.
	p.teacher(&GroupsEnded{})
	p.refuseTeacher(CodeConflict, &GroupsFormed{Groups: []GroupPlan{{ID: one, Name: "Again", Members: []string{ann}}}})
	p.teacher(&GroupsFormed{Groups: []GroupPlan{{ID: id("again"), Name: "Again", Members: []string{ann}}}})
}

func TestGroupChat(t *testing.T) {
	p := newLive(t, ann, bob, cat)
	one, two := id("one"), id("two")
	p.refuseStudent(CodeConflict, ann, &GroupChatPosted{Group: one, Text: "anyone?"}) // no groups yet
	p.teacher(&GroupsFormed{Groups: []GroupPlan{{ID: one, Name: "One", Members: []string{ann, bob}},
		{ID: two, Name: "Two", Members: []string{cat}}}})
	p.refuseStudent(CodeForbidden, cat, &GroupChatPosted{Group: one, Text: "let me in"})
	p.refuseStudent(CodeNotFound, ann, &GroupChatPosted{Group: id("none"), Text: "hi"})
	p.refuseStudent(CodeInvalid, ann, &GroupChatPosted{Group: one})
	p.refuseStudent(CodeInvalid, ann, &GroupChatPosted{Text: "no group"})

	// The sender does not choose whom the line reaches: Decide says.
	said := p.student(ann, &GroupChatPosted{Group: one, Text: "I'll draw the axes", Members: []string{cat}})
	if got := said.Payload.(*GroupChatPosted).Members; !slices.Equal(got, []string{ann, bob}) {
		t.Fatalf("the stored line reaches %v", got)
	}
	visit := p.teacher(&GroupChatPosted{Group: two, Text: "How is it going?"})
	if got := visit.Payload.(*GroupChatPosted).Members; !slices.Equal(got, []string{cat}) {
		t.Fatalf("the teacher's line reaches %v", got)
	}
	for _, c := range []struct {
		e      Event
		who    string
		role   Role
		hidden bool
	}{
		{said, bob, RoleStudent, false}, {said, ann, RoleStudent, false}, {said, cat, RoleStudent, true},
		{said, teacher, RoleTeacher, false}, {visit, ann, RoleStudent, true}, {visit, cat, RoleStudent, false},
	} {
		if HiddenFrom(c.e, c.who, c.role) != c.hidden {
			t.Errorf("HiddenFrom(%q, %s) = %v", c.e.Payload.(*GroupChatPosted).Text, c.who, !c.hidden)
		}
	}
	if g := p.st.Group(one); len(g.Chat) != 1 || g.Chat[0].Actor != ann || g.Chat[0].Text != "I'll draw the axes" {
		t.Fatalf("group one's chat %+v", g.Chat)
	}
	if len(p.st.Chat) != 0 {
		t.Fatalf("a group's line reached the lesson's chat: %+v", p.st.Chat)
	}

	// A student's snapshot holds only their group's chat.
	before := p.st.Hash()
	mine := p.st.ForStudent(cat)
	if len(mine.Group(one).Chat) != 0 || len(mine.Group(two).Chat) != 1 {
		t.Fatalf("cat is sent the chats %+v and %+v", mine.Group(one).Chat, mine.Group(two).Chat)
	}
	if p.st.Hash() != before || len(p.st.Group(one).Chat) != 1 {
		t.Fatal("ForStudent changed the state")
	}
	if theirs := p.st.ForStudent(ann); len(theirs.Group(two).Chat) != 0 || len(theirs.Group(one).Chat) != 1 {
		t.Fatalf("ann is sent the chats %+v and %+v", theirs.Group(one).Chat, theirs.Group(two).Chat)
	}

	// Moved to another group, a student is sent its chat, history included,
	// and of the group they left only their own lines.
	p.student(bob, &GroupChatPosted{Group: one, Text: "ok"})
	p.teacher(&GroupJoined{Group: two, Participant: ann})
	moved := p.st.ForStudent(ann)
	if got := moved.Group(one).Chat; len(got) != 1 || got[0].Actor != ann {
		t.Fatalf("ann, moved out of group one, is sent its chat %+v", got)
	}
	if got := moved.Group(two).Chat; len(got) != 1 || got[0].Text != "How is it going?" {
		t.Fatalf("ann, moved into group two, is sent its chat %+v", got)
	}

	p.teacher(&ChatPermitted{Allowed: false})
	p.refuseStudent(CodeForbidden, ann, &GroupChatPosted{Group: one, Text: "hush"})
	p.teacher(&GroupChatPosted{Group: one, Text: "Five more minutes"})
	p.teacher(&GroupsEnded{})
	p.refuseTeacher(CodeConflict, &GroupChatPosted{Group: one, Text: "too late"})
}
