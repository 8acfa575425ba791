package lessonvideo

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"
	"strings"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/f64"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"classroom/domain"
)

// The board's size in board units, the space points are in (the browser's
// board/raster.js WIDTH and HEIGHT).
const (
	BoardWidth  = 1600
	BoardHeight = 900
)

// Looks shared with the browser's board/shapes.js.
const (
	highlightAlpha = 0.35 // HIGHLIGHT_ALPHA
	textLineHeight = 1.25 // LINE_HEIGHT, of a text's size
)

// BoardPainter draws a board as the browser's board/raster.js and
// board/shapes.js draw it (docs/shapes.md): a white page, the slide's image
// letterboxed, then the visible objects in drawing order. Strokes are the
// same smoothed paths (quadratic curves through the midpoints of the
// samples, width following the pressure, round caps and joins), shapes the
// same outlines, highlighters the same translucency. Text is set in the Go
// font, since the browser's system-ui face is not known here: it stands
// where the browser's does but its glyphs differ. Paths are filled with
// golang.org/x/image/vector, each polygon within its own bounding box.
//
// A BoardPainter is not safe for concurrent use.
type BoardPainter struct {
	z     vector.Rasterizer
	font  *opentype.Font
	faces map[int]font.Face // by size in quarter pixels
	path  [][]fpoint        // polygons waiting to be filled, in pixels
	boxes []image.Rectangle // their bounding boxes
	mask  *image.Alpha      // the union of the polygons being filled
	one   *image.Alpha      // one polygon's coverage
}

type fpoint struct{ x, y float64 }

// NewBoardPainter returns a painter.
func NewBoardPainter() (*BoardPainter, error) {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("lessonvideo: the Go font: %w", err)
	}
	return &BoardPainter{font: f, faces: map[int]font.Face{}}, nil
}

// Paint draws board b into the rectangle r of dst, which stands for the
// whole board (BoardWidth × BoardHeight units). bg is the slide's image
// already fitted to r's size (FitSlide), or nil for a blank page; b may be
// nil (nothing drawn yet).
func (p *BoardPainter) Paint(dst *image.RGBA, r image.Rectangle, b *domain.Board, bg *image.RGBA) {
	if bg != nil {
		draw.Draw(dst, r, bg, bg.Bounds().Min, draw.Src)
	} else {
		draw.Draw(dst, r, image.White, image.Point{}, draw.Src)
	}
	if b != nil {
		p.PaintObjects(dst, r, b.Objects)
	}
}

// PaintObjects draws the visible objects of objs, in their order, over
// what the rectangle r of dst holds, r standing for the whole board as in
// Paint. Painting a board's objects in two runs, those before k and then
// those from k on, gives the same pixels as painting them in one.
func (p *BoardPainter) PaintObjects(dst *image.RGBA, r image.Rectangle, objs []*domain.Object) {
	t := transform{sx: float64(r.Dx()) / BoardWidth, sy: float64(r.Dy()) / BoardHeight,
		ox: float64(r.Min.X), oy: float64(r.Min.Y), clip: r}
	for _, o := range objs {
		if !o.Hidden {
			p.object(dst, t, o)
		}
	}
}

// transform maps board units to dst's pixels.
type transform struct {
	sx, sy, ox, oy float64
	clip           image.Rectangle
}

func (t transform) at(x, y float64) fpoint { return fpoint{x*t.sx + t.ox, y*t.sy + t.oy} }

// width scales a width in board units (the board keeps its aspect).
func (t transform) width(w float64) float64 { return w * (t.sx + t.sy) / 2 }

func (p *BoardPainter) object(dst *image.RGBA, t transform, o *domain.Object) {
	switch o.Kind {
	case domain.ObjectStroke:
		p.stroke(dst, t, o)
	case domain.ObjectShape:
		p.shape(dst, t, o)
	case domain.ObjectText:
		p.text(dst, t, o)
	}
}

func pressureFactor(pressure float64) float64 { return 0.4 + 1.2*pressure }

