package domain

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// deckPage is page n of the three-page deck that addDeck adds.
func deckPage(n int) Slide { return Slide{Deck: id("deck"), Page: n} }

func addDeck(p *play) { p.teacher(&DeckAdded{Deck: id("deck"), Name: "Chapter 1", Pages: 3}) }

func TestStudentCannotDoTeacherThings(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(p *play)
		payload Payload
	}{
		{"start the lesson", nil, &LessonStarted{}},
		{"change the slide", addDeck, &SlideChanged{Slide: deckPage(1)}},
		{"clear the board", func(p *play) { p.teacher(dot("t1", whiteboard)) }, &BoardCleared{Slide: whiteboard}},
		{"grant the floor to someone else", nil, &FloorGranted{Participant: bob}},
		{"grant the floor to themselves", nil, &FloorGranted{Participant: ann}},
		{"revoke someone else's floor", func(p *play) { p.teacher(&FloorGranted{Participant: bob}) }, &FloorRevoked{Participant: bob}},
		{"end the lesson", nil, &LessonEnded{}},
		{"add a deck", nil, &DeckAdded{Deck: id("deck"), Name: "Mine", Pages: 2}},
		{"start recording", nil, &RecordingStarted{}},
		{"stop recording", func(p *play) { p.teacher(&RecordingStarted{}) }, &RecordingStopped{}},
		{"allow drawing lesson-wide", func(p *play) { p.teacher(&DrawingPermitted{Allowed: false}) }, &DrawingPermitted{Allowed: true}},
		{"forbid drawing lesson-wide", nil, &DrawingPermitted{Allowed: false}}, // allowed below, for every case
		{"allow themselves to draw", nil, &DrawingPermitted{Participant: ann, Allowed: true}},
		{"forbid another student to draw", nil, &DrawingPermitted{Participant: bob, Allowed: false}},
		{"lower another student's hand", func(p *play) { p.student(bob, &HandRaised{}) }, &HandLowered{Participant: bob}},
		{"switch the lobby on", nil, &LobbyChanged{On: true}},
		{"lock the lesson", nil, &LessonLocked{Locked: true}},
		{"admit a waiting student", waitingCat, &ParticipantAdmitted{Participant: cat}},
		{"admit everyone waiting", waitingCat, &ParticipantAdmitted{}},
		{"deny a waiting student", waitingCat, &ParticipantDenied{Participant: cat}},
		{"remove another student", nil, &ParticipantRemoved{Participant: bob}},
		{"remove themselves", nil, &ParticipantRemoved{Participant: ann}},
		{"mute another student", nil, &MediaMuted{Participant: bob, Audio: true}},
		{"mute everyone", nil, &MediaMuted{Video: true}},
		{"ask for an unmute", func(p *play) { p.teacher(&MediaMuted{Participant: bob, Audio: true}) }, &UnmuteAsked{Participant: bob}},
		{"switch the chat off", nil, &ChatPermitted{Allowed: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPlay(t)
			p.must(teacher, RoleTeacher, &ParticipantJoined{Name: "Tina"})
			p.must(ann, RoleStudent, &ParticipantJoined{Name: "Ann"})
			p.must(bob, RoleStudent, &ParticipantJoined{Name: "Bob"})
			if _, ok := tt.payload.(*LessonStarted); !ok {
				p.teacher(&LessonStarted{})
			}
			// Even a student allowed to draw is not a teacher.
			p.teacher(&DrawingPermitted{Allowed: true})
			if tt.setup != nil {
				tt.setup(p)
			}
			p.refuseStudent(CodeForbidden, ann, tt.payload)
			// The refusal was about the role: the teacher may do it.
			p.teacher(tt.payload)
		})
	}
}

// waitingCat switches the lobby on and has cat wait in it.
func waitingCat(p *play) {
	p.teacher(&LobbyChanged{On: true})
	p.student(cat, &ParticipantWaiting{Name: "Cat"})
}

func TestDrawingPermission(t *testing.T) {
	drawings := func(who string) []Payload {
		return []Payload{dot(who+"-s", whiteboard), rect(who+"-r", whiteboard), label(who+"-t", whiteboard, "hi")}
	}

	t.Run("students cannot draw by default", func(t *testing.T) {
		p := newLive(t, ann)
		if p.st.DrawingAllowed || p.st.CanDraw(ann) {
			t.Fatal("a student may draw in a new lesson")
		}
		for _, d := range drawings(ann) {
			p.refuseStudent(CodeForbidden, ann, d)
		}
		p.teacher(dot("t1", whiteboard))
		p.refuseStudent(CodeForbidden, ann, erase(whiteboard, "t1"))
		p.refuseStudent(CodeForbidden, ann, &BoardUndone{Slide: whiteboard})
		p.refuseStudent(CodeForbidden, ann, &BoardRedone{Slide: whiteboard})
	})

	t.Run("the teacher always can", func(t *testing.T) {
		p := newLive(t, ann)
		p.teacher(&DrawingPermitted{Allowed: true})
		p.teacher(&DrawingPermitted{Allowed: false})
		if !p.st.CanDraw(teacher) {
			t.Fatal("CanDraw(teacher) = false")
		}
		for _, d := range drawings(teacher) {
			p.teacher(d)
		}
	})

	t.Run("lesson-wide permission lets every student draw", func(t *testing.T) {
		p := newLive(t, ann, bob)
		ev := p.teacher(&DrawingPermitted{Allowed: true})
		if ev.Kind() != KindDrawingPermitted || !p.st.DrawingAllowed {
			t.Fatalf("event %s, DrawingAllowed %v", ev.Kind(), p.st.DrawingAllowed)
		}
		for _, who := range []string{ann, bob} {
			for _, d := range drawings(who) {
				p.student(who, d)
			}
		}
		p.teacher(&DrawingPermitted{Allowed: false})
		p.refuseStudent(CodeForbidden, ann, dot("late", whiteboard))
	})

	t.Run("one student denied while lesson-wide allowed", func(t *testing.T) {
		p := newLive(t, ann, bob)
		p.teacher(&DrawingPermitted{Allowed: true})
		p.teacher(&DrawingPermitted{Participant: bob, Allowed: false})
		if !p.st.CanDraw(ann) || p.st.CanDraw(bob) {
			t.Fatalf("CanDraw ann=%v bob=%v, want true false", p.st.CanDraw(ann), p.st.CanDraw(bob))
		}
		p.student(ann, dot("a1", whiteboard))
		p.refuseStudent(CodeForbidden, bob, dot("b1", whiteboard))
		// The override outlives changes of the default.
		p.teacher(&DrawingPermitted{Allowed: false})
		p.teacher(&DrawingPermitted{Allowed: true})
		p.refuseStudent(CodeForbidden, bob, dot("b1", whiteboard))
		// Until it is replaced.
		p.teacher(&DrawingPermitted{Participant: bob, Allowed: true})
		p.student(bob, dot("b1", whiteboard))
	})

	t.Run("one student allowed while lesson-wide denied", func(t *testing.T) {
		p := newLive(t, ann, bob)
		p.teacher(&DrawingPermitted{Participant: ann, Allowed: true})
		if got := p.st.Participants[ann].Drawing; got == nil || !*got {
			t.Fatalf("ann's override is %v", got)
		}
		for _, d := range drawings(ann) {
			p.student(ann, d)
		}
		p.refuseStudent(CodeForbidden, bob, dot("b1", whiteboard))
		p.student(ann, &BoardUndone{Slide: whiteboard})
		p.student(ann, &BoardRedone{Slide: whiteboard})
	})

	t.Run("losing the permission stops undo and erase too", func(t *testing.T) {
		p := newLive(t, ann)
		p.teacher(&DrawingPermitted{Participant: ann, Allowed: true})
		p.student(ann, dot("a1", whiteboard))
		p.teacher(&DrawingPermitted{Participant: ann, Allowed: false})
		p.refuseStudent(CodeForbidden, ann, &BoardUndone{Slide: whiteboard})
		p.refuseStudent(CodeForbidden, ann, erase(whiteboard, "a1"))
		p.refuseStudent(CodeForbidden, ann, segment("a1", whiteboard, 1, line(1, 5)))
	})

	t.Run("permission targets", func(t *testing.T) {
		p := newLive(t, ann)
		p.refuseTeacher(CodeNotFound, &DrawingPermitted{Participant: "nobody", Allowed: true})
		p.refuseTeacher(CodeInvalid, &DrawingPermitted{Participant: teacher, Allowed: true})
		p.refuseTeacher(CodeInvalid, &DrawingPermitted{Participant: strings.Repeat("x", MaxIDBytes+1), Allowed: true})
		if p.st.CanDraw("nobody") {
			t.Fatal("CanDraw of an unknown participant is true")
		}
		// A student who left keeps their override for when they come back.
		p.student(ann, &ParticipantLeft{})
		p.teacher(&DrawingPermitted{Participant: ann, Allowed: true})
		p.student(ann, &ParticipantJoined{Name: "Ann"})
		p.student(ann, dot("a1", whiteboard))
	})
}

