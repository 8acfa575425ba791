package domain

import (
	"slices"
	"strings"
	"testing"
)

func TestPolls(t *testing.T) {
	p := newLive(t, ann, bob, cat)
	quiz := id("quiz")
	ask := &PollAsked{Poll: quiz, Question: "½ + ¼?", Choices: []string{"¾", "⅔", "1"}, Correct: []int{0}}
	p.refuseStudent(CodeForbidden, ann, ask)
	p.teacher(ask)
	p.refuseTeacher(CodeConflict, &PollAsked{Poll: id("other"), Question: "Next?"}) // one open at a time
	p.refuseTeacher(CodeConflict, ask)
	p.refuseTeacher(CodeForbidden, &PollAnswered{Poll: quiz, Choices: []int{0}})
	p.refuseStudent(CodeNotFound, ann, &PollAnswered{Poll: id("none"), Choices: []int{0}})
	p.refuseStudent(CodeInvalid, ann, &PollAnswered{Poll: quiz, Choices: []int{3}})
	p.refuseStudent(CodeInvalid, ann, &PollAnswered{Poll: quiz, Choices: []int{0, 1}})
	p.refuseStudent(CodeInvalid, ann, &PollAnswered{Poll: quiz, Text: "¾"})
	p.refuseStudent(CodeInvalid, ann, &PollAnswered{Poll: quiz, Choices: []int{0}, Anonymous: true})
	p.refuseStudent(CodeInvalid, ann, &PollAnswered{Poll: quiz, Choices: []int{1, 0}})
	p.student(ann, &PollAnswered{Poll: quiz, Choices: []int{1}})
	p.student(bob, &PollAnswered{Poll: quiz, Choices: []int{0}})
	p.student(cat, &PollAnswered{Poll: quiz, Choices: []int{2}})
	p.refuseStudent(CodeConflict, ann, &PollAnswered{Poll: quiz, Choices: []int{1}})
	p.student(ann, &PollAnswered{Poll: quiz, Choices: []int{0}}) // changes her mind
	q := p.st.Poll(quiz)
	if got := q.Counts(); !slices.Equal(got, []int{2, 0, 1}) {
		t.Fatalf("counts %v", got)
	}
	if a, _ := q.Answer(ann); !q.Right(a) || len(q.Answers) != 3 || q.Answers[0].Participant != ann {
		t.Fatalf("answers %+v", q.Answers)
	}
	p.refuseTeacher(CodeConflict, &PollResultsShown{Poll: quiz, Counts: []int{2, 0, 1}}) // still open
	p.refuseStudent(CodeForbidden, ann, &PollClosed{Poll: quiz})
	p.teacher(&PollClosed{Poll: quiz})
	p.refuseStudent(CodeConflict, bob, &PollAnswered{Poll: quiz, Choices: []int{1}})
	p.refuseTeacher(CodeConflict, &PollClosed{Poll: quiz})
	p.refuseStudent(CodeForbidden, ann, &PollResultsShown{Poll: quiz, Counts: []int{2, 0, 1}})
	p.refuseTeacher(CodeConflict, &PollResultsShown{Poll: quiz, Counts: []int{3, 0, 0}})
	p.teacher(&PollResultsShown{Poll: quiz, Counts: []int{2, 0, 1}})
	p.refuseTeacher(CodeConflict, &PollResultsShown{Poll: quiz, Counts: []int{2, 0, 1}})
	if !q.Shown || !slices.Equal(q.Results, []int{2, 0, 1}) {
		t.Fatalf("results %+v", q)
	}

	// Asking checks its own bounds.
	for _, bad := range []*PollAsked{
		{Poll: id("b"), Question: ""},
		{Poll: id("b"), Question: "one?", Choices: []string{"only"}},
		{Poll: id("b"), Question: "many?", Choices: strings.Split("abcdefghijk", "")},
		{Poll: id("b"), Question: "two right?", Choices: []string{"a", "b"}, Correct: []int{0, 1}},
		{Poll: id("b"), Question: "free?", Multiple: true},
		{Poll: id("b"), Question: "blank?", Choices: []string{"a", ""}},
	} {
		p.refuseTeacher(CodeInvalid, bad)
	}
}

// TestAnonymousPoll checks that no student is sent another student's answer
// to an anonymous poll, neither as an event nor in a snapshot.
func TestAnonymousPoll(t *testing.T) {
	p := newLive(t, ann, bob)
	secret := id("secret")
	p.teacher(&PollAsked{Poll: secret, Question: "Lost?", Choices: []string{"yes", "no"}, Anonymous: true})
	a := p.student(ann, &PollAnswered{Poll: secret, Choices: []int{0}, Anonymous: true})
	p.student(bob, &PollAnswered{Poll: secret, Choices: []int{1}, Anonymous: true})
	if !HiddenFrom(a, bob, RoleStudent) || HiddenFrom(a, ann, RoleStudent) || HiddenFrom(a, teacher, RoleTeacher) {
		t.Fatal("HiddenFrom sends ann's anonymous answer to the wrong people")
	}
	before := p.st.Hash()
	for _, who := range []string{ann, bob} {
		got := p.st.ForStudent(who).Poll(secret).Answers
		if len(got) != 1 || got[0].Participant != who {
			t.Fatalf("%s is sent the answers %+v", who, got)
		}
	}
	if p.st.Hash() != before || len(p.st.Poll(secret).Answers) != 2 {
		t.Fatal("ForStudent changed the state")
	}
	if p.st.ForStudent(teacher) == p.st {
		t.Fatal("a copy is expected when there are others' anonymous answers")
	}
}
