package lessonvideo

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/media/recorder"
)

// Plan is what a render needs to know of the whole lesson before its first
// frame: the span it covers, the chapters, who is shown when, and the chat.
// Times are on the event log's clock.
type Plan struct {
	Lesson  uuid.UUID
	Title   string
	Created time.Time
	// Start and End are the recording's span: from the first
	// recording.started to the last recording.stopped (or the lesson's end,
	// or its last event, when recording never stopped). Pauses between
	// segments are kept, as the replay keeps them.
	Start, End time.Time
	Chapters   []Chapter
	Chat       []ChatLine
	Teachers   map[string]bool // participants who joined as the teacher
	Names      map[string]string
	Floor      map[string][]Interval // who had the floor when, by participant
	Recordings []recorder.Recording  // the media inside the span
}

// Chapter starts at a slide change (or at Start, for the slide shown then).
type Chapter struct {
	At    time.Time
	Title string
}

// ChatLine is one chat message.
type ChatLine struct {
	At         time.Time
	Name, Text string
}

// Interval is a stretch of time, From included, To not.
type Interval struct{ From, To time.Time }

// Duration is the span's length.
func (p *Plan) Duration() time.Duration { return p.End.Sub(p.Start) }

// ReadPlan folds a lesson's whole log once to plan its render, and takes
// the recordings in recs that overlap the span. A lesson that was never
// recorded is refused with domain.CodeNotFound.
func ReadPlan(ctx context.Context, store eventstore.Store, lesson uuid.UUID, recs []recorder.Recording) (*Plan, error) {
	p := &Plan{Lesson: lesson, Teachers: map[string]bool{}, Names: map[string]string{}, Floor: map[string][]Interval{}}
	s := domain.NewState()
	var (
		recording   bool
		floor       string
		floorSince  time.Time
		slideKey    = ""
		last        time.Time
		chapterSeen bool
	)
	for e, err := range store.Events(ctx, lesson, 0) {
		if err != nil {
			return nil, err
		}
		s.Apply(e)
		last = e.Time
		if p.Created.IsZero() {
			p.Created, p.Title = s.Created, s.Title
		}
		switch e.Payload.(type) {
		case *domain.RecordingStarted:
			if p.Start.IsZero() {
				p.Start = e.Time
			}
			recording = true
		case *domain.RecordingStopped, *domain.LessonEnded:
			if recording {
				p.End = e.Time
			}
			recording = false
		case *domain.ChatPosted:
			p.Chat = append(p.Chat, ChatLine{At: e.Time, Name: nameOf(s, e.Actor), Text: e.Payload.(*domain.ChatPosted).Text})
		case *domain.ParticipantJoined:
			p.Names[e.Actor] = nameOf(s, e.Actor)
			if e.Role == domain.RoleTeacher {
				p.Teachers[e.Actor] = true
			}
		}
		if s.Floor != floor {
			if floor != "" {
				p.Floor[floor] = append(p.Floor[floor], Interval{floorSince, e.Time})
			}
			floor, floorSince = s.Floor, e.Time
		}
		if k := s.Slide.Key(); k != slideKey || !chapterSeen {
			slideKey, chapterSeen = k, true
			p.Chapters = append(p.Chapters, Chapter{At: e.Time, Title: slideTitle(s, s.Slide)})
		}
	}
	if p.Start.IsZero() {
		return nil, domain.Errorf(domain.CodeNotFound, "lesson %s was never recorded", lesson)
	}
	if recording || p.End.IsZero() {
		p.End = last
	}
	if floor != "" {
		p.Floor[floor] = append(p.Floor[floor], Interval{floorSince, p.End})
	}
	p.Chapters = chaptersWithin(p.Chapters, p.Start, p.End)
	for _, r := range recs {
		if r.Error == "" && recordedEnd(r).After(p.Start) && r.Start.Before(p.End) {
			p.Recordings = append(p.Recordings, r)
		}
	}
	return p, nil
}

// chaptersWithin keeps the chapters inside [start, end): the one shown at
// start begins there, and of changes at the same millisecond the last is kept.
func chaptersWithin(all []Chapter, start, end time.Time) []Chapter {
	var out []Chapter
	for _, c := range all {
		if !c.At.Before(end) {
			break
		}
		if c.At.Before(start) {
			c.At = start
		}
		if n := len(out); n > 0 && c.At.Sub(out[n-1].At) < time.Millisecond {
			out[n-1] = c
			continue
		}
		out = append(out, c)
	}
	return out
}

// slideTitle names a slide as the replay's label does: "Slide 3 — Fractions"
// for page 3 of the deck named Fractions, "Whiteboard 1" for the blank board.
func slideTitle(s *domain.State, sl domain.Slide) string {
	if sl.Deck == uuid.Nil {
		return "Whiteboard " + strconv.Itoa(sl.Page+1)
	}
	i := slices.IndexFunc(s.Decks, func(d domain.Deck) bool { return d.ID == sl.Deck })
	if i < 0 {
		return fmt.Sprintf("Slide %d", sl.Page+1)
	}
	return fmt.Sprintf("Slide %d — %s", sl.Page+1, s.Decks[i].Name)
}

func nameOf(s *domain.State, id string) string {
	if pt, ok := s.Participants[id]; ok && pt.Name != "" {
		return pt.Name
	}
	return id
}

// recordedEnd is when a recording's last packet came (its start and
// duration when a crash left no end).
func recordedEnd(r recorder.Recording) time.Time {
	if r.End != nil {
		return *r.End
	}
	return r.Start.Add(time.Duration(r.DurationMS) * time.Millisecond)
}
