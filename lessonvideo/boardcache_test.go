package lessonvideo

import (
	"bytes"
	"image"
	"math"
	"testing"

	"github.com/google/uuid"

	"classroom/domain"
)

// TestBoardCachePaintsAsPaint draws a board change by change (strokes in
// parts, two drawers at once, a highlighter over a stroke, an erase, an
// undo, a redo, a clear, another slide and back) through one cache and
// checks every frame against the whole board painted anew: the pixels
// must be the same to the byte.
func TestBoardCachePaintsAsPaint(t *testing.T) {
	p, err := NewBoardPainter()
	if err != nil {
		t.Fatal(err)
	}
	r := image.Rect(10, 6, 10+480, 6+270)
	s := domain.NewState()
	s.Apply(domain.Event{Seq: 1, Actor: "ada", Role: domain.RoleTeacher, Version: domain.EventVersion, Payload: &domain.LessonCreated{Title: "Cache"}})
	s.Apply(domain.Event{Seq: 2, Actor: "ada", Role: domain.RoleTeacher, Version: domain.EventVersion, Payload: &domain.LessonStarted{}})
	var cache boardCache
	cached := image.NewRGBA(image.Rect(0, 0, 500, 290))
	fresh := image.NewRGBA(cached.Rect)
	slide := domain.Slide{}
	seq := int64(2)
	apply := func(actor string, pl domain.Payload) {
		seq++
		s.Apply(domain.Event{ID: uuid.New(), Seq: seq, Actor: actor, Role: domain.RoleTeacher, Version: domain.EventVersion, Payload: pl})
		if s.Seq != seq {
			t.Fatalf("event %d (%T) was not applied", seq, pl)
		}
		cache.paint(p, cached, r, slide.Key(), s.Board(slide), nil)
		p.Paint(fresh, r, s.Board(slide), nil)
		if !bytes.Equal(cached.Pix, fresh.Pix) {
			t.Fatalf("after event %d (%T) the cached board differs from the board painted anew", seq, pl)
		}
	}
	part := func(from, n int, y float64) domain.Points {
		var pts domain.Points
		for i := from; i < from+n; i++ {
			pts = append(pts, domain.Point{X: 100 + 20*float64(i), Y: y + 30*math.Sin(float64(i)/3), T: int64(i), Pressure: 0.5})
		}
		return pts
	}
	a, b, hl := uuid.New(), uuid.New(), uuid.New()
	for k := range 4 { // two drawers, their strokes growing in turns
		apply("ada", &domain.StrokeDrawn{Object: a, Slide: slide, Part: k, Color: "#1a73e8", Width: 4, Points: part(5*k, 5, 200)})
		apply("bob", &domain.StrokeDrawn{Object: b, Slide: slide, Part: k, Color: "#d93025", Width: 6, Points: part(5*k, 5, 400)})
	}
	apply("ada", &domain.StrokeDrawn{Object: hl, Slide: slide, Tool: "highlighter", Color: "#fbbc04", Width: 30, Points: part(0, 20, 300)})
	apply("ada", &domain.ShapeAdded{Object: uuid.New(), Slide: slide, Shape: "ellipse", Color: "#188038", Width: 3, From: [2]float64{300, 300}, To: [2]float64{700, 600}})
	apply("ada", &domain.ObjectsErased{Slide: slide, Objects: []uuid.UUID{a}})
	apply("ada", &domain.BoardUndone{Slide: slide})
	apply("ada", &domain.BoardRedone{Slide: slide})
	apply("ada", &domain.StrokeDrawn{Object: uuid.New(), Slide: slide, Color: "#000000", Width: 2, Points: part(0, 30, 700)})
	apply("ada", &domain.BoardCleared{Slide: slide})
	apply("ada", &domain.StrokeDrawn{Object: uuid.New(), Slide: slide, Color: "#000000", Width: 2, Points: part(3, 12, 100)})
	other := domain.Slide{Page: 1}
	slide = other
	apply("ada", &domain.StrokeDrawn{Object: uuid.New(), Slide: other, Color: "#000000", Width: 2, Points: part(0, 12, 500)})
	slide = domain.Slide{}
	apply("ada", &domain.StrokeDrawn{Object: uuid.New(), Slide: slide, Color: "#000000", Width: 8, Points: part(1, 12, 600)})
	if n := len(s.Board(slide).Visible()); n != 2 {
		t.Fatalf("the board ends with %d visible objects, want 2 (the script went wrong)", n)
	}
}