func TestStrokeSegments(t *testing.T) {
	t.Run("parts append points and only part 0 carries the style", func(t *testing.T) {
		p := newLive(t, ann)
		p.teacher(&DrawingPermitted{Allowed: true})
		first := p.student(ann, pen("s", whiteboard, line(3, 0)))
		p.student(ann, segment("s", whiteboard, 1, line(2, 10)))
		p.student(ann, segment("s", whiteboard, 2, line(4, 20)))
		o := p.object(whiteboard, "s")
		want := slices.Concat(line(3, 0), line(2, 10), line(4, 20))
		if !slices.Equal(o.Points, want) {
			t.Fatalf("points %v, want %v", o.Points, want)
		}
		if o.Parts != 3 || o.Kind != ObjectStroke || o.Owner != ann || o.Seq != first.Seq ||
			o.Tool != ToolPen || o.Color != "#112233" || o.Width != 2 {
			t.Fatalf("object %+v", *o)
		}
		// Continuing adds no undo step: one undo hides the whole stroke.
		if h := p.st.Board(whiteboard).History[ann]; len(h.Undo) != 1 {
			t.Fatalf("undo stack %+v", h.Undo)
		}
		p.refuseStudent(CodeInvalid, ann, &StrokeDrawn{Object: id("s"), Part: 3, Color: "#000000", Points: line(1, 30)})
		p.refuseStudent(CodeInvalid, ann, &StrokeDrawn{Object: id("s"), Part: 3, Tool: ToolPen, Points: line(1, 30)})
		p.refuseStudent(CodeInvalid, ann, &StrokeDrawn{Object: id("s"), Part: 3, Width: 1, Points: line(1, 30)})
	})

	t.Run("parts come in order", func(t *testing.T) {
		p := newLive(t, ann)
		p.teacher(pen("s", whiteboard, line(2, 0)))
		p.refuseTeacher(CodeConflict, segment("s", whiteboard, 2, line(1, 5)))
		p.teacher(segment("s", whiteboard, 1, line(1, 5)))
		p.refuseTeacher(CodeConflict, segment("s", whiteboard, 1, line(1, 6))) // a resent part
		p.refuseTeacher(CodeConflict, pen("s", whiteboard, line(1, 7)))        // part 0 again
		p.refuseTeacher(CodeNotFound, segment("nope", whiteboard, 1, line(1, 5)))
		p.refuseTeacher(CodeNotFound, segment("s", deckPageWithoutDeck(), 1, line(1, 5)))
		p.refuseTeacher(CodeNotFound, segment("s", Slide{Page: 1}, 1, line(1, 5))) // other slide
	})

	t.Run("only the owner continues a stroke", func(t *testing.T) {
		p := newLive(t, ann, bob)
		p.teacher(&DrawingPermitted{Allowed: true})
		p.teacher(pen("t1", whiteboard, line(2, 0)))
		p.student(ann, pen("a1", whiteboard, line(2, 0)))
		p.refuseStudent(CodeForbidden, ann, segment("t1", whiteboard, 1, line(1, 5)))
		p.refuseStudent(CodeForbidden, bob, segment("a1", whiteboard, 1, line(1, 5)))
		p.refuseTeacher(CodeForbidden, segment("a1", whiteboard, 1, line(1, 5)))
		// A shape is not a stroke, even one's own.
		p.student(ann, rect("shape", whiteboard))
		p.refuseStudent(CodeForbidden, ann, segment("shape", whiteboard, 1, line(1, 5)))
	})

	t.Run("object ids are per slide", func(t *testing.T) {
		p := newLive(t)
		p.teacher(dot("s", whiteboard))
		p.teacher(dot("s", Slide{Page: 1}))
		p.refuseTeacher(CodeConflict, rect("s", whiteboard))
		p.refuseTeacher(CodeConflict, label("s", Slide{Page: 1}, "x"))
	})

	t.Run("MaxObjectPoints", func(t *testing.T) {
		p := newLive(t)
		p.teacher(pen("s", whiteboard, line(MaxStrokePoints, 0)))
		parts := MaxObjectPoints / MaxStrokePoints
		for part := 1; part < parts; part++ {
			p.teacher(segment("s", whiteboard, part, line(MaxStrokePoints, int64(part*MaxStrokePoints))))
		}
		o := p.object(whiteboard, "s")
		if len(o.Points) != MaxObjectPoints || o.Parts != parts {
			t.Fatalf("%d points in %d parts", len(o.Points), o.Parts)
		}
		p.refuseTeacher(CodeInvalid, segment("s", whiteboard, parts, line(1, MaxObjectPoints)))
	})
}

// deckPageWithoutDeck is a slide of a deck nobody added.
func deckPageWithoutDeck() Slide { return Slide{Deck: id("no-such-deck"), Page: 0} }

