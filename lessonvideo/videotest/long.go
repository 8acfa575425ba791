package videotest

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
)

// LongOptions shape a long scripted lesson for measuring renders.
type LongOptions struct {
	Length           time.Duration // of the recording
	StrokesPerMinute int           // pen strokes, each of Points points
	Points           int
	Students         int    // each with a camera, given the floor in turn every 10 s
	Camera           string // size of the recorded cameras, e.g. "640x480"
	CameraFPS        int
}

// Long stores a lesson of o.Length recorded throughout: the teacher's
// camera and microphone, the students' cameras, strokes at an even pace on
// a two-page deck (the slide changes every 30 s, the board is cleared every
// 2 minutes), a chat message every 10 s.
func Long(t testing.TB, store Store, recordings string, created time.Time, o LongOptions) Lesson {
	t.Helper()
	ctx := context.Background()
	id, deck := uuid.New(), uuid.New()
	at := func(d time.Duration) time.Time { return created.Add(d).UTC().Truncate(time.Microsecond) }
	recStart := time.Second
	l := Lesson{ID: id, Created: at(0), RecordingStart: at(recStart), RecordingEnd: at(recStart + o.Length)}
	var events []domain.Event
	add := func(d time.Duration, actor string, p domain.Payload) {
		role := domain.RoleStudent
		if actor == teacher {
			role = domain.RoleTeacher
		}
		events = append(events, domain.Event{ID: uuid.New(), Lesson: id, Version: domain.EventVersion, Actor: actor, Role: role, Time: at(d), Payload: p})
	}
	add(0, teacher, &domain.LessonCreated{Title: "A long lesson"})
	add(time.Millisecond, teacher, &domain.ParticipantJoined{Name: "Ada"})
	add(2*time.Millisecond, teacher, &domain.LessonStarted{})
	students := make([]string, o.Students)
	for i := range students {
		students[i] = fmt.Sprintf("s-%d", i)
		add(3*time.Millisecond, students[i], &domain.ParticipantJoined{Name: fmt.Sprintf("Student %d", i)})
	}
	add(100*time.Millisecond, teacher, &domain.DeckAdded{Deck: deck, Name: "Deck", Pages: 2})
	add(200*time.Millisecond, teacher, &domain.SlideChanged{Slide: domain.Slide{Deck: deck}})
	add(recStart, teacher, &domain.RecordingStarted{})
	type tick struct {
		at time.Duration
		fn func(time.Duration)
	}
	var ticks []tick
	page := 0
	for d := 30 * time.Second; d < o.Length; d += 30 * time.Second {
		ticks = append(ticks, tick{d, func(d time.Duration) {
			page = 1 - page
			add(recStart+d, teacher, &domain.SlideChanged{Slide: domain.Slide{Deck: deck, Page: page}})
		}})
	}
	for d := 2 * time.Minute; d < o.Length; d += 2 * time.Minute {
		ticks = append(ticks, tick{d + time.Millisecond, func(d time.Duration) {
			add(recStart+d, teacher, &domain.BoardCleared{Slide: domain.Slide{Deck: deck, Page: page}})
		}})
	}
	for d, i := 10*time.Second, 0; d < o.Length; d, i = d+10*time.Second, i+1 {
		ticks = append(ticks, tick{d + 2*time.Millisecond, func(d time.Duration) {
			add(recStart+d, teacher, &domain.ChatPosted{Text: fmt.Sprintf("message %d", i)})
			if len(students) > 0 {
				add(recStart+d+time.Millisecond, teacher, &domain.FloorGranted{Participant: students[i%len(students)]})
			}
		}})
	}
	if o.StrokesPerMinute > 0 {
		every := time.Minute / time.Duration(o.StrokesPerMinute)
		for d, k := every/2, 0; d < o.Length; d, k = d+every, k+1 {
			ticks = append(ticks, tick{d + 3*time.Millisecond, func(d time.Duration) {
				pts := make(domain.Points, max(2, o.Points))
				x0, y0 := float64(100+(k*97)%1300), float64(100+(k*53)%700)
				for j := range pts {
					f := float64(j) / float64(len(pts)-1)
					pts[j] = domain.Point{X: x0 + 200*f, Y: y0 + 60*math.Sin(f*6), T: int64(j * 16), Pressure: 0.5}
				}
				add(recStart+d, teacher, &domain.StrokeDrawn{Object: uuid.New(), Slide: domain.Slide{Deck: deck, Page: page},
					Tool: domain.ToolPen, Color: "#1a73e8", Width: 4, Points: pts})
			}})
		}
	}
	slices.SortStableFunc(ticks, func(a, b tick) int { return cmp.Compare(a.at, b.at) })
	for _, tk := range ticks {
		tk.fn(tk.at)
	}
	add(recStart+o.Length, teacher, &domain.RecordingStopped{})
	add(recStart+o.Length+time.Millisecond, teacher, &domain.LessonEnded{})

	// The deck is stored once its deck.added is, before the lesson ends.
	k := slices.IndexFunc(events, func(e domain.Event) bool { _, ok := e.Payload.(*domain.DeckAdded); return ok })
	appendAll(t, store, events[:k+1])
	if err := store.PutDeck(ctx, id, deck, "Deck", []eventstore.Page{slidePage(t, 0), slidePage(t, 1)}); err != nil {
		t.Fatal(err)
	}
	appendAll(t, store, events[k+1:])
	l.Events = events

	dir := filepath.Join(recordings, id.String())
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	cam := fmt.Sprintf("testsrc2=size=%s:rate=%d", o.Camera, o.CameraFPS)
	from, to := l.RecordingStart, l.RecordingEnd
	record(t, dir, id, teacher, "cam", "video", from, to, cam, "-c:v", "libvpx", "-b:v", "800k", "-deadline", "realtime", "-cpu-used", "8")
	record(t, dir, id, teacher, "mic", "audio", from, to, "sine=frequency=440:sample_rate=48000", "-c:a", "libopus", "-ac", "2")
	for _, s := range students {
		record(t, dir, id, s, "cam", "video", from, to, cam, "-c:v", "libvpx", "-b:v", "800k", "-deadline", "realtime", "-cpu-used", "8")
		record(t, dir, id, s, "mic", "audio", from, to, "sine=frequency=660:sample_rate=48000", "-c:a", "libopus", "-ac", "2")
	}
	return l
}

// appendAll appends events in batches of 500.
func appendAll(t testing.TB, store Store, events []domain.Event) {
	t.Helper()
	for i := 0; i < len(events); i += 500 {
		_, errs, err := store.Append(context.Background(), events[i:min(len(events), i+500)]...)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range errs {
			if e != nil {
				t.Fatal(e)
			}
		}
	}
}
