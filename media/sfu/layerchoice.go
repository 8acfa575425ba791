package sfu

import (
	"sync/atomic"
	"time"
)

const (
	// upHeadroom is the percentage of a subscriber's estimate a higher layer
	// must fit in before the subscriber switches up to it.
	upHeadroom = 80
	// choosePace is how many packets a subscriber is forwarded between two
	// layer choices made on its writer, besides those its REMB prompts.
	choosePace = 64
)

// layerChoice chooses which simulcast layer of a track one subscriber is
// sent: the best its estimated bandwidth (REMB) allows. A layer chosen
// becomes current at its next keyframe, so that the subscriber's decoder
// sees one continuous stream. A track without simulcast has one layer,
// always current.
//
// Its layers, current, target and estimate may be read and written from
// any goroutine; forwards belongs to the down track's writer.
type layerChoice struct {
	layers   atomic.Pointer[[]*publication] // every layer known
	current  atomic.Pointer[publication]    // the layer forwarded
	target   atomic.Pointer[publication]    // the layer to switch to at its next keyframe
	estimate atomic.Int64                   // the subscriber's bandwidth estimate, bits a second; 0 for none
	forwards int                            // packets admitted, to pace choices
}

// init makes first the one layer, current.
func (c *layerChoice) init(first *publication) {
	c.layers.Store(&[]*publication{first})
	c.current.Store(first)
	c.target.Store(first)
}

// all returns every layer known.
func (c *layerChoice) all() []*publication { return *c.layers.Load() }

// add makes another layer known, reporting false when it already was.
func (c *layerChoice) add(p *publication) bool {
	old := c.all()
	for _, l := range old {
		if l == p {
			return false
		}
	}
	layers := append(append([]*publication(nil), old...), p)
	c.layers.Store(&layers)
	return true
}

// wanted reports whether the packets of layer p are worth queueing: they
// are of the layer forwarded or of the one to switch to.
func (c *layerChoice) wanted(p *publication) bool {
	return p == nil || p == c.current.Load() || p == c.target.Load()
}

// setEstimate takes the subscriber's bandwidth estimate and chooses again.
func (c *layerChoice) setEstimate(bitrate int64) {
	c.estimate.Store(bitrate)
	c.choose()
}

// choose picks the layer to forward among those sending: the best whose
// bitrate the subscriber's estimate allows, the lowest when none fits, and
// the best while there is no estimate. When no layer is sending, the choice
// stays. A layer newly chosen is asked for a keyframe.
func (c *layerChoice) choose() {
	layers := c.all()
	if len(layers) < 2 {
		return
	}
	estimate := c.estimate.Load()
	now := time.Now()
	// Going up takes headroom: a layer above the one chosen must fit in
	// upHeadroom of the estimate, so that a rate near the estimate (a
	// publisher ramping up, an estimate wavering) does not flip the
	// subscriber between two layers, each flip costing a keyframe.
	var targetRate int64 = -1
	if t := c.target.Load(); t != nil && t.sending(now) {
		targetRate = t.bitrate.Load()
	}
	var best, lowest *publication
	for _, l := range layers {
		if !l.sending(now) {
			continue // paused: its bitrate is stale and its keyframe would never come
		}
		r := l.bitrate.Load()
		if lowest == nil || r < lowest.bitrate.Load() {
			lowest = l
		}
		limit := estimate
		if targetRate >= 0 && r > targetRate {
			limit = estimate * upHeadroom / 100
		}
		if (estimate == 0 || r <= limit) && (best == nil || r > best.bitrate.Load()) {
			best = l
		}
	}
	if best == nil {
		best = lowest
	}
	if best == nil {
		return
	}
	if c.target.Swap(best) != best && best != c.current.Load() {
		best.RequestKeyframe()
	}
}

// admit decides, on the writer, whether a packet goes on to the subscriber.
// A packet of a layer given up on while it queued does not; nor does one of
// the layer to switch to before its keyframe, which is asked for. The
// keyframe makes that layer current, and admit says so (switched). Every
// choosePace packets admitted, the layer is chosen again.
func (c *layerChoice) admit(p *packet) (ok, switched bool) {
	if cur := c.current.Load(); p.from != nil && p.from != cur {
		if p.from != c.target.Load() {
			return false, false
		}
		if !p.Keyframe {
			p.from.RequestKeyframe()
			return false, false
		}
		c.current.Store(p.from)
		switched = true
	}
	if c.forwards++; c.forwards%choosePace == 0 {
		c.choose()
	}
	return true, switched
}