// stroke is drawStroke of shapes.js: consecutive segments of the same
// rounded width share one path, each path composited once.
func (p *BoardPainter) stroke(dst *image.RGBA, t transform, o *domain.Object) {
	pts := o.Points
	n := len(pts)
	if n == 0 {
		return
	}
	highlighter := o.Tool == "highlighter"
	alpha := 1.0
	if highlighter {
		alpha = highlightAlpha
	}
	c := parseColor(o.Color, alpha)
	widthAt := func(q domain.Point) float64 {
		if highlighter {
			return o.Width
		}
		return max(0.25, math.Round(o.Width*pressureFactor(q.Pressure)*4)/4)
	}
	if n == 1 {
		p.circle(t.at(pts[0].X, pts[0].Y), t.width(widthAt(pts[0]))/2)
		p.fill(dst, t.clip, c)
		return
	}
	x, y := pts[0].X, pts[0].Y
	w := widthAt(pts[1])
	line := []fpoint{t.at(x, y)}
	for k := 1; k <= n-2; k++ {
		q, next := pts[k], pts[k+1]
		if wk := widthAt(q); wk != w {
			p.strokePath(line, t.width(w)/2, false)
			p.fill(dst, t.clip, c)
			w = wk
			line = []fpoint{t.at(x, y)}
		}
		mx, my := (q.X+next.X)/2, (q.Y+next.Y)/2
		line = appendQuad(line, t.at(x, y), t.at(q.X, q.Y), t.at(mx, my))
		x, y = mx, my
	}
	line = append(line, t.at(pts[n-1].X, pts[n-1].Y))
	p.strokePath(line, t.width(w)/2, false)
	p.fill(dst, t.clip, c)
}

// Shapes of kind "shape", as SHAPES of shapes.js; an unknown one is a line.
func (p *BoardPainter) shape(dst *image.RGBA, t transform, o *domain.Object) {
	a, b := t.at(o.From[0], o.From[1]), t.at(o.To[0], o.To[1])
	half := t.width(o.Width) / 2
	var outline []fpoint
	closed, fillable := false, false
	switch o.Shape {
	case "rectangle":
		outline = []fpoint{a, {b.x, a.y}, b, {a.x, b.y}}
		closed, fillable = true, true
	case "ellipse":
		outline = ellipse(a, b)
		closed, fillable = true, true
	case "arrow":
		p.strokePath([]fpoint{a, b}, half, false)
		angle := math.Atan2(o.To[1]-o.From[1], o.To[0]-o.From[0])
		head := max(12, o.Width*4)
		for _, side := range []float64{-1, 1} {
			end := t.at(o.To[0]-head*math.Cos(angle+side*0.45), o.To[1]-head*math.Sin(angle+side*0.45))
			p.strokePath([]fpoint{b, end}, half, false)
		}
		p.fill(dst, t.clip, parseColor(o.Color, 1))
		return
	default:
		outline = []fpoint{a, b}
	}
	if o.Fill != "" && fillable {
		p.path = append(p.path, outline)
		p.fill(dst, t.clip, parseColor(o.Fill, 1))
	}
	p.strokePath(outline, half, closed)
	p.fill(dst, t.clip, parseColor(o.Color, 1))
}

// text puts the first line's top-left corner at o.At, each line
// textLineHeight of the size below the one before.
func (p *BoardPainter) text(dst *image.RGBA, t transform, o *domain.Object) {
	size := o.Size * t.sy
	face := p.face(size)
	if face == nil {
		return
	}
	m := face.Metrics()
	asc, desc := float64(m.Ascent)/64, float64(m.Descent)/64
	baseline := size * asc / (asc + desc) // "top" is the em box's top
	clip, ok := dst.SubImage(t.clip).(*image.RGBA)
	if !ok {
		return
	}
	d := font.Drawer{Dst: clip, Src: image.NewUniform(parseColor(o.Color, 1)), Face: face}
	for i, line := range strings.Split(o.Text, "\n") {
		at := t.at(o.At[0], o.At[1]+float64(i)*o.Size*textLineHeight)
		d.Dot = fixed.Point26_6{X: fixed.Int26_6(at.x * 64), Y: fixed.Int26_6((at.y + baseline) * 64)}
		d.DrawString(line)
	}
}

