package domain

import (
	"slices"

	"github.com/google/uuid"
)

// Polls and quizzes: the teacher asks a question with 2–10 choices (one or
// several may be picked) or a free-text question, optionally marking the
// correct choices, which makes it a quiz. Asking opens it; students answer
// and may change their answer until the teacher closes it; the teacher may
// then show the results to the class. Each step is a command Decide checks
// and an event Apply folds, so that the live page, a replay and the export
// see the same answers.
//
// Anonymous polls: the log and the teacher's state keep who answered what
// (the event's actor), as for every event; no student is ever sent another
// student's answer to an anonymous poll (HiddenFrom, ForStudent), and the
// results shown to the class are counts only.

// Event kinds of polls. The strings are part of the stored format: never
// change one.
const (
	KindPollAsked        Kind = "poll.asked"
	KindPollAnswered     Kind = "poll.answered"
	KindPollClosed       Kind = "poll.closed"
	KindPollResultsShown Kind = "poll.results_shown"
)

// Bounds of polls.
const (
	MaxPolls         = 1000 // polls asked in one lesson
	MaxPollChoices   = 10
	MinPollChoices   = 2
	MaxQuestionRunes = 500
	MaxChoiceRunes   = 200
	MaxAnswerRunes   = 500 // a free-text answer
)

// PollAsked asks the class a question and opens it. With no Choices it is a
// free-text question. Correct lists the indexes of the correct choices,
// ascending; a poll with any is a quiz.
type PollAsked struct {
	Poll      uuid.UUID `json:"poll"`
	Question  string    `json:"question"`
	Choices   []string  `json:"choices,omitempty"`
	Multiple  bool      `json:"multiple,omitempty"`
	Correct   []int     `json:"correct,omitempty"`
	Anonymous bool      `json:"anonymous,omitempty"`
}

// PollAnswered is a student's answer, replacing any earlier one of theirs:
// the indexes of the chosen choices, ascending, or a free text. Anonymous
// repeats the poll's, so that what a student may be sent is decided from the
// event alone.
type PollAnswered struct {
	Poll      uuid.UUID `json:"poll"`
	Choices   []int     `json:"choices,omitempty"`
	Text      string    `json:"text,omitempty"`
	Anonymous bool      `json:"anonymous,omitempty"`
}

// PollClosed closes a poll: no more answers or changes.
type PollClosed struct {
	Poll uuid.UUID `json:"poll"`
}

// PollResultsShown shows a closed poll's results (and a quiz's correct
// choices) to the class. Counts are the answers per choice (for a free-text
// question, one count: how many answered); Decide accepts only the counts
// of the state, so that a student's page, which is never sent the answers
// of an anonymous poll, shows the same.
type PollResultsShown struct {
	Poll   uuid.UUID `json:"poll"`
	Counts []int     `json:"counts"`
}

func (*PollAsked) Kind() Kind        { return KindPollAsked }
func (*PollAnswered) Kind() Kind     { return KindPollAnswered }
func (*PollClosed) Kind() Kind       { return KindPollClosed }
func (*PollResultsShown) Kind() Kind { return KindPollResultsShown }

func (p *PollAsked) validate() error {
	if p.Poll == uuid.Nil {
		return Errorf(CodeInvalid, "poll has no id")
	}
	if err := checkText("question", p.Question, 1, MaxQuestionRunes); err != nil {
		return err
	}
	if len(p.Choices) == 0 {
		if p.Multiple || len(p.Correct) > 0 {
			return Errorf(CodeInvalid, "a free-text question has no choices to pick or mark correct")
		}
		return nil
	}
	if len(p.Choices) < MinPollChoices || len(p.Choices) > MaxPollChoices {
		return Errorf(CodeInvalid, "a poll has %d to %d choices", MinPollChoices, MaxPollChoices)
	}
	for _, c := range p.Choices {
		if err := checkText("choice", c, 1, MaxChoiceRunes); err != nil {
			return err
		}
	}
	if err := checkChoices("correct choice", p.Correct, len(p.Choices)); err != nil {
		return err
	}
	if !p.Multiple && len(p.Correct) > 1 {
		return Errorf(CodeInvalid, "a single-choice quiz has one correct choice")
	}
	return nil
}