func TestShapesAndText(t *testing.T) {
	p := newLive(t, ann)
	for i, shape := range []string{ShapeLine, ShapeArrow, ShapeRectangle, ShapeEllipse} {
		name := fmt.Sprintf("shape-%d", i)
		sh := rect(name, whiteboard)
		sh.Shape = shape
		if i%2 == 0 {
			sh.Fill = "#00ff0080"
		}
		p.teacher(sh)
		o := p.object(whiteboard, name)
		if o.Kind != ObjectShape || o.Shape != shape || o.From != sh.From || o.To != sh.To ||
			o.Color != sh.Color || o.Fill != sh.Fill || o.Width != sh.Width || o.Owner != teacher {
			t.Fatalf("shape object %+v from %+v", *o, *sh)
		}
	}
	p.teacher(label("text", whiteboard, "½ + ¼ = ¾"))
	if o := p.object(whiteboard, "text"); o.Kind != ObjectText || o.Text != "½ + ¼ = ¾" || o.At != [2]float64{5, 6} || o.Size != 14 {
		t.Fatalf("text object %+v", *o)
	}
	p.teacher(label("long", whiteboard, strings.Repeat("é", MaxTextRunes)))
	p.refuseTeacher(CodeInvalid, label("longer", whiteboard, strings.Repeat("é", MaxTextRunes+1)))
	p.refuseTeacher(CodeInvalid, label("empty", whiteboard, ""))
	p.refuseTeacher(CodeInvalid, label("utf8", whiteboard, "a\xffb"))
	p.refuseTeacher(CodeConflict, label("text", whiteboard, "again"))
	p.refuseTeacher(CodeConflict, rect("shape-0", whiteboard))
	bad := rect("bad", whiteboard)
	bad.Shape = "triangle"
	p.refuseTeacher(CodeInvalid, bad)
	p.refuseTeacher(CodeNotFound, rect("nowhere", deckPageWithoutDeck()))
}

func TestErase(t *testing.T) {
	p := newLive(t, ann, bob)
	p.teacher(&DrawingPermitted{Allowed: true})
	p.teacher(dot("t1", whiteboard))
	p.student(ann, dot("a1", whiteboard))
	p.student(ann, rect("a2", whiteboard))
	p.student(bob, label("b1", whiteboard, "bob"))

	p.refuseStudent(CodeForbidden, ann, erase(whiteboard, "t1"))
	p.refuseStudent(CodeForbidden, ann, erase(whiteboard, "b1"))
	p.refuseStudent(CodeForbidden, bob, erase(whiteboard, "a1"))
	// One foreign object spoils the whole erase.
	p.refuseStudent(CodeForbidden, ann, erase(whiteboard, "a1", "b1"))
	p.refuseStudent(CodeNotFound, ann, erase(whiteboard, "a1", "nope"))
	p.refuseStudent(CodeNotFound, ann, erase(Slide{Page: 4}, "a1")) // a board nobody drew on
	p.refuseStudent(CodeInvalid, ann, &ObjectsErased{Slide: whiteboard})
	p.wantVisible(whiteboard, "t1", "a1", "a2", "b1")

	p.student(ann, erase(whiteboard, "a1", "a2"))
	p.wantVisible(whiteboard, "t1", "b1")
	p.refuseStudent(CodeConflict, ann, erase(whiteboard, "a1"))
	p.refuseStudent(CodeConflict, ann, erase(whiteboard, "a1", "a2", "a1"))

	// The teacher erases anyone's drawing, hidden objects in the list are fine.
	p.teacher(erase(whiteboard, "b1", "a1"))
	p.wantVisible(whiteboard, "t1")
	if h := p.st.Board(whiteboard).History[teacher]; len(h.Undo) != 2 ||
		!slices.Equal(h.Undo[1].Objects, []uuid.UUID{id("b1")}) || h.Undo[1].Op != ActionErase {
		t.Fatalf("teacher's erase recorded as %+v", h.Undo)
	}
	p.teacher(erase(whiteboard, "t1"))
	p.wantVisible(whiteboard)
	// Erased objects stay on the board, hidden.
	if n := len(p.st.Board(whiteboard).Objects); n != 4 {
		t.Fatalf("%d objects on the board, want 4", n)
	}

	many := make([]string, MaxEraseObjects+1)
	for i := range many {
		many[i] = "a1"
	}
	p.refuseTeacher(CodeInvalid, erase(whiteboard, many...))
}

