package timeline

import (
	"bufio"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"classroom/domain"
)

// The board's coordinate space. Neither docs/protocol.md nor domain defines
// one (a point is anywhere within ±1,000,000); the browser board draws a
// 1600×900 area with (0, 0) at the top left, y growing downwards, and these
// SVGs use the same viewBox. Anything drawn outside it is in the file but
// outside the view.
const (
	BoardWidth  = 1600
	BoardHeight = 900
)

// highlighterOpacity is how opaque a highlighter stroke is drawn.
const highlighterOpacity = 0.35

// SlideBoard names one slide's board in an SVG export.
type SlideBoard struct {
	Slide domain.Slide
	Name  string // a file name: "whiteboard-p001.svg", "deck01-fractions-p003.svg", "group-blue-1f2e3d4c.svg"
	Title string // "Whiteboard 1", "Slide 3 — Fractions", "Board of group 'Blue'"
	// Under is the slide whose page is drawn behind the board: the slide
	// itself, or the slide a breakout group's board was opened over.
	Under domain.Slide
}

// WriteSVG folds the whole log and writes each slide's final board as one
// SVG document: create is called once per slide that has a board, in the
// order of the whiteboard's pages then each deck's, and the SVG is written
// to what it returns. The visible objects are drawn in drawing order:
// strokes as smoothed paths (quadratic curves through the midpoints of their
// points) with their colour and width, highlighter strokes translucent,
// shapes, arrows with a head, and text, XML-escaped, with its anchor at the
// top left of its first line. Colours #rrggbbaa become a colour and an
// opacity, which every SVG renderer reads. It returns the number of events
// read.
func WriteSVG(events iter.Seq2[domain.Event, error], create func(SlideBoard) (io.Writer, error)) (int64, error) {
	return WriteSVGOver(events, create, nil)
}

// WriteSVGOver is WriteSVG with the slide behind each board: background,
// when not nil, is asked once per board for the address of its slide's
// image (a file beside the SVG, say), which the SVG draws under the board,
// fitted into it as the page shows it; "" draws none.
func WriteSVGOver(events iter.Seq2[domain.Event, error], create func(SlideBoard) (io.Writer, error),
	background func(SlideBoard) (string, error)) (int64, error) {
	s := domain.NewState()
	v := newLessonView()
	rounds := groupRounds{}
	n, err := v.read(events, func(e domain.Event) error {
		s.Apply(e)
		rounds.see(s)
		return nil
	})
	if err != nil {
		return n, err
	}
	for _, sb := range Boards(s, rounds.group, v.chapter) {
		var href string
		if background != nil && !isBlank(sb.Under) {
			if href, err = background(sb); err != nil {
				return n, err
			}
		}
		w, err := create(sb)
		if err != nil {
			return n, err
		}
		if err := writeBoard(w, s.Board(sb.Slide), sb.Title, href); err != nil {
			return n, err
		}
	}
	return n, nil
}

// groupRounds gathers the breakout groups of every round of a lesson as
// its log is folded: the state keeps only the latest round's.
type groupRounds struct {
	round  *domain.Breakout // the latest round seen
	groups map[uuid.UUID]*domain.Group
}

// see takes in the state after each event. When a round of groups replaces
// another, the earlier round's groups are kept only if their boards were
// drawn on: nobody draws on them once the round is gone.
func (r *groupRounds) see(s *domain.State) {
	b := s.Breakout
	if b == nil || b == r.round {
		return
	}
	if r.groups == nil {
		r.groups = map[uuid.UUID]*domain.Group{}
	}
	for id := range r.groups {
		if s.Board(domain.GroupBoard(id)) == nil {
			delete(r.groups, id)
		}
	}
	r.round = b
	for _, g := range b.Groups {
		r.groups[g.ID] = g
	}
}

// group is the group of the given id in any round seen, or nil.
func (r *groupRounds) group(id uuid.UUID) *domain.Group { return r.groups[id] }

