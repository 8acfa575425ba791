package lessonvideo

import (
	"image"
	"image/draw"

	"classroom/domain"
)

// boardCache keeps a board painted with all but its newest objects, so that
// a frame in which a stroke grew or an object was added paints only what
// is new on a copy of it, instead of the whole board again: drawing many
// strokes a minute would otherwise repaint every stroke on the board in
// every frame. The newest object stays out of the cache because a stroke
// still being drawn grows part by part. An erased, undone or redone object
// (its Hidden changed), another slide or another background makes the
// cache paint the board again from its background.
type boardCache struct {
	slide  string      // the slide's key
	bg     *image.RGBA // the background painted in base
	base   *image.RGBA // bounds: the board's rectangle in the frame
	cached []paintedObject
}

// paintedObject is what an object looked like when it was painted into the
// cache: objects change in place only by growing (a stroke's parts) or by
// being hidden or shown.
type paintedObject struct {
	o      *domain.Object
	hidden bool
	points int
}

// paint paints board b of slide key over background bg into the rectangle
// r of dst, as p.Paint does.
func (c *boardCache) paint(p *BoardPainter, dst *image.RGBA, r image.Rectangle, key string, b *domain.Board, bg *image.RGBA) {
	var objs []*domain.Object
	if b != nil {
		objs = b.Objects
	}
	if c.base == nil || c.base.Rect != r || c.slide != key || c.bg != bg || !c.valid(objs) {
		if c.base == nil || c.base.Rect != r {
			c.base = image.NewRGBA(r)
		}
		p.Paint(c.base, r, nil, bg)
		c.slide, c.bg, c.cached = key, bg, c.cached[:0]
	}
	if settled := len(objs) - 1; settled > len(c.cached) {
		p.PaintObjects(c.base, r, objs[len(c.cached):settled])
		for _, o := range objs[len(c.cached):settled] {
			c.cached = append(c.cached, paintedObject{o: o, hidden: o.Hidden, points: len(o.Points)})
		}
	}
	draw.Draw(dst, r, c.base, r.Min, draw.Src)
	p.PaintObjects(dst, r, objs[len(c.cached):])
}

// valid tells whether the cached objects are still objs' first ones, as
// they were painted.
func (c *boardCache) valid(objs []*domain.Object) bool {
	if len(c.cached) > len(objs) {
		return false
	}
	for i, po := range c.cached {
		if o := objs[i]; o != po.o || o.Hidden != po.hidden || len(o.Points) != po.points {
			return false
		}
	}
	return true
}
