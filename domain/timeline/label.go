package timeline

import (
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"classroom/domain"
)

// lessonView is what the human-readable exports remember while they fold: who
// is who, what the decks are called, where the lesson started. It is bounded
// by the domain's limits (participants, decks).
type lessonView struct {
	start   time.Time // lesson.created's time: offset zero
	title   string
	names   map[string]string // participant id → display name
	decks   map[string]string // deck id → name
	lastSeq int64
	last    time.Time // time of the latest event
}

func newLessonView() *lessonView {
	return &lessonView{names: map[string]string{}, decks: map[string]string{}}
}

// read sees every event of a log and then passes it to each, stopping at the
// first error of the events, see or each. It returns the number of events
// read (the one each failed on included), and a CodeNotFound error for a log
// without events.
func (v *lessonView) read(events iter.Seq2[domain.Event, error], each func(domain.Event) error) (int64, error) {
	var n int64
	for e, err := range events {
		if err != nil {
			return n, err
		}
		if err := v.see(e); err != nil {
			return n, err
		}
		n++
		if err := each(e); err != nil {
			return n, err
		}
	}
	if n == 0 {
		return 0, domain.Errorf(domain.CodeNotFound, "the lesson has no events")
	}
	return n, nil
}

// see takes in one event, in order. It refuses a log that does not start with
// lesson.created or that skips or repeats a sequence number, since every
// offset and name depends on reading the log whole.
func (v *lessonView) see(e domain.Event) error {
	if e.Seq != v.lastSeq+1 {
		return domain.Errorf(domain.CodeInvalid, "event %d follows event %d: the log has a gap", e.Seq, v.lastSeq)
	}
	if e.Seq == 1 {
		lc, ok := e.Payload.(*domain.LessonCreated)
		if !ok {
			return domain.Errorf(domain.CodeInvalid, "the log starts with %s, not lesson.created", e.Kind())
		}
		v.start, v.title = e.Time, lc.Title
	}
	v.lastSeq, v.last = e.Seq, e.Time
	switch p := e.Payload.(type) {
	case *domain.ParticipantJoined:
		if _, ok := v.names[e.Actor]; ok || len(v.names) < domain.MaxParticipantsKnown {
			v.names[e.Actor] = p.Name
		}
	case *domain.DeckAdded:
		if len(v.decks) < domain.MaxDecks {
			if _, ok := v.decks[p.Deck.String()]; !ok {
				v.decks[p.Deck.String()] = p.Name
			}
		}
	}
	return nil
}

// offset is an event's time since the lesson's start, never negative.
func (v *lessonView) offset(t time.Time) time.Duration { return max(t.Sub(v.start), 0) }

// name is a participant's display name, or their id when they never joined.
func (v *lessonView) name(id string) string {
	if n, ok := v.names[id]; ok {
		return n
	}
	return id
}

// isBlank reports whether a slide is a page of the blank whiteboard.
func isBlank(s domain.Slide) bool { return s.Deck == (domain.Slide{}).Deck }

// where names a slide in a sentence: "slide 2 of 'Fractions'", "whiteboard page 1".
func (v *lessonView) where(s domain.Slide) string {
	if isBlank(s) {
		return "whiteboard page " + strconv.Itoa(s.Page+1)
	}
	return fmt.Sprintf("slide %d of '%s'", s.Page+1, v.deckName(s))
}

// chapter titles a slide: "Slide 3 — Fractions", "Whiteboard 1".
func (v *lessonView) chapter(s domain.Slide) string {
	if isBlank(s) {
		return "Whiteboard " + strconv.Itoa(s.Page+1)
	}
	return fmt.Sprintf("Slide %d — %s", s.Page+1, v.deckName(s))
}

func (v *lessonView) deckName(s domain.Slide) string {
	if n, ok := v.decks[s.Deck.String()]; ok {
		return n
	}
	return "deck " + s.Deck.String()[:8]
}

// summary says in words what an event did.
func (v *lessonView) summary(e domain.Event) string {
	switch p := e.Payload.(type) {
	case *domain.LessonCreated:
		return fmt.Sprintf("created the lesson '%s'", p.Title)
	case *domain.LessonStarted:
		return "started the lesson"
	case *domain.LessonEnded:
		return "ended the lesson"
	case *domain.ParticipantJoined:
		return fmt.Sprintf("joined as %s (%s)", p.Name, e.Role)
	case *domain.ParticipantLeft:
		return "left"
	case *domain.DrawingPermitted:
		switch {
		case p.Participant == "" && p.Allowed:
			return "let the students draw"
		case p.Participant == "":
			return "stopped the students drawing"
		case p.Allowed:
			return "let " + v.name(p.Participant) + " draw"
		default:
			return "stopped " + v.name(p.Participant) + " drawing"
		}
	case *domain.StrokeDrawn:
		switch {
		case p.Part > 0:
			return "continued a stroke on " + v.where(p.Slide)
		case p.Tool == domain.ToolHighlighter:
			return "highlighted on " + v.where(p.Slide)
		default:
			return "drew a stroke on " + v.where(p.Slide)
		}
	case *domain.ShapeAdded:
		article := "a"
		if p.Shape == domain.ShapeArrow || p.Shape == domain.ShapeEllipse {
			article = "an"
		}
		return fmt.Sprintf("drew %s %s on %s", article, p.Shape, v.where(p.Slide))
	case *domain.TextAdded:
		return fmt.Sprintf("wrote '%s' on %s", p.Text, v.where(p.Slide))
	case *domain.ObjectsErased:
		if len(p.Objects) == 1 {
			return "erased an object on " + v.where(p.Slide)
		}
		return fmt.Sprintf("erased %d objects on %s", len(p.Objects), v.where(p.Slide))
	case *domain.BoardUndone:
		return "undid their last change on " + v.where(p.Slide)
	case *domain.BoardRedone:
		return "redid their last change on " + v.where(p.Slide)
	case *domain.BoardCleared:
		return "cleared " + v.where(p.Slide)
	case *domain.DeckAdded:
		return fmt.Sprintf("added the deck '%s' (%d pages)", p.Name, p.Pages)
	case *domain.SlideChanged:
		return "went to " + v.where(p.Slide)
	case *domain.HandRaised:
		return "raised a hand"
	case *domain.HandLowered:
		if p.Participant == e.Actor {
			return "lowered their hand"
		}
		return "lowered " + v.name(p.Participant) + "'s hand"
	case *domain.FloorGranted:
		return "gave the floor to " + v.name(p.Participant)
	case *domain.FloorRevoked:
		if p.Participant == e.Actor {
			return "gave the floor back"
		}
		return "took the floor back from " + v.name(p.Participant)
	case *domain.ChatPosted:
		return p.Text
	case *domain.RecordingStarted:
		return "started recording"
	case *domain.RecordingStopped:
		return "stopped recording"
	case *domain.PollAsked:
		return "asked: " + p.Question
	case *domain.PollAnswered:
		return "answered a poll" // what, only polls.csv says
	case *domain.PollClosed:
		return "closed a poll"
	case *domain.PollResultsShown:
		return "showed a poll's results"
	}
	return string(e.Kind())
}

// clock formats a duration as H:MM:SS.mmm (hours unbounded).
func clock(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// oneLine folds line breaks into spaces, for cells and cue text where a
// line break would mean something else.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}