func (p *PollAnswered) validate() error {
	if p.Poll == uuid.Nil {
		return Errorf(CodeInvalid, "poll has no id")
	}
	if len(p.Choices) > 0 && p.Text != "" || len(p.Choices) == 0 && p.Text == "" {
		return Errorf(CodeInvalid, "an answer is choices or a text")
	}
	if p.Text != "" {
		return checkText("answer", p.Text, 1, MaxAnswerRunes)
	}
	return checkChoices("choice", p.Choices, MaxPollChoices)
}

func (p *PollClosed) validate() error {
	if p.Poll == uuid.Nil {
		return Errorf(CodeInvalid, "poll has no id")
	}
	return nil
}

func (p *PollResultsShown) validate() error {
	if p.Poll == uuid.Nil {
		return Errorf(CodeInvalid, "poll has no id")
	}
	if len(p.Counts) == 0 || len(p.Counts) > MaxPollChoices {
		return Errorf(CodeInvalid, "results have 1 to %d counts", MaxPollChoices)
	}
	for _, n := range p.Counts {
		if n < 0 || n > MaxParticipantsKnown {
			return Errorf(CodeInvalid, "count %d is out of range", n)
		}
	}
	return nil
}

// checkChoices accepts indexes below n in ascending order without repeats.
func checkChoices(what string, idx []int, n int) error {
	for i, c := range idx {
		if c < 0 || c >= n {
			return Errorf(CodeInvalid, "%s %d is out of range", what, c)
		}
		if i > 0 && c <= idx[i-1] {
			return Errorf(CodeInvalid, "%ss are listed once each, ascending", what)
		}
	}
	return nil
}

// pollPayload returns a zero payload of a poll kind, or nil.
func pollPayload(k Kind) Payload {
	switch k {
	case KindPollAsked:
		return &PollAsked{}
	case KindPollAnswered:
		return &PollAnswered{}
	case KindPollClosed:
		return &PollClosed{}
	case KindPollResultsShown:
		return &PollResultsShown{}
	}
	return breakoutPayload(k)
}

// Poll is a question asked in the lesson, with its answers.
type Poll struct {
	ID        uuid.UUID    `json:"id"`
	Seq       int64        `json:"seq"` // the event that asked it
	Question  string       `json:"question"`
	Choices   []string     `json:"choices,omitempty"`
	Multiple  bool         `json:"multiple,omitempty"`
	Correct   []int        `json:"correct,omitempty"`
	Anonymous bool         `json:"anonymous,omitempty"`
	Open      bool         `json:"open"`
	Answers   []PollAnswer `json:"answers,omitempty"` // first answered first
	Shown     bool         `json:"shown,omitempty"`
	Results   []int        `json:"results,omitempty"` // the counts shown to the class
}

// PollAnswer is one student's latest answer to a poll.
type PollAnswer struct {
	Participant string `json:"participant"`
	Seq         int64  `json:"seq"` // the event of the latest answer
	Choices     []int  `json:"choices,omitempty"`
	Text        string `json:"text,omitempty"`
}

// Quiz reports whether the poll has correct choices marked.
func (p *Poll) Quiz() bool { return len(p.Correct) > 0 }

// Right reports whether an answer to a quiz is correct: exactly its correct
// choices.
func (p *Poll) Right(a PollAnswer) bool { return p.Quiz() && slices.Equal(a.Choices, p.Correct) }

// Answer returns a participant's answer and whether they answered.
func (p *Poll) Answer(participant string) (PollAnswer, bool) {
	if i := p.answer(participant); i >= 0 {
		return p.Answers[i], true
	}
	return PollAnswer{}, false
}

func (p *Poll) answer(participant string) int {
	return slices.IndexFunc(p.Answers, func(a PollAnswer) bool { return a.Participant == participant })
}

// Counts returns the answers per choice, or for a free-text question how
// many answered.
func (p *Poll) Counts() []int {
	if len(p.Choices) == 0 {
		return []int{len(p.Answers)}
	}
	n := make([]int, len(p.Choices))
	for _, a := range p.Answers {
		for _, c := range a.Choices {
			if c >= 0 && c < len(n) {
				n[c]++
			}
		}
	}
	return n
}

// Poll returns the poll of the given id, or nil.
func (s *State) Poll(id uuid.UUID) *Poll {
	if i := slices.IndexFunc(s.Polls, func(p *Poll) bool { return p.ID == id }); i >= 0 {
		return s.Polls[i]
	}
	return nil
}

