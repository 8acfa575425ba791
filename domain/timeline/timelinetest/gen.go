// Package timelinetest generates lessons for tests and benchmarks: a
// teacher and five students on a deck and the whiteboard, every kind of
// event, with names and text that need escaping in every export format.
// Commands go through domain.Decide, so a log is one a live room could have
// written. It is for tests only: no program may import it, and it must never
// store or send what it generates itself.
package timelinetest

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
)

// StudentNames are the students' names, in the order they join.
var StudentNames = []string{"Ana", "Zoë <3", "Bob & Co", "=cmd|' /C calc'!A0", "Mia --> Leo"}

var chatLines = []string{"Could you repeat that?", "=SUM(A1:A9)", "a --> b & <c>", "two\nlines", "½ + ¼ = ¾", "-1"}

type gen struct {
	rng      *rand.Rand
	s        *domain.State
	now      time.Time
	lesson   uuid.UUID
	deck     uuid.UUID
	students []string
	lastObj  map[string]*domain.StrokeDrawn // each actor's latest stroke, to continue
	points   int                            // points per stroke part
}

// Lesson yields a new lesson of n events (n ≥ 20), in order with their
// sequence numbers, as a live room would have stored them: the same events
// for the same seed except the lesson's id, which is new each time. Each
// stroke part has pointsPerPart points.
func Lesson(seed uint64, n int, pointsPerPart int) iter.Seq2[domain.Event, error] {
	return func(yield func(domain.Event, error) bool) {
		g := &gen{rng: rand.New(rand.NewPCG(seed, 7)), s: domain.NewState(),
			now:     time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC),
			lesson:  uuid.New(), // a new lesson each time: PostgreSQL keeps what tests store
			deck:    uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "deck-%d", seed)),
			lastObj: map[string]*domain.StrokeDrawn{}, points: pointsPerPart}
		ev, err := domain.NewLesson(g.lesson, g.id(), "Fractions, week 3", g.now)
		if err != nil {
			yield(domain.Event{}, err)
			return
		}
		if !g.emit(ev, yield) {
			return
		}
		opening := []domain.Command{
			{Actor: "teacher", Role: domain.RoleTeacher, Payload: &domain.ParticipantJoined{Name: "Ms Rivera"}},
			{Actor: "teacher", Role: domain.RoleTeacher, Payload: &domain.LessonStarted{}},
			{Actor: "teacher", Role: domain.RoleTeacher, Payload: &domain.DeckAdded{Deck: g.deck, Name: "Fractions", Pages: 12}},
			{Actor: "teacher", Role: domain.RoleTeacher, Payload: &domain.DrawingPermitted{Allowed: true}},
		}
		for i, name := range StudentNames {
			id := fmt.Sprintf("student-%d", i+1)
			g.students = append(g.students, id)
			opening = append(opening, domain.Command{Actor: id, Role: domain.RoleStudent, Payload: &domain.ParticipantJoined{Name: name}})
		}
		for _, c := range opening {
			if !g.do(c, yield) {
				return
			}
		}
		for int(g.s.Seq) < n {
			if !g.do(g.next(), yield) {
				return
			}
		}
	}
}

func (g *gen) id() uuid.UUID {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return uuid.UUID(b)
}

func (g *gen) emit(ev domain.Event, yield func(domain.Event, error) bool) bool {
	ev.Seq = g.s.Seq + 1
	g.s.Apply(ev)
	return yield(ev, nil)
}

// do decides a command; a refused one is skipped.
func (g *gen) do(c domain.Command, yield func(domain.Event, error) bool) bool {
	g.now = g.now.Add(time.Duration(20+g.rng.IntN(280)) * time.Millisecond)
	c.ID = g.id()
	ev, err := domain.Decide(g.s, c, g.now)
	if err != nil {
		return true
	}
	return g.emit(ev, yield)
}

func (g *gen) anyone() (string, domain.Role) {
	if g.rng.IntN(3) == 0 {
		return "teacher", domain.RoleTeacher
	}
	return g.students[g.rng.IntN(len(g.students))], domain.RoleStudent
}

var colors = []string{"#1e40af", "#dc2626", "#16a34a80", "#000000", "#FACC15"}

func (g *gen) pts(start int64) domain.Points {
	ps := make(domain.Points, g.points)
	x, y := 100+g.rng.Float64()*1400, 100+g.rng.Float64()*700
	for i := range ps {
		x += g.rng.Float64()*12 - 6
		y += g.rng.Float64()*12 - 6
		ps[i] = domain.Point{X: float64(int(x*100)) / 100, Y: float64(int(y*100)) / 100, T: start + int64(i*16), Pressure: 0.5}
	}
	return ps
}

