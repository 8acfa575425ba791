package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/realtime/client"
	"classroom/realtime/client/drawload"
)

// How a student draws, after the browser's board: a stroke is sent as
// stroke.drawn parts partsPerSecond times a second, each part carrying the
// points since the last one.
const (
	partsPerSecond = 30
	minPoints      = 5 // points a slot
	maxPoints      = 10
	minStroke      = 500 * time.Millisecond
	maxStroke      = 2 * time.Second
	minPause       = 200 * time.Millisecond // between two strokes
	maxPause       = time.Second
)

// board is one participant: its client, when it applied each event, and,
// for what it drew, when each part went and what the server answered. Fold
// runs on the client's receiving goroutine, draw and its answers' reader on
// their own.
type board struct {
	drawload.Arrivals // when it applied each event
	c                 *client.Client

	mu sync.Mutex // guards what draw and its answers' reader share
	// Written by draw and its answers' reader, read once draw returned.
	sent    map[uuid.UUID]time.Duration // when each part went
	acked   map[uuid.UUID]int64         // the seq each part became
	commits []time.Duration             // send to ack
	lastSeq int64
	parts   int
	refused map[domain.Code]int
	err     error // a failure other than a refusal
}

// posted is a part sent and not yet answered.
type posted struct {
	id     uuid.UUID
	at     time.Duration
	answer <-chan client.Answer
}

// draw draws strokes, a pause between two, until the time is up, and
// returns once every part it sent is answered.
func (b *board) draw(ctx context.Context, rng *rand.Rand, until time.Time) {
	b.sent, b.acked, b.refused = map[uuid.UUID]time.Duration{}, map[uuid.UUID]int64{}, map[domain.Code]int{}
	answers := make(chan posted, 1024)
	var reader sync.WaitGroup
	reader.Go(func() { b.readAnswers(ctx, answers) })
	defer reader.Wait()
	defer close(answers)
	pen := drawload.NewPen(rng)
	for time.Now().Before(until) && ctx.Err() == nil {
		if err := b.stroke(ctx, rng, pen, drawload.Between(rng, minStroke, maxStroke), answers); err != nil {
			b.mu.Lock()
			b.err = err
			b.mu.Unlock()
			return
		}
		select {
		case <-time.After(drawload.Between(rng, minPause, maxPause)):
		case <-ctx.Done():
		}
	}
}

// readAnswers waits for the answers of the parts sent, in the order sent.
func (b *board) readAnswers(ctx context.Context, answers <-chan posted) {
	for p := range answers {
		var a client.Answer
		select {
		case a = <-p.answer:
		case <-ctx.Done():
			b.mu.Lock()
			b.err = ctx.Err()
			b.mu.Unlock()
			continue
		}
		at := time.Since(b.Epoch)
		var refusal *domain.Error
		b.mu.Lock()
		switch {
		case errors.As(a.Err, &refusal):
			b.refused[refusal.Code]++
		case a.Err != nil:
			b.err = a.Err
		default:
			b.acked[p.id] = a.Seq
			b.commits = append(b.commits, at-p.at)
			b.lastSeq = max(b.lastSeq, a.Seq)
		}
		b.mu.Unlock()
	}
}

// stroke sends one stroke's parts, one every 1/partsPerSecond while the
// pen is down, each without waiting for the one before it to be answered.
func (b *board) stroke(ctx context.Context, rng *rand.Rand, pen *drawload.Pen, length time.Duration, answers chan<- posted) error {
	const slot = time.Second / partsPerSecond
	perSlot := drawload.Between(rng, minPoints, maxPoints+1)
	begun := time.Now()
	s := domain.StrokeDrawn{Object: uuid.New(), Tool: domain.ToolPen, Color: "#1e40af", Width: 3}
	var drawn time.Duration // of the stroke, sent so far
	for part := 0; drawn < length; part++ {
		if wait := min(time.Duration(part+1)*slot, length) - time.Since(begun); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		now := time.Now()
		upTo := min(now.Sub(begun), length)
		n := max(1, int(int64(perSlot)*int64(upTo-drawn)/int64(slot)))
		pts := pen.Part(n, drawn, upTo)
		drawn = upTo
		p := s // each part its own payload: the client encodes it as it sends
		p.Part, p.Points = part, pts
		if part > 0 {
			p.Tool, p.Color, p.Width = "", "", 0 // style rides on part 0 only
		}
		id := uuid.New()
		at := time.Since(b.Epoch)
		answer, err := b.c.Post(id, &p)
		if err != nil {
			return err
		}
		b.mu.Lock()
		b.sent[id] = at
		b.parts++
		b.mu.Unlock()
		answers <- posted{id: id, at: at, answer: answer}
	}
	return nil
}