// checkPollCommand checks asking, answering, closing and showing polls.
func (s *State) checkPollCommand(c Command) error {
	teacher := c.Role == RoleTeacher
	switch p := c.Payload.(type) {
	case *PollAsked:
		switch {
		case !teacher:
			return Errorf(CodeForbidden, "only the teacher asks polls")
		case s.Poll(p.Poll) != nil:
			return Errorf(CodeConflict, "poll %s already exists", p.Poll)
		case slices.ContainsFunc(s.Polls, func(q *Poll) bool { return q.Open }):
			return Errorf(CodeConflict, "close the open poll first")
		case len(s.Polls) >= MaxPolls:
			return Errorf(CodeConflict, "a lesson has at most %d polls", MaxPolls)
		}
	case *PollAnswered:
		if teacher {
			return Errorf(CodeForbidden, "only students answer polls")
		}
		q := s.Poll(p.Poll)
		switch {
		case q == nil:
			return Errorf(CodeNotFound, "no poll %s", p.Poll)
		case !q.Open:
			return Errorf(CodeConflict, "the poll is closed")
		case p.Anonymous != q.Anonymous:
			return Errorf(CodeInvalid, "the answer says the poll is anonymous when it is not, or not when it is")
		case len(q.Choices) == 0 && p.Text == "":
			return Errorf(CodeInvalid, "this question is answered with a text")
		case len(q.Choices) > 0 && p.Text != "":
			return Errorf(CodeInvalid, "this question is answered with choices")
		case len(p.Choices) > 0 && p.Choices[len(p.Choices)-1] >= len(q.Choices):
			return Errorf(CodeInvalid, "the poll has %d choices", len(q.Choices))
		case !q.Multiple && len(p.Choices) > 1:
			return Errorf(CodeInvalid, "pick one choice")
		}
		if a, ok := q.Answer(c.Actor); ok && a.Text == p.Text && slices.Equal(a.Choices, p.Choices) {
			return Errorf(CodeConflict, "that is already your answer")
		}
	case *PollClosed:
		q := s.Poll(p.Poll)
		switch {
		case !teacher:
			return Errorf(CodeForbidden, "only the teacher closes polls")
		case q == nil:
			return Errorf(CodeNotFound, "no poll %s", p.Poll)
		case !q.Open:
			return Errorf(CodeConflict, "the poll is already closed")
		}
	case *PollResultsShown:
		q := s.Poll(p.Poll)
		switch {
		case !teacher:
			return Errorf(CodeForbidden, "only the teacher shows results")
		case q == nil:
			return Errorf(CodeNotFound, "no poll %s", p.Poll)
		case q.Open:
			return Errorf(CodeConflict, "close the poll first")
		case q.Shown:
			return Errorf(CodeConflict, "the results are already shown")
		case !slices.Equal(p.Counts, q.Counts()):
			return Errorf(CodeConflict, "the counts are not the poll's (%v)", q.Counts())
		}
	default:
		return notACommand(c)
	}
	return nil
}

// applyPoll folds the events of polls.
func (s *State) applyPoll(e Event) {
	switch p := e.Payload.(type) {
	case *PollAsked:
		if e.Role != RoleTeacher || s.Poll(p.Poll) != nil || len(s.Polls) >= MaxPolls {
			return
		}
		s.Polls = append(s.Polls, &Poll{ID: p.Poll, Seq: e.Seq, Question: p.Question, Choices: slices.Clone(p.Choices),
			Multiple: p.Multiple, Correct: slices.Clone(p.Correct), Anonymous: p.Anonymous, Open: true})
	case *PollAnswered:
		q := s.Poll(p.Poll)
		if q == nil || !q.Open || e.Role != RoleStudent || (len(q.Choices) == 0) != (p.Text != "") {
			return
		}
		a := PollAnswer{Participant: e.Actor, Seq: e.Seq, Choices: slices.Clone(p.Choices), Text: p.Text}
		if i := q.answer(e.Actor); i >= 0 {
			q.Answers[i] = a
		} else if len(q.Answers) < MaxParticipantsKnown {
			q.Answers = append(q.Answers, a)
		}
	case *PollClosed:
		if q := s.Poll(p.Poll); q != nil {
			q.Open = false
		}
	case *PollResultsShown:
		if q := s.Poll(p.Poll); q != nil && !q.Open && !q.Shown {
			q.Shown, q.Results = true, slices.Clone(p.Counts)
		}
	}
}