func TestUndoRedo(t *testing.T) {
	t.Run("each participant undoes their own actions", func(t *testing.T) {
		p := newLive(t, ann, bob)
		p.teacher(&DrawingPermitted{Allowed: true})
		p.refuseStudent(CodeConflict, ann, &BoardUndone{Slide: whiteboard}) // no board yet
		p.refuseStudent(CodeConflict, ann, &BoardRedone{Slide: whiteboard})
		p.teacher(dot("t1", whiteboard))
		p.student(ann, dot("a1", whiteboard))
		p.student(ann, dot("a2", whiteboard))
		p.teacher(dot("t2", whiteboard))
		p.refuseStudent(CodeConflict, bob, &BoardUndone{Slide: whiteboard})

		p.student(ann, &BoardUndone{Slide: whiteboard}) // a2, though t2 came later
		p.wantVisible(whiteboard, "t1", "a1", "t2")
		p.student(ann, &BoardUndone{Slide: whiteboard})
		p.wantVisible(whiteboard, "t1", "t2")
		p.refuseStudent(CodeConflict, ann, &BoardUndone{Slide: whiteboard})

		p.student(ann, &BoardRedone{Slide: whiteboard}) // a1 again
		p.wantVisible(whiteboard, "t1", "a1", "t2")
		p.teacher(&BoardUndone{Slide: whiteboard}) // t2, not ann's
		p.wantVisible(whiteboard, "t1", "a1")

		// A new action forgets the redo stack of its actor only.
		p.student(ann, dot("a3", whiteboard))
		p.refuseStudent(CodeConflict, ann, &BoardRedone{Slide: whiteboard})
		p.teacher(&BoardRedone{Slide: whiteboard})
		p.wantVisible(whiteboard, "t1", "a1", "t2", "a3")
		p.refuseTeacher(CodeConflict, &BoardRedone{Slide: whiteboard})
	})

	t.Run("undo of an erase restores the drawing order", func(t *testing.T) {
		p := newLive(t, ann)
		p.teacher(&DrawingPermitted{Allowed: true})
		p.student(ann, dot("a", whiteboard))
		p.student(ann, rect("b", whiteboard))
		p.student(ann, label("c", whiteboard, "c"))
		p.student(ann, erase(whiteboard, "b"))
		p.teacher(dot("d", whiteboard))
		p.wantVisible(whiteboard, "a", "c", "d")
		p.student(ann, &BoardUndone{Slide: whiteboard})
		p.wantVisible(whiteboard, "a", "b", "c", "d")
		p.student(ann, &BoardRedone{Slide: whiteboard})
		p.wantVisible(whiteboard, "a", "c", "d")
		p.student(ann, &BoardUndone{Slide: whiteboard})
		p.student(ann, &BoardUndone{Slide: whiteboard}) // the add of c
		p.wantVisible(whiteboard, "a", "b", "d")
	})

	t.Run("undo of the teacher's erase of a student's drawing", func(t *testing.T) {
		p := newLive(t, ann)
		p.teacher(&DrawingPermitted{Allowed: true})
		p.student(ann, dot("a", whiteboard))
		p.student(ann, dot("b", whiteboard))
		p.teacher(erase(whiteboard, "a"))
		p.refuseStudent(CodeConflict, ann, erase(whiteboard, "a")) // already erased
		p.teacher(&BoardUndone{Slide: whiteboard})
		p.wantVisible(whiteboard, "a", "b")
	})

	t.Run("history is per slide", func(t *testing.T) {
		p := newLive(t, ann)
		p.teacher(&DrawingPermitted{Allowed: true})
		p.student(ann, dot("a", whiteboard))
		p.student(ann, dot("b", Slide{Page: 1}))
		p.student(ann, &BoardUndone{Slide: whiteboard})
		p.wantVisible(whiteboard)
		p.wantVisible(Slide{Page: 1}, "b")
		p.refuseStudent(CodeConflict, ann, &BoardUndone{Slide: whiteboard})
		p.refuseStudent(CodeConflict, ann, &BoardUndone{Slide: Slide{Page: 2}})
		p.refuseStudent(CodeNotFound, ann, &BoardUndone{Slide: deckPageWithoutDeck()})
	})

	t.Run("the undo stack is bounded", func(t *testing.T) {
		p := newLive(t)
		n := MaxUndoDepth + 5
		for i := range n {
			p.teacher(dot(fmt.Sprint("o", i), whiteboard))
		}
		if got := len(p.st.Board(whiteboard).History[teacher].Undo); got != MaxUndoDepth {
			t.Fatalf("undo stack has %d actions, want %d", got, MaxUndoDepth)
		}
		for range MaxUndoDepth {
			p.teacher(&BoardUndone{Slide: whiteboard})
		}
		p.refuseTeacher(CodeConflict, &BoardUndone{Slide: whiteboard})
		// The oldest five are beyond undo and still visible.
		if got := len(p.visible(whiteboard)); got != 5 {
			t.Fatalf("%d objects visible, want 5", got)
		}
		if got := p.st.Board(whiteboard).Visible()[4].ID; got != id("o4") {
			t.Fatalf("the last visible object is %v, want o4", got)
		}
	})
}

func TestClearBoard(t *testing.T) {
	p := newLive(t, ann)
	p.teacher(&DrawingPermitted{Allowed: true})
	p.teacher(dot("t1", whiteboard))
	p.student(ann, dot("a1", whiteboard))
	p.student(ann, dot("a2", whiteboard))
	p.student(ann, erase(whiteboard, "a2"))
	p.teacher(dot("t2", whiteboard))
	p.student(ann, dot("b", Slide{Page: 1}))

	p.teacher(&BoardCleared{Slide: whiteboard})
	p.wantVisible(whiteboard)
	p.wantVisible(Slide{Page: 1}, "b") // another slide keeps its drawing
	// The student cannot undo the teacher's clear: their undo is of their own
	// last action, the erase of a2, which shows a2 alone.
	p.student(ann, &BoardUndone{Slide: whiteboard})
	p.wantVisible(whiteboard, "a2")
	p.student(ann, &BoardRedone{Slide: whiteboard})
	p.wantVisible(whiteboard)

	// The teacher's undo brings back what the clear hid, in order, and not the
	// object ann had erased before.
	p.teacher(&BoardUndone{Slide: whiteboard})
	p.wantVisible(whiteboard, "t1", "a1", "t2")
	p.teacher(&BoardRedone{Slide: whiteboard})
	p.wantVisible(whiteboard)
	p.teacher(&BoardUndone{Slide: whiteboard})
	p.wantVisible(whiteboard, "t1", "a1", "t2")

	p.refuseTeacher(CodeNotFound, &BoardCleared{Slide: deckPageWithoutDeck()})
	p.refuseTeacher(CodeInvalid, &BoardCleared{Slide: Slide{Page: -1}})
}

func TestEachSlideHasItsOwnBoard(t *testing.T) {
	p := newLive(t, ann)
	addDeck(p)
	p.teacher(dot("a", whiteboard))
	p.teacher(&SlideChanged{Slide: deckPage(1)})
	p.teacher(dot("b", deckPage(1)))
	p.teacher(dot("c", deckPage(2))) // a slide nobody looks at yet
	p.teacher(dot("d", Slide{Page: MaxWhiteboardPages - 1}))
	p.wantVisible(whiteboard, "a")
	p.wantVisible(deckPage(1), "b")
	p.wantVisible(deckPage(2), "c")
	p.wantVisible(deckPage(0))
	if len(p.st.Boards) != 4 {
		t.Fatalf("%d boards, want 4", len(p.st.Boards))
	}
	p.teacher(&BoardCleared{Slide: deckPage(1)})
	p.wantVisible(deckPage(1))
	p.wantVisible(whiteboard, "a")
	p.wantVisible(deckPage(2), "c")

	p.refuseTeacher(CodeNotFound, dot("e", deckPageWithoutDeck()))
	p.refuseTeacher(CodeNotFound, dot("e", deckPage(3)))
	p.refuseTeacher(CodeInvalid, dot("e", Slide{Page: MaxWhiteboardPages}))
	p.refuseTeacher(CodeInvalid, dot("e", Slide{Page: -1}))
}

