package drawload

import (
	"math"
	"math/rand/v2"
	"time"

	"classroom/domain"
)

// Pen is a pen wandering over the board, as a hand draws.
type Pen struct {
	at  domain.Point
	rng *rand.Rand
}

// NewPen returns a pen at a random place on a 1600 × 900 board.
func NewPen(rng *rand.Rand) *Pen {
	return &Pen{at: domain.Point{X: rng.Float64() * 1600, Y: rng.Float64() * 900, Pressure: 0.5}, rng: rng}
}

// Part returns the n points the pen draws between from and to, measured
// from the stroke's start, with board coordinates to a hundredth as the
// board rounds them.
func (p *Pen) Part(n int, from, to time.Duration) domain.Points {
	pts := make(domain.Points, n)
	for k := range pts {
		p.at.X = math.Round((p.at.X+p.rng.Float64()*8-4)*100) / 100
		p.at.Y = math.Round((p.at.Y+p.rng.Float64()*8-4)*100) / 100
		p.at.T = (from + (to-from)*time.Duration(k+1)/time.Duration(n)).Milliseconds()
		pts[k] = p.at
	}
	return pts
}

// Between returns a random value in [lo, hi).
func Between[T ~int | ~int64](rng *rand.Rand, lo, hi T) T {
	return lo + T(rng.Int64N(int64(hi-lo)))
}
