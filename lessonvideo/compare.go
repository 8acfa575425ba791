package lessonvideo

import (
	"fmt"
	"image"
)

// Tolerances of Compare. A video frame is the painted board after H.264:
// quantisation blurs edges a little, and 4:2:0 sampling halves the colour's
// resolution, so that a pixel on the edge between two colours takes some
// of its neighbour's. Another rasterizer antialiases edges its own way too.
// So the mean difference is taken over the colour channels, but a pixel
// counts as far off by its brightness (luma), which H.264 keeps at full
// resolution: a missing stroke makes many pixels far off, an edge's colour
// fringe hardly any.
const (
	MaxMeanDiff  = 4.0   // mean absolute difference per channel, of 255
	FarDiff      = 48    // luma this far off makes a pixel "far"
	MaxFarPixels = 0.001 // the share of far pixels allowed
)

// Diff sums up how two pictures of a board differ.
type Diff struct {
	Mean float64 // mean absolute difference per channel (R, G, B)
	Far  float64 // the share of pixels whose luma is FarDiff or more off
}

// Within tells whether the pictures agree within the tolerances.
func (d Diff) Within() bool { return d.Mean <= MaxMeanDiff && d.Far <= MaxFarPixels }

func (d Diff) String() string {
	return fmt.Sprintf("mean difference %.2f (at most %.1f), %.3f%% of pixels far off (at most %.1f%%)",
		d.Mean, MaxMeanDiff, d.Far*100, MaxFarPixels*100)
}

// Compare compares a and b within r.
func Compare(a, b *image.RGBA, r image.Rectangle) Diff {
	var sum, far, n int64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i, j := a.PixOffset(x, y), b.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				sum += abs(int64(a.Pix[i+c]) - int64(b.Pix[j+c]))
			}
			if abs(luma(a.Pix[i:i+3])-luma(b.Pix[j:j+3])) >= FarDiff*1000 {
				far++
			}
			n++
		}
	}
	if n == 0 {
		return Diff{}
	}
	return Diff{Mean: float64(sum) / float64(3*n), Far: float64(far) / float64(n)}
}

// luma is a pixel's brightness (BT.601), times 1000.
func luma(rgb []byte) int64 { return 299*int64(rgb[0]) + 587*int64(rgb[1]) + 114*int64(rgb[2]) }

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
