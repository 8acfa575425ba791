package sfu

import (
	"testing"
	"time"
)

// TestSimulcastHeadroom: a subscriber switches up only to a layer that fits
// in upHeadroom percent of its estimate, and stays on a layer whose rate
// wavers just under the estimate, so a ramping publisher does not make it
// flip between layers, a keyframe each time.
func TestSimulcastHeadroom(t *testing.T) {
	var layers []*publication
	for _, rate := range []int64{100_000, 500_000} {
		p, _ := testPublication()
		p.bitrate.Store(rate)
		p.lastPacket.Store(time.Now().UnixNano())
		layers = append(layers, p)
	}
	var d layerChoice
	d.init(layers[0])
	d.add(layers[1])
	d.choose()
	d.estimate.Store(200_000)
	d.choose()
	if d.target.Load() != layers[0] {
		t.Fatal("a 500 kbit/s layer chosen for a 200 kbit/s estimate")
	}
	// The upper layer comes to 95 % of the estimate: not enough to go up.
	layers[1].bitrate.Store(190_000)
	d.choose()
	if d.target.Load() != layers[0] {
		t.Fatal("switched up to a layer at 95 % of the estimate")
	}
	// At 75 % it fits with headroom.
	layers[1].bitrate.Store(150_000)
	d.choose()
	if d.target.Load() != layers[1] {
		t.Fatal("did not switch up to a layer at 75 % of the estimate")
	}
	// Once there, it stays while the layer fits in the estimate at all...
	layers[1].bitrate.Store(195_000)
	d.choose()
	if d.target.Load() != layers[1] {
		t.Fatal("left a layer that still fits the estimate")
	}
	// ...and goes down when it does not.
	layers[1].bitrate.Store(260_000)
	d.choose()
	if d.target.Load() != layers[0] {
		t.Fatal("stayed on a layer above the estimate")
	}
}

// TestLayerChoiceAdmit: the writer forwards the current layer; a packet of
// the layer chosen next is held back, with a keyframe asked for, until its
// keyframe, which makes it current; a layer given up on is held back too.
func TestLayerChoiceAdmit(t *testing.T) {
	low, lowAsked := testPublication()
	high, highAsked := testPublication()
	for _, l := range []*publication{low, high} {
		l.lastPacket.Store(time.Now().UnixNano())
	}
	low.bitrate.Store(100_000)
	high.bitrate.Store(1_000_000)
	var c layerChoice
	c.init(low)
	from := func(l *publication, key bool) *packet {
		p := vp8(1, 0, key)
		p.from = l
		return p
	}
	if ok, switched := c.admit(from(low, false)); !ok || switched {
		t.Fatalf("the only layer: admitted %v, switched %v", ok, switched)
	}
	if !c.add(high) || c.add(high) {
		t.Fatal("add does not tell a new layer from a known one")
	}
	c.choose() // no estimate: the best
	if c.target.Load() != high || highAsked.Load() != 1 {
		t.Fatalf("the best layer is not chosen and asked for a keyframe (asked %d)", highAsked.Load())
	}
	if !c.wanted(low) || !c.wanted(high) {
		t.Fatal("while switching, both layers' packets are wanted")
	}
	if ok, _ := c.admit(from(low, false)); !ok {
		t.Fatal("the current layer is held back before the switch")
	}
	high.lastKeyframeRequest.Store(0) // the rate limit's window is over
	if ok, _ := c.admit(from(high, false)); ok || highAsked.Load() != 2 {
		t.Fatalf("an interframe of the next layer: admitted %v, asked %d times", ok, highAsked.Load())
	}
	if ok, switched := c.admit(from(high, true)); !ok || !switched || c.current.Load() != high {
		t.Fatalf("the next layer's keyframe: admitted %v, switched %v", ok, switched)
	}
	if c.wanted(low) {
		t.Fatal("a layer neither current nor chosen is still wanted")
	}
	if ok, _ := c.admit(from(low, true)); ok {
		t.Fatal("a layer given up on is admitted")
	}
	if lowAsked.Load() != 0 {
		t.Fatalf("the layer given up on was asked for %d keyframes", lowAsked.Load())
	}
}