// Boards lists the slides of a state that have a board, whiteboard pages
// first, then each deck's in the order the decks were added, then the
// breakout groups' boards. group finds a breakout group by its id in any
// round of the lesson (s.Group knows the latest round's only), to name its
// board and put the slide it was opened on under it.
func Boards(s *domain.State, group func(uuid.UUID) *domain.Group, title func(domain.Slide) string) []SlideBoard {
	deckIndex := map[string]int{}
	for i, d := range s.Decks {
		deckIndex[d.ID.String()] = i + 1
	}
	var out []SlideBoard
	for key := range s.Boards {
		deck, page, ok := strings.Cut(key, "/")
		p, err := strconv.Atoi(page)
		if !ok || err != nil {
			continue
		}
		var sl domain.Slide
		if err := sl.Deck.UnmarshalText([]byte(deck)); err != nil {
			continue
		}
		sl.Page = p
		name, under := "", sl
		if g := group(sl.Deck); g != nil {
			name, under = fmt.Sprintf("group-%s-%s.svg", Slug(g.Name, "group"), deck[:8]), g.Slide
		} else if isBlank(sl) {
			name = fmt.Sprintf("whiteboard-p%03d.svg", p+1)
		} else if i, ok := deckIndex[deck]; ok {
			name = fmt.Sprintf("deck%02d-%s-p%03d.svg", i, Slug(s.Decks[i-1].Name, "deck"), p+1)
		} else {
			name = fmt.Sprintf("deck-%s-p%03d.svg", deck[:8], p+1)
		}
		out = append(out, SlideBoard{Slide: sl, Name: name, Title: title(sl), Under: under})
	}
	order := func(sl domain.Slide) int {
		if isBlank(sl) {
			return 0
		}
		if i, ok := deckIndex[sl.Deck.String()]; ok {
			return i
		}
		return len(deckIndex) + 1
	}
	slices.SortFunc(out, func(a, b SlideBoard) int {
		return cmp.Or(cmp.Compare(order(a.Slide), order(b.Slide)), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// Slug turns a name into a short, safe part of a file name: lower-case
// ASCII letters and digits, other runs of characters as one "-", at most
// about 40 characters; fallback when nothing is left.
func Slug(name, fallback string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	if s := strings.Trim(b.String(), "-"); s != "" {
		return s
	}
	return fallback
}

// writeBoard writes one board as an SVG document, over the image at
// background when it is not "".
func writeBoard(w io.Writer, b *domain.Board, title, background string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 %d %d" width="%d" height="%d">
<title>%s</title>
<rect width="%d" height="%d" fill="#ffffff"/>
`, BoardWidth, BoardHeight, BoardWidth, BoardHeight, xmlText(title), BoardWidth, BoardHeight)
	if background != "" {
		fmt.Fprintf(bw, `<image href="%[1]s" xlink:href="%[1]s" x="0" y="0" width="%[2]d" height="%[3]d" preserveAspectRatio="xMidYMid meet"/>`+"\n",
			xmlText(background), BoardWidth, BoardHeight)
	}
	if b != nil {
		for _, o := range b.Objects {
			if !o.Hidden {
				writeObject(bw, o)
			}
		}
	}
	bw.WriteString("</svg>\n")
	return bw.Flush()
}

func writeObject(w *bufio.Writer, o *domain.Object) {
	color, opacity := svgColor(o.Color)
	switch o.Kind {
	case domain.ObjectStroke:
		if o.Tool == domain.ToolHighlighter {
			opacity *= highlighterOpacity
		}
		fmt.Fprintf(w, `<path d="%s" fill="none" stroke="%s"%s stroke-width="%s" stroke-linecap="round" stroke-linejoin="round"/>`+"\n",
			strokePath(o.Points), color, opacityAttr("stroke-opacity", opacity), num(o.Width))
	case domain.ObjectShape:
		fill, fillOpacity := "none", 1.0
		if o.Fill != "" {
			fill, fillOpacity = svgColor(o.Fill)
		}
		style := fmt.Sprintf(`stroke="%s"%s stroke-width="%s" fill="%s"%s`, color, opacityAttr("stroke-opacity", opacity),
			num(o.Width), fill, opacityAttr("fill-opacity", fillOpacity))
		x0, y0, x1, y1 := o.From[0], o.From[1], o.To[0], o.To[1]
		switch o.Shape {
		case domain.ShapeRectangle:
			fmt.Fprintf(w, `<rect x="%s" y="%s" width="%s" height="%s" %s/>`+"\n",
				num(math.Min(x0, x1)), num(math.Min(y0, y1)), num(math.Abs(x1-x0)), num(math.Abs(y1-y0)), style)
		case domain.ShapeEllipse:
			fmt.Fprintf(w, `<ellipse cx="%s" cy="%s" rx="%s" ry="%s" %s/>`+"\n",
				num((x0+x1)/2), num((y0+y1)/2), num(math.Abs(x1-x0)/2), num(math.Abs(y1-y0)/2), style)
		default: // line, arrow
			fmt.Fprintf(w, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"%s stroke-width="%s" stroke-linecap="round"/>`+"\n",
				num(x0), num(y0), num(x1), num(y1), color, opacityAttr("stroke-opacity", opacity), num(o.Width))
			if o.Shape == domain.ShapeArrow && (x0 != x1 || y0 != y1) {
				// A head three widths (at least 10 units) long, at the "to" end.
				a := math.Atan2(y1-y0, x1-x0)
				l := math.Max(10, 3*o.Width)
				fmt.Fprintf(w, `<polygon points="%s,%s %s,%s %s,%s" fill="%s"%s/>`+"\n",
					num(x1), num(y1),
					num(x1-l*math.Cos(a-math.Pi/7)), num(y1-l*math.Sin(a-math.Pi/7)),
					num(x1-l*math.Cos(a+math.Pi/7)), num(y1-l*math.Sin(a+math.Pi/7)),
					color, opacityAttr("fill-opacity", opacity))
			}
		}
	case domain.ObjectText:
		fmt.Fprintf(w, `<text x="%s" y="%s" font-family="sans-serif" font-size="%s" fill="%s"%s dominant-baseline="hanging" xml:space="preserve">`,
			num(o.At[0]), num(o.At[1]), num(o.Size), color, opacityAttr("fill-opacity", opacity))
		for i, line := range strings.Split(strings.ReplaceAll(o.Text, "\r\n", "\n"), "\n") {
			dy := "0"
			if i > 0 {
				dy = num(o.Size * 1.2)
			}
			fmt.Fprintf(w, `<tspan x="%s" dy="%s">%s</tspan>`, num(o.At[0]), dy, xmlText(line))
		}
		w.WriteString("</text>\n")
	}
}

// strokePath is a smoothed path through the points: a quadratic curve from
// each midpoint to the next with the point between as its control, so the
// line passes near every sample without corners.
func strokePath(ps domain.Points) string {
	var b strings.Builder
	switch len(ps) {
	case 0:
		return "M0 0"
	case 1: // a dot: a zero-length line with round caps
		fmt.Fprintf(&b, "M%s %sL%s %s", num(ps[0].X), num(ps[0].Y), num(ps[0].X), num(ps[0].Y))
		return b.String()
	}
	fmt.Fprintf(&b, "M%s %s", num(ps[0].X), num(ps[0].Y))
	for i := 1; i < len(ps)-1; i++ {
		mx, my := (ps[i].X+ps[i+1].X)/2, (ps[i].Y+ps[i+1].Y)/2
		fmt.Fprintf(&b, "Q%s %s %s %s", num(ps[i].X), num(ps[i].Y), num(mx), num(my))
	}
	last := ps[len(ps)-1]
	fmt.Fprintf(&b, "L%s %s", num(last.X), num(last.Y))
	return b.String()
}

// svgColor splits #rrggbb or #rrggbbaa into #rrggbb and an opacity.
func svgColor(c string) (string, float64) {
	if len(c) == 9 {
		a, err := strconv.ParseUint(c[7:], 16, 8)
		if err == nil {
			return strings.ToLower(c[:7]), float64(a) / 255
		}
	}
	if len(c) != 7 {
		return "#000000", 1
	}
	return strings.ToLower(c), 1
}

func opacityAttr(name string, o float64) string {
	if o >= 1 {
		return ""
	}
	return fmt.Sprintf(` %s="%s"`, name, strconv.FormatFloat(o, 'f', 3, 64))
}

// num formats a coordinate compactly: at most two decimals.
func num(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "0"
	}
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

// xmlText escapes text for XML character data, replacing characters XML
// does not allow.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // never fails writing to a Builder
	return b.String()
}