func TestDecksAndSlides(t *testing.T) {
	p := newLive(t, ann)
	if p.st.Slide != whiteboard {
		t.Fatalf("a new lesson shows %+v", p.st.Slide)
	}
	p.refuseTeacher(CodeConflict, &SlideChanged{Slide: whiteboard})
	p.refuseTeacher(CodeNotFound, &SlideChanged{Slide: deckPage(0)})
	addDeck(p)
	if len(p.st.Decks) != 1 || p.st.Decks[0] != (Deck{ID: id("deck"), Name: "Chapter 1", Pages: 3}) {
		t.Fatalf("decks %+v", p.st.Decks)
	}
	p.refuseTeacher(CodeConflict, &DeckAdded{Deck: id("deck"), Name: "Again", Pages: 1})
	p.refuseTeacher(CodeNotFound, &SlideChanged{Slide: deckPageWithoutDeck()})
	p.refuseTeacher(CodeNotFound, &SlideChanged{Slide: deckPage(3)})
	p.refuseTeacher(CodeInvalid, &SlideChanged{Slide: deckPage(-1)})
	p.refuseTeacher(CodeInvalid, &SlideChanged{Slide: Slide{Deck: id("deck"), Page: MaxDeckPages}})

	p.teacher(&SlideChanged{Slide: deckPage(2)})
	if p.st.Slide != deckPage(2) {
		t.Fatalf("slide %+v", p.st.Slide)
	}
	p.refuseTeacher(CodeConflict, &SlideChanged{Slide: deckPage(2)})
	p.teacher(&SlideChanged{Slide: Slide{Page: 7}})
	p.teacher(&SlideChanged{Slide: deckPage(0)})

	for _, bad := range []*DeckAdded{
		{Deck: uuid.Nil, Name: "x", Pages: 1},
		{Deck: id("d"), Name: "", Pages: 1},
		{Deck: id("d"), Name: strings.Repeat("n", MaxNameRunes+1), Pages: 1},
		{Deck: id("d"), Name: "x", Pages: 0},
		{Deck: id("d"), Name: "x", Pages: MaxDeckPages + 1},
	} {
		p.refuseTeacher(CodeInvalid, bad)
	}
	p.teacher(&DeckAdded{Deck: id("big"), Name: strings.Repeat("n", MaxNameRunes), Pages: MaxDeckPages})
	p.teacher(&SlideChanged{Slide: Slide{Deck: id("big"), Page: MaxDeckPages - 1}})

	for i := len(p.st.Decks); i < MaxDecks; i++ {
		p.teacher(&DeckAdded{Deck: id(fmt.Sprint("deck-", i)), Name: "d", Pages: 1})
	}
	p.refuseTeacher(CodeConflict, &DeckAdded{Deck: id("one-too-many"), Name: "d", Pages: 1})
}

func TestHands(t *testing.T) {
	p := newLive(t, ann, bob, cat)
	wantHands := func(want ...string) {
		t.Helper()
		if !slices.Equal(p.st.Hands, want) {
			t.Fatalf("hands %q, want %q", p.st.Hands, want)
		}
	}
	p.student(ann, &HandRaised{})
	p.student(bob, &HandRaised{})
	p.student(cat, &HandRaised{})
	wantHands(ann, bob, cat)
	p.refuseStudent(CodeConflict, ann, &HandRaised{})
	p.refuseTeacher(CodeForbidden, &HandRaised{})
	p.refuseStudent(CodeForbidden, bob, &HandLowered{Participant: cat})
	p.refuseStudent(CodeInvalid, bob, &HandLowered{})

	p.student(bob, &HandLowered{Participant: bob})
	wantHands(ann, cat)
	p.refuseStudent(CodeConflict, bob, &HandLowered{Participant: bob})
	p.student(bob, &HandRaised{}) // back at the end of the queue
	wantHands(ann, cat, bob)
	p.teacher(&HandLowered{Participant: cat})
	wantHands(ann, bob)
	p.refuseTeacher(CodeConflict, &HandLowered{Participant: cat})
	p.refuseTeacher(CodeConflict, &HandLowered{Participant: "nobody"})
}

func TestFloor(t *testing.T) {
	p := newLive(t, ann, bob, cat)
	p.student(ann, &HandRaised{})
	p.student(bob, &HandRaised{})
	p.student(cat, &HandRaised{})

	p.teacher(&FloorGranted{Participant: bob})
	if p.st.Floor != bob || !slices.Equal(p.st.Hands, []string{ann, cat}) {
		t.Fatalf("floor %q hands %q", p.st.Floor, p.st.Hands)
	}
	p.refuseStudent(CodeConflict, bob, &HandRaised{})
	p.refuseTeacher(CodeConflict, &FloorGranted{Participant: bob})
	p.refuseTeacher(CodeNotFound, &FloorGranted{Participant: "nobody"})
	p.refuseTeacher(CodeInvalid, &FloorGranted{Participant: teacher})
	p.refuseTeacher(CodeInvalid, &FloorGranted{})

	// Someone who is not the holder cannot give it back.
	p.refuseStudent(CodeConflict, ann, &FloorRevoked{Participant: ann})
	p.refuseStudent(CodeForbidden, ann, &FloorRevoked{Participant: bob})
	p.refuseTeacher(CodeConflict, &FloorRevoked{Participant: ann})

	// The floor passes to cat; the teacher takes it back.
	p.teacher(&FloorGranted{Participant: cat})
	if p.st.Floor != cat || !slices.Equal(p.st.Hands, []string{ann}) {
		t.Fatalf("floor %q hands %q", p.st.Floor, p.st.Hands)
	}
	p.student(bob, &HandRaised{})
	p.teacher(&FloorRevoked{Participant: cat})
	if p.st.Floor != "" {
		t.Fatalf("floor %q after revoke", p.st.Floor)
	}
	// A holder gives the floor back themselves.
	p.teacher(&FloorGranted{Participant: ann})
	p.student(ann, &FloorRevoked{Participant: ann})
	if p.st.Floor != "" || !slices.Equal(p.st.Hands, []string{bob}) {
		t.Fatalf("floor %q hands %q", p.st.Floor, p.st.Hands)
	}

	// Only a present student gets the floor.
	p.student(cat, &ParticipantLeft{})
	p.refuseTeacher(CodeNotFound, &FloorGranted{Participant: cat})
}

func TestLeavingDropsHandAndFloor(t *testing.T) {
	p := newLive(t, ann, bob, cat)
	p.student(ann, &HandRaised{})
	p.student(cat, &HandRaised{})
	p.teacher(&FloorGranted{Participant: bob})

	p.student(ann, &ParticipantLeft{})
	p.student(bob, &ParticipantLeft{})
	if p.st.Floor != "" || !slices.Equal(p.st.Hands, []string{cat}) {
		t.Fatalf("floor %q hands %q", p.st.Floor, p.st.Hands)
	}
	if pt := p.st.Participants[ann]; pt == nil || pt.Present || pt.Role != RoleStudent {
		t.Fatalf("ann after leaving: %+v", pt)
	}
	p.refuseStudent(CodeForbidden, ann, &ChatPosted{Text: "still here?"})
	p.refuseStudent(CodeForbidden, ann, &ParticipantLeft{})
	p.refuseStudent(CodeForbidden, bob, &FloorRevoked{Participant: bob})

	p.student(ann, &ParticipantJoined{Name: "Ann again"})
	if pt := p.st.Participants[ann]; !pt.Present || pt.Name != "Ann again" {
		t.Fatalf("ann after rejoining: %+v", pt)
	}
	p.student(ann, &ChatPosted{Text: "back"})
	p.refuse(CodeConflict, bob, RoleTeacher, &ParticipantJoined{Name: "Bob"})

	// The teacher may leave too, and then cannot act.
	p.teacher(&ParticipantLeft{})
	p.refuseTeacher(CodeForbidden, &SlideChanged{Slide: Slide{Page: 1}})
}

