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
}
