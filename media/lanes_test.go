package media

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// stallable records what a down track writes, like written, and blocks
// every write while stalled.
type stallable struct {
	written
	stalled atomic.Pointer[chan struct{}]
}

func (s *stallable) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if c := s.stalled.Load(); c != nil {
		<-*c
	}
	return s.written.WriteRTP(h, payload)
}

func (s *stallable) stall() func() {
	c := make(chan struct{})
	s.stalled.Store(&c)
	return func() {
		s.stalled.Store(nil)
		close(c)
	}
}

func continuous(t *testing.T, name string, seqs []uint16) {
	t.Helper()
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("%s: sequence jumps from %d to %d", name, seqs[i-1], seqs[i])
		}
	}
}

// TestLanes: subscribers spread over two lanes each get every packet, in
// order; once their first packets are out they are live, fed by their lane.
func TestLanes(t *testing.T) {
	var wg sync.WaitGroup
	l := newLanes(2, nil, &wg)
	p, _ := testPublication()
	p.fan = l
	var ws []*written
	var ds []*downTrack
	for i := range 6 {
		w := &written{}
		d := subscriber(p, w)
		d.lane = i % 2
		d.start(&wg)
		p.subscribe(d)
		ws, ds = append(ws, w), append(ds, d)
	}
	const n = 300
	for i := range n {
		p.handOut(vp8(uint16(65000+i), uint32(i*3000), i == 0))
		if i%6 == 5 {
			time.Sleep(time.Millisecond) // a frame's packets, then a pause
		}
	}
	for i, w := range ws {
		waitUntil(t, func() bool { return len(w.seqs()) == n })
		continuous(t, "subscriber", w.seqs())
		ds[i].fwdMu.Lock()
		live := ds[i].live
		ds[i].fwdMu.Unlock()
		if !live {
			t.Fatalf("subscriber %d is not live after %d packets", i, n)
		}
		if ds[i].dropped.Load() != 0 {
			t.Fatalf("subscriber %d lost %d packets", i, ds[i].dropped.Load())
		}
	}
	if len(p.byLane) != 2 || len(p.byLane[0]) != 3 || len(p.byLane[1]) != 3 {
		t.Fatalf("subscribers by lane: %v, want three in each of two", p.byLane)
	}
	p.unsubscribe(ds[0])
	if len(p.byLane[0]) != 2 || len(p.byLane[1]) != 3 {
		t.Fatalf("after one left lane 0: %d and %d subscribers", len(p.byLane[0]), len(p.byLane[1]))
	}
	for _, d := range ds {
		d.close()
	}
	l.close()
	wg.Wait()
}

// TestLaneOverrun: when a lane falls behind (here, a write that blocks),
// the publisher does not wait and the other lane's subscribers lose
// nothing; the overrun lane's subscribers lose packets, then resume at the
// next keyframe with continuous sequence numbers.
func TestLaneOverrun(t *testing.T) {
	var wg sync.WaitGroup
	l := newLanes(2, nil, &wg)
	p, asked := testPublication()
	p.fan = l
	blocker, behind, other := &stallable{}, &written{}, &written{}
	var ds []*downTrack
	for i, w := range []webrtc.TrackLocalWriter{blocker, behind, other} {
		d := newDownTrack(p, nil)
		d.ssrc, d.pt, d.write = 4242, 100, w
		d.lane = []int{0, 0, 1}[i]
		d.start(&wg)
		p.subscribe(d)
		ds = append(ds, d)
	}
	seq, ts := uint16(100), uint32(0)
	send := func(key bool) {
		p.handOut(vp8(seq, ts, key))
		seq++
		ts += 3000
	}
	send(true)
	for range 5 {
		send(false)
	}
	waitUntil(t, func() bool { return len(blocker.seqs()) == 6 && len(behind.seqs()) == 6 && len(other.seqs()) == 6 })

	resume := blocker.stall()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range laneQueue + 200 {
			send(false)
			if i%64 == 0 {
				time.Sleep(time.Millisecond) // the live lane keeps up
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the publication waited for an overrun lane")
	}
	sent := 6 + laneQueue + 200
	waitUntil(t, func() bool { return len(other.seqs()) == sent })
	if ds[2].dropped.Load() != 0 {
		t.Fatalf("the other lane's subscriber lost %d packets", ds[2].dropped.Load())
	}
	if ds[1].dropped.Load() == 0 {
		t.Fatal("the overrun lane lost nothing")
	}
	before := asked.Load()
	resume()
	waitUntil(t, func() bool { return len(l.queues[0]) == 0 })
	// Until a keyframe comes it sends nothing and asks for one (at most
	// every keyframeInterval).
	waitUntil(t, func() bool {
		send(false)
		time.Sleep(10 * time.Millisecond)
		return asked.Load() > before
	})
	n := len(behind.seqs())
	send(true)
	send(false)
	waitUntil(t, func() bool { return len(behind.seqs()) == n+2 })
	continuous(t, "the overrun lane's subscriber", behind.seqs())
	for _, d := range ds {
		d.close()
	}
	l.close()
	wg.Wait()
}