func (g *gen) next() domain.Command {
	actor, role := g.anyone()
	sl := g.s.Slide
	c := domain.Command{Actor: actor, Role: role}
	switch r := g.rng.IntN(1000); {
	case r < 550:
		if last := g.lastObj[actor]; last != nil && last.Slide == sl && g.rng.IntN(2) == 0 {
			last = &domain.StrokeDrawn{Object: last.Object, Slide: sl, Part: last.Part + 1, Points: g.pts(int64(last.Part+1) * 1000)}
			g.lastObj[actor] = last
			c.Payload = last
			break
		}
		tool := domain.ToolPen
		if g.rng.IntN(6) == 0 {
			tool = domain.ToolHighlighter
		}
		st := &domain.StrokeDrawn{Object: g.id(), Slide: sl, Tool: tool, Color: colors[g.rng.IntN(len(colors))],
			Width: float64(2 + g.rng.IntN(10)), Points: g.pts(0)}
		g.lastObj[actor] = st
		c.Payload = st
	case r < 620:
		shapes := []string{domain.ShapeLine, domain.ShapeArrow, domain.ShapeRectangle, domain.ShapeEllipse}
		p := g.pts(0)
		sh := &domain.ShapeAdded{Object: g.id(), Slide: sl, Shape: shapes[g.rng.IntN(4)], From: [2]float64{p[0].X, p[0].Y},
			To: [2]float64{p[0].X + 80, p[0].Y + 40}, Color: colors[g.rng.IntN(len(colors))], Width: 3}
		if g.rng.IntN(3) == 0 {
			sh.Fill = "#fde68a80"
		}
		c.Payload = sh
	case r < 650:
		p := g.pts(0)
		c.Payload = &domain.TextAdded{Object: g.id(), Slide: sl, At: [2]float64{p[0].X, p[0].Y},
			Text: "<b>½ & \"thirds\"</b> --> ok\nline two", Color: "#111827", Size: 24}
	case r < 690, r < 720, r < 730:
		b := g.s.Board(sl)
		if b == nil || len(b.Objects) == 0 {
			return g.chat(c)
		}
		switch {
		case r < 690:
			o := b.Objects[g.rng.IntN(len(b.Objects))]
			c.Actor, c.Role = o.Owner, roleOf(o.Owner)
			c.Payload = &domain.ObjectsErased{Slide: sl, Objects: []uuid.UUID{o.ID}}
		case r < 720:
			c.Payload = &domain.BoardUndone{Slide: sl}
		default:
			c.Payload = &domain.BoardRedone{Slide: sl}
		}
	case r < 733:
		c.Actor, c.Role, c.Payload = "teacher", domain.RoleTeacher, &domain.BoardCleared{Slide: sl}
	case r < 750:
		next := domain.Slide{Deck: g.deck, Page: g.rng.IntN(12)}
		if g.rng.IntN(4) == 0 {
			next = domain.Slide{Page: g.rng.IntN(3)}
		}
		c.Actor, c.Role, c.Payload = "teacher", domain.RoleTeacher, &domain.SlideChanged{Slide: next}
	case r < 850:
		return g.chat(c)
	case r < 880:
		c.Payload = &domain.HandRaised{}
	case r < 895:
		c.Payload = &domain.HandLowered{Participant: actor}
	case r < 910:
		c.Actor, c.Role, c.Payload = "teacher", domain.RoleTeacher, &domain.FloorGranted{Participant: g.students[g.rng.IntN(len(g.students))]}
	case r < 920:
		c.Actor, c.Role, c.Payload = "teacher", domain.RoleTeacher, &domain.FloorRevoked{Participant: g.s.Floor}
	case r < 925:
		if role == domain.RoleStudent {
			if g.s.Participants[actor].Present {
				c.Payload = &domain.ParticipantLeft{}
			} else {
				c.Payload = &domain.ParticipantJoined{Name: "Back " + actor}
			}
		}
	case r < 928:
		c.Actor, c.Role = "teacher", domain.RoleTeacher
		if g.s.Recording {
			c.Payload = &domain.RecordingStopped{}
		} else {
			c.Payload = &domain.RecordingStarted{}
		}
	case r < 932:
		c.Actor, c.Role = "teacher", domain.RoleTeacher
		c.Payload = &domain.DrawingPermitted{Participant: g.students[g.rng.IntN(len(g.students))], Allowed: g.rng.IntN(2) == 0}
	default:
		return g.chat(c)
	}
	if c.Payload == nil {
		return g.chat(c)
	}
	return c
}

func (g *gen) chat(c domain.Command) domain.Command {
	c.Payload = &domain.ChatPosted{Text: chatLines[g.rng.IntN(len(chatLines))]}
	return c
}

func roleOf(id string) domain.Role {
	if id == "teacher" {
		return domain.RoleTeacher
	}
	return domain.RoleStudent
}