func TestChat(t *testing.T) {
	p := newLive(t, ann)
	ev := p.student(ann, &ChatPosted{Text: "Is ½ bigger than ⅓?"})
	want := ChatMessage{Seq: ev.Seq, Actor: ann, Time: ev.Time, Text: "Is ½ bigger than ⅓?"}
	if len(p.st.Chat) != 1 || p.st.Chat[0] != want {
		t.Fatalf("chat %+v, want %+v", p.st.Chat, want)
	}
	p.teacher(&ChatPosted{Text: strings.Repeat("ß", MaxChatRunes)}) // runes, not bytes
	p.refuseStudent(CodeInvalid, ann, &ChatPosted{Text: strings.Repeat("a", MaxChatRunes+1)})
	p.refuseStudent(CodeInvalid, ann, &ChatPosted{Text: strings.Repeat("ß", MaxChatRunes+1)})
	p.refuseStudent(CodeInvalid, ann, &ChatPosted{Text: "bad \xc3\x28 utf-8"})
	p.refuseStudent(CodeInvalid, ann, &ChatPosted{Text: ""})
	if len(p.st.Chat) != 2 {
		t.Fatalf("%d chat messages, want 2", len(p.st.Chat))
	}
}

func TestAfterLessonEnded(t *testing.T) {
	p := newLive(t, ann, bob)
	addDeck(p)
	p.teacher(&DrawingPermitted{Allowed: true})
	p.teacher(&RecordingStarted{})
	p.student(ann, dot("a1", whiteboard))
	p.student(ann, &HandRaised{})
	p.teacher(&FloorGranted{Participant: bob})
	p.teacher(&LessonEnded{})
	if p.st.Status != StatusEnded || p.st.Floor != "" || len(p.st.Hands) != 0 || p.st.Recording {
		t.Fatalf("ended lesson: status %s floor %q hands %q recording %v",
			p.st.Status, p.st.Floor, p.st.Hands, p.st.Recording)
	}

	refused := []struct {
		actor   string
		role    Role
		payload Payload
	}{
		{teacher, RoleTeacher, &LessonStarted{}},
		{teacher, RoleTeacher, &LessonEnded{}},
		{cat, RoleStudent, &ParticipantJoined{Name: "Late"}},
		{ann, RoleStudent, &ParticipantJoined{Name: "Ann"}},
		{teacher, RoleTeacher, &DrawingPermitted{Allowed: false}},
		{ann, RoleStudent, dot("a2", whiteboard)},
		{ann, RoleStudent, segment("a1", whiteboard, 1, line(1, 9))},
		{teacher, RoleTeacher, rect("r", whiteboard)},
		{teacher, RoleTeacher, label("t", whiteboard, "x")},
		{ann, RoleStudent, erase(whiteboard, "a1")},
		{ann, RoleStudent, &BoardUndone{Slide: whiteboard}},
		{teacher, RoleTeacher, &BoardCleared{Slide: whiteboard}},
		{teacher, RoleTeacher, &DeckAdded{Deck: id("d2"), Name: "d", Pages: 1}},
		{teacher, RoleTeacher, &SlideChanged{Slide: deckPage(1)}},
		{bob, RoleStudent, &HandRaised{}},
		{teacher, RoleTeacher, &FloorGranted{Participant: ann}},
		{ann, RoleStudent, &ChatPosted{Text: "bye"}},
		{teacher, RoleTeacher, &RecordingStarted{}},
		{teacher, RoleTeacher, &RecordingStopped{}},
		{ann, RoleStudent, &LessonEnded{}}, // conflict comes before forbidden
	}
	for _, r := range refused {
		p.refuse(CodeConflict, r.actor, r.role, r.payload)
	}
	p.student(ann, &ParticipantLeft{})
	p.teacher(&ParticipantLeft{})
	p.refuseStudent(CodeConflict, ann, &ParticipantJoined{Name: "Ann"})
	p.refuseStudent(CodeForbidden, ann, &ParticipantLeft{}) // already gone
}

func TestMembership(t *testing.T) {
	p := newPlay(t)
	p.refuseTeacher(CodeForbidden, &LessonStarted{}) // the teacher has not joined
	p.must(teacher, RoleTeacher, &ParticipantJoined{Name: "Tina"})
	p.must(ann, RoleStudent, &ParticipantJoined{Name: "Ann"})
	// Lessons that have not started yet already take most commands.
	p.student(ann, &ChatPosted{Text: "early"})
	p.teacher(&LessonStarted{})
	p.refuseTeacher(CodeConflict, &LessonStarted{})

	p.refuseStudent(CodeForbidden, "zed", &ChatPosted{Text: "hi"})
	p.refuseStudent(CodeForbidden, "zed", &HandRaised{})
	p.refuseStudent(CodeForbidden, "zed", &ParticipantLeft{})
	p.refuse(CodeForbidden, "zed", RoleTeacher, &SlideChanged{Slide: Slide{Page: 1}})

	// The role of a command must be the role the actor joined with.
	p.refuse(CodeForbidden, ann, RoleTeacher, &SlideChanged{Slide: Slide{Page: 1}})
	p.refuse(CodeForbidden, ann, RoleTeacher, &ChatPosted{Text: "hi"})
	p.refuse(CodeForbidden, teacher, RoleStudent, &ChatPosted{Text: "hi"})
	p.refuse(CodeForbidden, ann, RoleSystem, &ChatPosted{Text: "hi"})
	p.refuse(CodeForbidden, ann, Role("admin"), &ChatPosted{Text: "hi"})

	// Rejoining: the same role updates the name, another role is a conflict.
	p.refuse(CodeConflict, ann, RoleTeacher, &ParticipantJoined{Name: "Ann"})
	p.refuse(CodeConflict, teacher, RoleStudent, &ParticipantJoined{Name: "Tina"})
	p.student(ann, &ParticipantJoined{Name: "Annie"})
	if pt := p.st.Participants[ann]; pt.Name != "Annie" || pt.Role != RoleStudent || !pt.Present {
		t.Fatalf("ann %+v", pt)
	}

	// Joining needs a participant id and a participant role.
	p.refuse(CodeInvalid, "sys", RoleSystem, &ParticipantJoined{Name: "Server"})
	p.refuse(CodeInvalid, "", RoleSystem, &ParticipantJoined{Name: "Server"})
	p.refuse(CodeInvalid, "x", Role("admin"), &ParticipantJoined{Name: "X"})
	p.refuse(CodeInvalid, "", RoleStudent, &ParticipantJoined{Name: "Nobody"})
	p.refuse(CodeInvalid, strings.Repeat("x", MaxIDBytes+1), RoleStudent, &ParticipantJoined{Name: "Long"})
	p.refuse(CodeInvalid, "bad\xff", RoleStudent, &ParticipantJoined{Name: "Bad"})
	p.refuse(CodeInvalid, "x", RoleStudent, &ParticipantJoined{Name: ""})
	p.refuse(CodeInvalid, "x", RoleStudent, &ParticipantJoined{Name: strings.Repeat("n", MaxNameRunes+1)})
	p.must(strings.Repeat("x", MaxIDBytes), RoleStudent, &ParticipantJoined{Name: strings.Repeat("n", MaxNameRunes)})

	// A lesson is not created by a command.
	p.refuseTeacher(CodeConflict, &LessonCreated{Title: "Again"})
}

