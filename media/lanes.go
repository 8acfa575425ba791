package media

import (
	"sync"
)

const (
	// laneQueue is how many packets (each for some of a lane's subscribers)
	// may wait for a lane. Past it the lane is overrun, and the subscribers
	// of a packet it could not take lose it (video then waits for a
	// keyframe), never the publisher or another lane.
	laneQueue = 4096
	// laneBatch is how many queued packets a lane forwards between two
	// flushes of the shared port: more makes fewer, fuller sendmmsg calls,
	// and holds the first datagram of the batch back longer.
	laneBatch = 16
)

// lanes spread a stage's forwarding over a few goroutines, one a core. Each
// subscriber's down tracks belong to one lane; for every packet a
// publication hands each lane the slice of its subscribers in that lane, and
// the lane writes the packet to them one after another.
//
// A goroutine a subscriber, woken for each packet, would fill the
// scheduler's run queue with hundreds of writers in a large class, and every
// handshake of a student joining would wait behind them; a lane is woken
// once a packet for all its subscribers. And one goroutine writing many
// datagrams in a row lets the shared port send them with one system call
// (Engine.hold and release).
//
// A lane never waits for one subscriber: writes to a subscriber's
// connection go to a UDP socket and do not block on it, and a subscriber
// whose connection is still starting (its SRTP session not yet keyed) is
// fed through its own queue and goroutine until its first packets are out
// (downTrack.deliver).
type lanes struct {
	engine *Engine // holds and releases the shared port's writes; nil for none
	queues []chan job
	stop   chan struct{}
	once   sync.Once
}

// job is one packet for some of a lane's subscribers.
type job struct {
	p    *packet
	subs []*downTrack // read only: a publication replaces the slice, never changes it
}

// newLanes starts n lanes, counted in wg, until close.
func newLanes(n int, engine *Engine, wg *sync.WaitGroup) *lanes {
	l := &lanes{engine: engine, queues: make([]chan job, n), stop: make(chan struct{})}
	for i := range l.queues {
		l.queues[i] = make(chan job, laneQueue)
		wg.Go(func() { l.run(l.queues[i]) })
	}
	return l
}

// submit hands a job to lane i without waiting. When the lane is overrun,
// the job's subscribers lose the packet.
func (l *lanes) submit(i int, j job) {
	select {
	case l.queues[i] <- j:
	default:
		for _, d := range j.subs {
			d.lose()
		}
	}
}

// close stops the lanes; jobs still queued are dropped.
func (l *lanes) close() { l.once.Do(func() { close(l.stop) }) }

func (l *lanes) run(queue chan job) {
	for {
		select {
		case j := <-queue:
			l.engine.hold()
			j.deliver()
		batch:
			for range laneBatch - 1 {
				select {
				case j = <-queue:
					j.deliver()
				default:
					break batch
				}
			}
			l.engine.release()
		case <-l.stop:
			return
		}
	}
}

func (j job) deliver() {
	for _, d := range j.subs {
		d.deliver(j.p)
	}
}
