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
	groups  map[string]string // breakout group id → name
	lastSeq int64
	last    time.Time // time of the latest event
}

func newLessonView() *lessonView {
	return &lessonView{names: map[string]string{}, decks: map[string]string{}, groups: map[string]string{}}
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
	case *domain.GroupsFormed:
		for _, g := range p.Groups {
			if len(v.groups) < maxGroupsNamed {
				v.groups[g.ID.String()] = g.Name
			}
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

// maxGroupsNamed bounds the breakout groups whose names a view remembers:
// later ones are named by their id.
const maxGroupsNamed = 10 * domain.MaxGroups

// group names a breakout group in a sentence: "group 'Blue'".
func (v *lessonView) group(id string) string {
	if n, ok := v.groups[id]; ok {
		return fmt.Sprintf("group '%s'", n)
	}
	return "group " + id[:min(8, len(id))]
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
	if _, ok := v.groups[s.Deck.String()]; ok {
		return "the board of " + v.group(s.Deck.String())
	}
	return fmt.Sprintf("slide %d of '%s'", s.Page+1, v.deckName(s))
}

// chapter titles a slide: "Slide 3 — Fractions", "Whiteboard 1", "Board
// of group 'Blue'".
func (v *lessonView) chapter(s domain.Slide) string {
	if isBlank(s) {
		return "Whiteboard " + strconv.Itoa(s.Page+1)
	}
	if _, ok := v.groups[s.Deck.String()]; ok {
		return "Board of " + v.group(s.Deck.String())
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
	case *domain.GroupsFormed:
		return v.formed(p)
	case *domain.GroupJoined:
		switch {
		case p.Participant == "" || p.Participant == e.Actor:
			return "joined " + v.group(p.Group.String())
		default:
			return fmt.Sprintf("moved %s to %s", v.name(p.Participant), v.group(p.Group.String()))
		}
	case *domain.GroupLeft:
		return "left the group they visited"
	case *domain.GroupsMessaged:
		return "told every group: " + p.Text
	case *domain.GroupsRecalled:
		return fmt.Sprintf("called everyone back in %d s", p.Seconds)
	case *domain.GroupsEnded:
		return "ended the groups"
	case *domain.GroupBoardShown:
		if p.Group == (domain.Slide{}).Deck {
			return "stopped showing a group's board"
		}
		return "showed the board of " + v.group(p.Group.String())
	case *domain.GroupChatPosted:
		return fmt.Sprintf("in %s: %s", v.group(p.Group.String()), p.Text)
	}
	return string(e.Kind())
}

// formed says how the class was split: "split the class into 2 groups:
// 'Blue' (Ann, Bob), 'Red' (Cat)".
func (v *lessonView) formed(p *domain.GroupsFormed) string {
	var b strings.Builder
	fmt.Fprintf(&b, "split the class into %d groups", len(p.Groups))
	if p.Choose {
		b.WriteString(", the students choosing")
	}
	for i, g := range p.Groups {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "'%s'", g.Name)
		if len(g.Members) > 0 {
			names := make([]string, len(g.Members))
			for j, m := range g.Members {
				names[j] = v.name(m)
			}
			fmt.Fprintf(&b, " (%s)", strings.Join(names, ", "))
		}
	}
	return b.String()
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
