// Package videotest scripts a recorded lesson for the tests of lessonvideo
// and of the pages that show its video: a log with a deck, strokes, shapes,
// slide changes, a floor given and taken back and chat, and WebM recordings
// made by ffmpeg (a synthetic camera for the teacher and for the student,
// and the teacher's microphone carrying a tone for part of the time).
package videotest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/media/recorder"
)

// Store is what the script writes into: a store that keeps decks.
type Store interface {
	eventstore.Store
	eventstore.Decks
}

// Lesson is a scripted lesson and the moments its tests look at.
type Lesson struct {
	ID      uuid.UUID
	Created time.Time
	// RecordingStart and RecordingEnd are the recording's span.
	RecordingStart, RecordingEnd time.Time
	// SlideChanges are the chapters' starts: the span's start, then each
	// slide change, with their titles.
	SlideChanges []time.Time
	Titles       []string
	// Tone is when the teacher's microphone carried a 440 Hz tone; before
	// and after it, within the span, it was off.
	ToneFrom, ToneTo time.Time
	// Moments are points inside the span where the board differs.
	Moments []time.Time
	Events  []domain.Event
}

const (
	teacher = "t-ada"
	student = "s-ben"
)

// Script stores the lesson in store and its recordings under recordings
// (a directory per lesson, as the recorder writes them). Its clock starts
// at created.
func Script(t testing.TB, store Store, recordings string, created time.Time) Lesson {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	deck := uuid.New()
	at := func(ms int) time.Time {
		return created.Add(time.Duration(ms) * time.Millisecond).UTC().Truncate(time.Microsecond)
	}
	l := Lesson{ID: id, Created: at(0), RecordingStart: at(1000), RecordingEnd: at(9000),
		ToneFrom: at(2000), ToneTo: at(6000)}
	onDeck := func(p int) domain.Slide { return domain.Slide{Deck: deck, Page: p} }
	pts := func(x0, y0, x1, y1 float64, n int) domain.Points {
		var ps domain.Points
		for i := 0; i < n; i++ {
			f := float64(i) / float64(n-1)
			ps = append(ps, domain.Point{X: x0 + (x1-x0)*f, Y: y0 + (y1-y0)*f + 40*f*(1-f), T: int64(i * 10), Pressure: 0.3 + 0.4*f})
		}
		return ps
	}
	type step struct {
		ms    int
		actor string
		p     domain.Payload
	}
	script := []step{
		{0, teacher, &domain.LessonCreated{Title: "Fractions, week 3"}},
		{10, teacher, &domain.ParticipantJoined{Name: "Ada"}},
		{20, teacher, &domain.LessonStarted{}},
		{30, student, &domain.ParticipantJoined{Name: "Ben"}},
		{100, teacher, &domain.DeckAdded{Deck: deck, Name: "Fractions", Pages: 2}},
		{200, teacher, &domain.SlideChanged{Slide: onDeck(0)}},
		{1000, teacher, &domain.RecordingStarted{}},
		{1500, teacher, &domain.StrokeDrawn{Object: uuid.New(), Slide: onDeck(0), Tool: domain.ToolPen, Color: "#d93025", Width: 6, Points: pts(200, 200, 900, 300, 40)}},
		{2000, student, &domain.ChatPosted{Text: "Is 1/2 more than 1/3?"}},
		{2500, teacher, &domain.ShapeAdded{Object: uuid.New(), Slide: onDeck(0), Shape: domain.ShapeRectangle, From: [2]float64{300, 450}, To: [2]float64{700, 700}, Color: "#1a73e8", Width: 8, Fill: "#fbbc04"}},
		{3000, teacher, &domain.SlideChanged{Slide: onDeck(1)}},
		{3500, teacher, &domain.ShapeAdded{Object: uuid.New(), Slide: onDeck(1), Shape: domain.ShapeEllipse, From: [2]float64{800, 200}, To: [2]float64{1300, 600}, Color: "#188038", Width: 10}},
		{4000, teacher, &domain.FloorGranted{Participant: student}},
		{4500, student, &domain.StrokeDrawn{Object: uuid.New(), Slide: onDeck(1), Tool: domain.ToolHighlighter, Color: "#fbbc04", Width: 30, Points: pts(100, 800, 1500, 750, 60)}},
		{5000, teacher, &domain.ChatPosted{Text: "Yes: draw both."}},
		{5500, teacher, &domain.ShapeAdded{Object: uuid.New(), Slide: onDeck(1), Shape: domain.ShapeArrow, From: [2]float64{200, 300}, To: [2]float64{700, 500}, Color: "#000000", Width: 5}},
		{7000, teacher, &domain.FloorRevoked{Participant: student}},
		{7500, teacher, &domain.SlideChanged{Slide: onDeck(0)}},
		{8000, teacher, &domain.StrokeDrawn{Object: uuid.New(), Slide: onDeck(0), Tool: domain.ToolPen, Color: "#000000cc", Width: 12, Points: pts(1000, 600, 1500, 850, 25)}},
		{9000, teacher, &domain.RecordingStopped{}},
		{9500, teacher, &domain.LessonEnded{}},
	}
	for i, s := range script {
		role := domain.RoleTeacher
		if s.actor == student {
			role = domain.RoleStudent
		}
		e := domain.Event{ID: uuid.New(), Lesson: id, Version: domain.EventVersion, Actor: s.actor, Role: role, Time: at(s.ms), Payload: s.p}
		if _, errs, err := store.Append(ctx, e); err != nil || errs[0] != nil {
			t.Fatalf("append step %d (%T): %v %v", i, s.p, err, errs)
		}
		l.Events = append(l.Events, e)
		if _, ok := s.p.(*domain.DeckAdded); ok {
			if err := store.PutDeck(ctx, id, deck, "Fractions", []eventstore.Page{slidePage(t, 0), slidePage(t, 1)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	l.SlideChanges = []time.Time{at(1000), at(3000), at(7500)}
	l.Titles = []string{"Slide 1 — Fractions", "Slide 2 — Fractions", "Slide 1 — Fractions"}
	l.Moments = []time.Time{at(1200), at(2000), at(2800), at(5200), at(8600)}

	dir := filepath.Join(recordings, id.String())
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	// The teacher's camera for the whole span, the student's from 3 s to
	// 8 s (shown while they have the floor), the teacher's microphone only
	// while the tone plays.
	record(t, dir, id, teacher, "cam", "video", at(1000), at(9000), "testsrc2=size=320x240:rate=15", "-c:v", "libvpx", "-b:v", "300k")
	record(t, dir, id, student, "cam", "video", at(3000), at(8000), "smptebars=size=320x240:rate=15", "-c:v", "libvpx", "-b:v", "300k")
	record(t, dir, id, teacher, "mic", "audio", l.ToneFrom, l.ToneTo, "sine=frequency=440:sample_rate=48000", "-c:a", "libopus", "-ac", "2")
	return l
}

// record writes one recording and its manifest, as the recorder would.
func record(t testing.TB, dir string, lesson uuid.UUID, who, track, kind string, from, to time.Time, source string, codec ...string) {
	t.Helper()
	base := fmt.Sprintf("1-%s-%s", recorder.SafeName(who), recorder.SafeName(track))
	d := to.Sub(from)
	args := append([]string{"-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source, "-t", fmt.Sprintf("%.3f", d.Seconds())}, codec...)
	args = append(args, filepath.Join(dir, base+".webm"))
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", base, err, out)
	}
	codecName := "video/VP8"
	if kind == "audio" {
		codecName = "audio/opus"
	}
	end := to
	r := recorder.Recording{File: base + ".webm", Lesson: lesson.String(), Segment: 1, Participant: who, Track: track,
		Kind: kind, Codec: codecName, Start: from, End: &end, DurationMS: d.Milliseconds(), Frames: int64(d.Seconds() * 15)}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, base+".json"), b, 0o640); err != nil {
		t.Fatal(err)
	}
}

// slidePage is a page of the deck: a coloured band and a frame, so that
// its placement under the board shows.
func slidePage(t testing.TB, n int) eventstore.Page {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 800, 600)) // 4:3, letterboxed on the 16:9 board
	bands := []color.RGBA{{0xe8, 0xf0, 0xfe, 0xff}, {0xfc, 0xe8, 0xe6, 0xff}}
	for y := 0; y < 600; y++ {
		for x := 0; x < 800; x++ {
			c := color.RGBA{0xff, 0xff, 0xff, 0xff}
			switch {
			case x < 20 || y < 20 || x >= 780 || y >= 580:
				c = color.RGBA{0x5f, 0x63, 0x68, 0xff}
			case y < 150:
				c = bands[n%2]
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return eventstore.Page{ContentType: eventstore.PNG, Data: b.Bytes()}
}

// Frame decodes the frame of the video at path shown d into it (30 ms in,
// inside a frame at up to 30 frames a second, not on its edge), as a
// w × h picture.
func Frame(t testing.TB, path string, d time.Duration, w, h int) *image.RGBA {
	t.Helper()
	at := d + 30*time.Millisecond
	b, err := exec.Command("ffmpeg", "-v", "error", "-ss", fmt.Sprintf("%.4f", at.Seconds()), "-i", path,
		"-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgba", "-").Output()
	if err != nil {
		t.Fatalf("decode the frame at %v: %v", d, err)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	if len(b) != len(img.Pix) {
		t.Fatalf("the frame at %v has %d bytes, want %d", d, len(b), len(img.Pix))
	}
	copy(img.Pix, b)
	return img
}