func TestDecideEnvelope(t *testing.T) {
	p := newLive(t, ann)
	before := p.st.Hash()
	now := time.Date(2024, 3, 1, 11, 30, 0, 123456789, time.FixedZone("CET", 3600))
	cmd := Command{ID: id("cmd"), Actor: ann, Role: RoleStudent, Payload: &ChatPosted{Text: "hi"}}
	ev, err := Decide(p.st, cmd, now)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != cmd.ID || ev.Lesson != id("lesson") || ev.Seq != 0 || ev.Version != EventVersion ||
		ev.Actor != ann || ev.Role != RoleStudent || ev.Payload != cmd.Payload {
		t.Fatalf("event %+v", ev)
	}
	if want := time.Date(2024, 3, 1, 10, 30, 0, 123456000, time.UTC); !ev.Time.Equal(want) || ev.Time.Location() != time.UTC {
		t.Fatalf("time %v, want %v in UTC", ev.Time, want)
	}
	if p.st.Hash() != before || p.st.Seq != int64(len(p.log)) {
		t.Fatal("Decide changed the state")
	}

	tests := []struct {
		name  string
		state *State
		cmd   Command
		code  Code
	}{
		{"no id", p.st, Command{Actor: ann, Role: RoleStudent, Payload: &ChatPosted{Text: "hi"}}, CodeInvalid},
		{"no payload", p.st, Command{ID: id("c"), Actor: ann, Role: RoleStudent}, CodeInvalid},
		{"no actor", p.st, Command{ID: id("c"), Role: RoleStudent, Payload: &ChatPosted{Text: "hi"}}, CodeInvalid},
		{"invalid payload before state", NewState(), Command{ID: id("c"), Actor: ann, Role: RoleStudent, Payload: &ChatPosted{}}, CodeInvalid},
		{"no such lesson", NewState(), Command{ID: id("c"), Actor: ann, Role: RoleStudent, Payload: &ChatPosted{Text: "hi"}}, CodeNotFound},
		{"no such lesson, join", NewState(), Command{ID: id("c"), Actor: ann, Role: RoleStudent, Payload: &ParticipantJoined{Name: "Ann"}}, CodeNotFound},
		{"zero state", &State{}, Command{ID: id("c"), Actor: ann, Role: RoleStudent, Payload: &HandRaised{}}, CodeNotFound},
		{"create through Decide", NewState(), Command{ID: id("c"), Actor: teacher, Role: RoleTeacher, Payload: &LessonCreated{Title: "x"}}, CodeConflict},
		{"system has no participant", p.st, Command{ID: id("c"), Role: RoleSystem, Payload: &LessonEnded{}}, CodeForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.state.Hash()
			_, err := Decide(tt.state, tt.cmd, now)
			if got := ErrorCode(err); got != tt.code {
				t.Fatalf("got %v, want %s", err, tt.code)
			}
			if tt.state.Hash() != h {
				t.Fatal("a refused command changed the state")
			}
		})
	}
}

