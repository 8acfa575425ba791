package timeline

import (
	"encoding/csv"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"classroom/domain"
)

// PollColumns are the columns of WritePollsCSV.
var PollColumns = []string{"poll", "asked", "question", "type", "anonymous", "participant", "name", "answer",
	"choices", "correct", "answered"}

// WritePollsCSV writes every answer to the lesson's polls as CSV, a row per
// student's final answer (a student who changed their answer has the last
// one), polls in the order asked and answers in the order first given:
//
//	poll         the poll's id
//	asked        when it was asked, RFC 3339 UTC
//	question     the question
//	type         single, multiple or text
//	anonymous    true or false
//	participant  the student's id; empty on an anonymous poll
//	name         their name; empty on an anonymous poll
//	answer       the chosen choices' words joined by " | ", or the text
//	choices      the chosen choices' numbers from 1, joined by " "
//	correct      true or false on a quiz, empty otherwise
//	answered     when the final answer was given, RFC 3339 UTC
//
// An anonymous poll's rows name nobody, so that the file can be shared; the
// log itself (and the json and ndjson exports) keeps who answered, as every
// event keeps its actor. Text is made safe as WriteCSV makes it. It returns
// the number of events read.
func WritePollsCSV(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error) {
	st := domain.NewState()
	times := map[int64]time.Time{}
	var n int64
	for e, err := range events {
		if err != nil {
			return n, err
		}
		switch e.Payload.(type) {
		case *domain.PollAsked, *domain.PollAnswered:
			times[e.Seq] = e.Time
		}
		st.Apply(e)
		n++
	}
	if n == 0 {
		return 0, domain.Errorf(domain.CodeNotFound, "the lesson has no events")
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(PollColumns); err != nil {
		return n, err
	}
	for _, q := range st.Polls {
		kind := "single"
		switch {
		case len(q.Choices) == 0:
			kind = "text"
		case q.Multiple:
			kind = "multiple"
		}
		for _, a := range q.Answers {
			who, name := a.Participant, ""
			if pt := st.Participants[who]; pt != nil {
				name = pt.Name
			}
			if q.Anonymous {
				who, name = "", ""
			}
			answer, numbers := a.Text, make([]string, len(a.Choices))
			if len(a.Choices) > 0 {
				words := make([]string, len(a.Choices))
				for i, c := range a.Choices {
					if c < len(q.Choices) {
						words[i] = q.Choices[c]
					}
					numbers[i] = strconv.Itoa(c + 1)
				}
				answer = strings.Join(words, " | ")
			}
			correct := ""
			if q.Quiz() {
				correct = strconv.FormatBool(q.Right(a))
			}
			row := []string{q.ID.String(), stamp(times[q.Seq]), cell(q.Question), kind, strconv.FormatBool(q.Anonymous),
				cell(who), cell(name), cell(answer), strings.Join(numbers, " "), correct, stamp(times[a.Seq])}
			if err := cw.Write(row); err != nil {
				return n, err
			}
		}
	}
	cw.Flush()
	return n, cw.Error()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