func (p *BoardPainter) face(px float64) font.Face {
	key := int(math.Round(px * 4))
	if key <= 0 {
		return nil
	}
	if f, ok := p.faces[key]; ok {
		return f
	}
	f, err := opentype.NewFace(p.font, &opentype.FaceOptions{Size: float64(key) / 4, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil
	}
	p.faces[key] = f
	return f
}

// strokePath adds the outline of a path stroked with round caps and joins
// and half-width half: a quadrilateral per segment and a disc at every
// vertex, all wound the same way, so that their union fills once.
func (p *BoardPainter) strokePath(pts []fpoint, half float64, closed bool) {
	if len(pts) == 0 || half <= 0 {
		return
	}
	segment := func(a, b fpoint) {
		dx, dy := b.x-a.x, b.y-a.y
		l := math.Hypot(dx, dy)
		if l == 0 {
			return
		}
		nx, ny := -dy/l*half, dx/l*half
		p.polygon([]fpoint{{a.x + nx, a.y + ny}, {b.x + nx, b.y + ny}, {b.x - nx, b.y - ny}, {a.x - nx, a.y - ny}})
	}
	for i, q := range pts {
		if i > 0 && q == pts[i-1] {
			continue
		}
		p.circle(q, half)
		if i > 0 {
			segment(pts[i-1], q)
		}
	}
	if closed && len(pts) > 2 {
		segment(pts[len(pts)-1], pts[0])
	}
}

// circle adds a disc, as a polygon fine enough that its edge stays within
// a few hundredths of a pixel of the circle.
func (p *BoardPainter) circle(c fpoint, r float64) {
	if r <= 0 {
		return
	}
	n := min(128, max(8, int(math.Ceil(math.Pi/math.Acos(max(-1, 1-0.05/r))))))
	pts := make([]fpoint, n)
	for i := range pts {
		a := 2 * math.Pi * float64(i) / float64(n)
		pts[i] = fpoint{c.x + r*math.Cos(a), c.y + r*math.Sin(a)}
	}
	p.polygon(pts)
}

// polygon adds a closed polygon wound clockwise on the screen, so that
// overlapping polygons add up instead of cancelling.
func (p *BoardPainter) polygon(pts []fpoint) {
	area := 0.0
	for i, a := range pts {
		b := pts[(i+1)%len(pts)]
		area += a.x*b.y - b.x*a.y
	}
	if area < 0 {
		rev := make([]fpoint, len(pts))
		for i, q := range pts {
			rev[len(pts)-1-i] = q
		}
		pts = rev
	}
	p.path = append(p.path, pts)
}

// fill composites colour c through the union of the polygons added since
// the last fill, within clip, and forgets them. Each polygon is rasterized
// on its own and the union's coverage is the most any of them covers a
// pixel: the rasterizer's sum of overlapping shapes would count an edge
// twice where a stroke's discs and segments meet, darkening and widening
// every stroke by a fraction of a pixel, and the browser's canvas does not.
func (p *BoardPainter) fill(dst *image.RGBA, clip image.Rectangle, c color.NRGBA) {
	defer func() { p.path = p.path[:0] }()
	if len(p.path) == 0 || c.A == 0 {
		return
	}
	box := image.Rectangle{}
	boxes := p.boxes[:0]
	for _, poly := range p.path {
		b := polygonBox(poly).Intersect(clip)
		boxes = append(boxes, b)
		box = box.Union(b)
	}
	p.boxes = boxes
	if box.Empty() {
		return
	}
	p.mask = resetAlpha(p.mask, box)
	for i, poly := range p.path {
		b := boxes[i]
		if b.Empty() {
			continue
		}
		p.z.Reset(b.Dx(), b.Dy())
		p.z.DrawOp = draw.Src
		ox, oy := float64(b.Min.X), float64(b.Min.Y)
		for k, q := range poly {
			if k == 0 {
				p.z.MoveTo(float32(q.x-ox), float32(q.y-oy))
			} else {
				p.z.LineTo(float32(q.x-ox), float32(q.y-oy))
			}
		}
		p.z.ClosePath()
		p.one = resetAlpha(p.one, b)
		p.z.Draw(p.one, b, image.Opaque, image.Point{})
		for y := b.Min.Y; y < b.Max.Y; y++ {
			src := p.one.Pix[p.one.PixOffset(b.Min.X, y):][:b.Dx()]
			dst := p.mask.Pix[p.mask.PixOffset(b.Min.X, y):][:b.Dx()]
			for x, v := range src {
				if v > dst[x] {
					dst[x] = v
				}
			}
		}
	}
	draw.DrawMask(dst, box, image.NewUniform(c), image.Point{}, p.mask, box.Min, draw.Over)
}

// polygonBox is the pixels a polygon touches.
func polygonBox(poly []fpoint) image.Rectangle {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, q := range poly {
		x0, y0, x1, y1 = min(x0, q.x), min(y0, q.y), max(x1, q.x), max(y1, q.y)
	}
	return image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1))+1, int(math.Ceil(y1))+1)
}