func TestNewLesson(t *testing.T) {
	now := time.Date(2024, 3, 1, 10, 0, 0, 999, time.FixedZone("X", -7200))
	ev, err := NewLesson(id("l"), id("e"), "Algebra", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Validate(); err != nil {
		t.Fatal(err)
	}
	if ev.Lesson != id("l") || ev.ID != id("e") || ev.Role != RoleSystem || ev.Actor != "" ||
		ev.Version != EventVersion || ev.Seq != 0 || !ev.Time.Equal(now.Truncate(time.Microsecond)) ||
		ev.Time.Location() != time.UTC || ev.Payload.(*LessonCreated).Title != "Algebra" {
		t.Fatalf("event %+v", ev)
	}
	s := Apply(NewState(), Event{ID: ev.ID, Lesson: ev.Lesson, Seq: 1, Version: 1, Role: RoleSystem, Time: ev.Time, Payload: ev.Payload})
	if s.Status != StatusCreated || s.Lesson != id("l") || s.Title != "Algebra" || !s.Created.Equal(ev.Time) || s.Seq != 1 {
		t.Fatalf("state %+v", s)
	}

	for _, tt := range []struct {
		name          string
		lesson, event uuid.UUID
		title         string
	}{
		{"no lesson", uuid.Nil, id("e"), "x"},
		{"no event", id("l"), uuid.Nil, "x"},
		{"empty title", id("l"), id("e"), ""},
		{"long title", id("l"), id("e"), strings.Repeat("t", MaxTitleRunes+1)},
		{"bad utf-8", id("l"), id("e"), "\xff"},
	} {
		if _, err := NewLesson(tt.lesson, tt.event, tt.title, now); ErrorCode(err) != CodeInvalid {
			t.Errorf("%s: got %v, want invalid", tt.name, err)
		}
	}
	if _, err := NewLesson(id("l"), id("e"), strings.Repeat("é", MaxTitleRunes), now); err != nil {
		t.Errorf("title of MaxTitleRunes: %v", err)
	}
}

// TestPayloadLimits sends payloads that break a bound as the teacher, who may
// do anything, so that only the bound can refuse them; and payloads right at
// the bounds, which must pass.
func TestPayloadLimits(t *testing.T) {
	stroke := func(mod func(s *StrokeDrawn)) *StrokeDrawn {
		s := pen("s", whiteboard, line(3, 0))
		mod(s)
		return s
	}
	point := func(pt Point) *StrokeDrawn {
		return stroke(func(s *StrokeDrawn) { s.Points = []Point{pt} })
	}
	shape := func(mod func(s *ShapeAdded)) *ShapeAdded {
		s := rect("r", whiteboard)
		mod(s)
		return s
	}
	text := func(mod func(s *TextAdded)) *TextAdded {
		s := label("t", whiteboard, "x")
		mod(s)
		return s
	}
	nan, inf := math.NaN(), math.Inf(1)
	over := math.Nextafter(MaxCoordinate, math.Inf(1))
	longID := strings.Repeat("p", MaxIDBytes+1)

	invalid := []struct {
		name    string
		payload Payload
	}{
		{"too many points", stroke(func(s *StrokeDrawn) { s.Points = line(MaxStrokePoints+1, 0) })},
		{"no points", stroke(func(s *StrokeDrawn) { s.Points = nil })},
		{"no object id", stroke(func(s *StrokeDrawn) { s.Object = uuid.Nil })},
		{"x beyond the board", point(Point{X: over, Pressure: 0.5})},
		{"x below the board", point(Point{X: -over, Pressure: 0.5})},
		{"y far beyond the board", point(Point{Y: 1e300, Pressure: 0.5})},
		{"y below the board", point(Point{Y: -MaxCoordinate - 1, Pressure: 0.5})},
		{"x NaN", point(Point{X: nan, Pressure: 0.5})},
		{"y infinite", point(Point{Y: inf, Pressure: 0.5})},
		{"pressure above 1", point(Point{Pressure: 1.0000001})},
		{"pressure below 0", point(Point{Pressure: -0.1})},
		{"pressure NaN", point(Point{Pressure: nan})},
		{"negative time", point(Point{T: -1, Pressure: 0.5})},
		{"time going back", stroke(func(s *StrokeDrawn) { s.Points[2].T = s.Points[1].T - 1 })},
		{"colour by name", stroke(func(s *StrokeDrawn) { s.Color = "red" })},
		{"colour too short", stroke(func(s *StrokeDrawn) { s.Color = "#12345" })},
		{"colour of 7 digits", stroke(func(s *StrokeDrawn) { s.Color = "#1234567" })},
		{"colour not hex", stroke(func(s *StrokeDrawn) { s.Color = "#12345g" })},
		{"colour without #", stroke(func(s *StrokeDrawn) { s.Color = "1234567" })},
		{"colour with a multibyte rune", stroke(func(s *StrokeDrawn) { s.Color = "#1234é" })},
		{"no colour", stroke(func(s *StrokeDrawn) { s.Color = "" })},
		{"unknown tool", stroke(func(s *StrokeDrawn) { s.Tool = "brush" })},
		{"no tool", stroke(func(s *StrokeDrawn) { s.Tool = "" })},
		{"zero width", stroke(func(s *StrokeDrawn) { s.Width = 0 })},
		{"negative width", stroke(func(s *StrokeDrawn) { s.Width = -2 })},
		{"too wide", stroke(func(s *StrokeDrawn) { s.Width = MaxStrokeWidth + 0.5 })},
		{"NaN width", stroke(func(s *StrokeDrawn) { s.Width = nan })},
		{"negative part", stroke(func(s *StrokeDrawn) { s.Part = -1 })},
		{"part beyond any stroke", segment("s", whiteboard, MaxObjectPoints+1, line(1, 0))},
		{"negative page", stroke(func(s *StrokeDrawn) { s.Slide.Page = -1 })},
		{"whiteboard page too far", stroke(func(s *StrokeDrawn) { s.Slide.Page = MaxWhiteboardPages })},
		{"unknown shape", shape(func(s *ShapeAdded) { s.Shape = "star" })},
		{"shape off the board", shape(func(s *ShapeAdded) { s.To[1] = over })},
		{"shape NaN", shape(func(s *ShapeAdded) { s.From[0] = nan })},
		{"shape bad fill", shape(func(s *ShapeAdded) { s.Fill = "#12" })},
		{"shape no colour", shape(func(s *ShapeAdded) { s.Color = "" })},
		{"shape zero width", shape(func(s *ShapeAdded) { s.Width = 0 })},
		{"shape no id", shape(func(s *ShapeAdded) { s.Object = uuid.Nil })},
		{"shape bad slide", shape(func(s *ShapeAdded) { s.Slide.Page = -1 })},
		{"text bad slide", text(func(s *TextAdded) { s.Slide.Page = MaxWhiteboardPages })},
		{"text off the board", text(func(s *TextAdded) { s.At[0] = -over })},
		{"text size 0", text(func(s *TextAdded) { s.Size = 0 })},
		{"text too big", text(func(s *TextAdded) { s.Size = MaxStrokeWidth + 1 })},
		{"text bad colour", text(func(s *TextAdded) { s.Color = "#abcdefgh" })},
		{"text no id", text(func(s *TextAdded) { s.Object = uuid.Nil })},
		{"erase bad slide", &ObjectsErased{Slide: Slide{Page: -3}, Objects: []uuid.UUID{id("x")}}},
		{"undo bad slide", &BoardUndone{Slide: Slide{Page: MaxWhiteboardPages}}},
		{"redo bad slide", &BoardRedone{Slide: Slide{Page: -1}}},
		{"lower without participant", &HandLowered{}},
		{"lower long id", &HandLowered{Participant: longID}},
		{"grant long id", &FloorGranted{Participant: longID}},
		{"revoke without participant", &FloorRevoked{}},
		{"revoke bad utf-8", &FloorRevoked{Participant: "\xfe"}},
		{"permit long id", &DrawingPermitted{Participant: longID}},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			p := newLive(t, ann)
			p.refuseTeacher(CodeInvalid, tt.payload)
		})
	}

	valid := []struct {
		name    string
		payload Payload
	}{
		{"MaxStrokePoints", stroke(func(s *StrokeDrawn) { s.Points = line(MaxStrokePoints, 0) })},
		{"corners of the board", stroke(func(s *StrokeDrawn) {
			s.Points = []Point{{X: -MaxCoordinate, Y: MaxCoordinate}, {X: MaxCoordinate, Y: -MaxCoordinate, Pressure: 1}}
		})},
		{"same time twice", stroke(func(s *StrokeDrawn) { s.Points[1].T = s.Points[0].T })},
		{"highlighter, #rrggbbaa, widest", stroke(func(s *StrokeDrawn) {
			s.Tool, s.Color, s.Width = ToolHighlighter, "#AbCdEf80", MaxStrokeWidth
		})},
		{"thinnest", stroke(func(s *StrokeDrawn) { s.Width = math.SmallestNonzeroFloat64 })},
		{"last whiteboard page", stroke(func(s *StrokeDrawn) { s.Slide.Page = MaxWhiteboardPages - 1 })},
		{"shape without fill", shape(func(s *ShapeAdded) { s.Fill = "" })},
		{"degenerate shape", shape(func(s *ShapeAdded) { s.To = s.From })},
		{"biggest text", text(func(s *TextAdded) { s.Size = MaxStrokeWidth })},
		{"permission for one student", &DrawingPermitted{Participant: ann}},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			p := newLive(t, ann)
			p.teacher(tt.payload)
		})
	}
}

func TestRecording(t *testing.T) {
	p := newLive(t)
	p.refuseTeacher(CodeConflict, &RecordingStopped{})
	p.teacher(&RecordingStarted{})
	if !p.st.Recording {
		t.Fatal("not recording")
	}
	p.refuseTeacher(CodeConflict, &RecordingStarted{})
	p.teacher(&RecordingStopped{})
	if p.st.Recording {
		t.Fatal("still recording")
	}
	p.teacher(&RecordingStarted{})
}

// bogus is a payload that is no command: only this package can make one.
type bogus struct{}

func (bogus) Kind() Kind      { return "bogus" }
func (bogus) validate() error { return nil }

func TestDecideRefusesPayloadsThatAreNoCommand(t *testing.T) {
	p := newLive(t, ann)
	p.refuseTeacher(CodeInvalid, bogus{})
	h := p.st.Hash()
	p.st.Apply(Event{Seq: p.st.Seq + 1, Actor: teacher, Payload: bogus{}})
	if p.st.Hash() == h || p.st.Seq != int64(len(p.log))+1 {
		t.Fatal("Apply of an unknown payload did not just advance Seq")
	}
}