// resetAlpha returns a cleared mask over r, reusing a's memory.
func resetAlpha(a *image.Alpha, r image.Rectangle) *image.Alpha {
	n := r.Dx() * r.Dy()
	if a == nil || cap(a.Pix) < n {
		return image.NewAlpha(r)
	}
	a.Pix = a.Pix[:n]
	clear(a.Pix)
	a.Stride, a.Rect = r.Dx(), r
	return a
}

// appendQuad appends a quadratic curve from a (already in line) through
// control point c to b, flattened to segments of at most two pixels.
func appendQuad(line []fpoint, a, c, b fpoint) []fpoint {
	l := math.Hypot(c.x-a.x, c.y-a.y) + math.Hypot(b.x-c.x, b.y-c.y)
	n := min(32, max(1, int(math.Ceil(l/2))))
	for i := 1; i <= n; i++ {
		s := float64(i) / float64(n)
		u := 1 - s
		line = append(line, fpoint{u*u*a.x + 2*u*s*c.x + s*s*b.x, u*u*a.y + 2*u*s*c.y + s*s*b.y})
	}
	return line
}

// ellipse is the outline of the ellipse inscribed in the box of corners a
// and b, fine enough for its size.
func ellipse(a, b fpoint) []fpoint {
	cx, cy := (a.x+b.x)/2, (a.y+b.y)/2
	rx, ry := math.Abs(b.x-a.x)/2, math.Abs(b.y-a.y)/2
	n := min(256, max(16, int(math.Ceil((rx+ry)*math.Pi/2))))
	pts := make([]fpoint, n)
	for i := range pts {
		t := 2 * math.Pi * float64(i) / float64(n)
		pts[i] = fpoint{cx + rx*math.Cos(t), cy + ry*math.Sin(t)}
	}
	return pts
}

// parseColor reads #rrggbb or #rrggbbaa (the only forms the log holds,
// domain.checkColor) and multiplies its alpha by alpha; anything else is
// black, as a canvas keeps its default.
func parseColor(s string, alpha float64) color.NRGBA {
	c := color.NRGBA{A: 255}
	if (len(s) == 7 || len(s) == 9) && s[0] == '#' {
		v, err := strconv.ParseUint(s[1:], 16, 32)
		if err == nil {
			if len(s) == 7 {
				v = v<<8 | 0xff
			}
			c = color.NRGBA{uint8(v >> 24), uint8(v >> 16), uint8(v >> 8), uint8(v)}
		}
	}
	c.A = uint8(math.Round(float64(c.A) * alpha))
	return c
}

// FitSlide letterboxes a slide's image into a white page of w × h pixels,
// as the browser draws it under the board.
func FitSlide(img image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	if img == nil {
		return dst
	}
	ib := img.Bounds()
	if ib.Empty() {
		return dst
	}
	s := min(float64(w)/float64(ib.Dx()), float64(h)/float64(ib.Dy()))
	x0 := (float64(w) - float64(ib.Dx())*s) / 2
	y0 := (float64(h) - float64(ib.Dy())*s) / 2
	// Placed at the same fractional position as the browser places it.
	m := f64.Aff3{s, 0, x0 - float64(ib.Min.X)*s, 0, s, y0 - float64(ib.Min.Y)*s}
	xdraw.BiLinear.Transform(dst, m, img, ib, xdraw.Over, nil)
	return dst
}
