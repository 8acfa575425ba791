package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"classroom/domain"
	"classroom/realtime/client"
	"classroom/realtime/client/drawload"
)

// lesson is a lesson created on the server, with its two links' tokens.
type lesson struct {
	wsURL   string
	teacher string
	student string
}

// createLesson creates a lesson on the server at base (http://host:port).
func createLesson(ctx context.Context, base string, title string) (lesson, error) {
	u, err := url.Parse(base)
	if err != nil {
		return lesson{}, fmt.Errorf("server URL: %w", err)
	}
	body, err := json.Marshal(map[string]string{"title": title})
	if err != nil {
		return lesson{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.JoinPath("/api/lessons").String(), bytes.NewReader(body))
	if err != nil {
		return lesson{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return lesson{}, fmt.Errorf("create a lesson: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return lesson{}, fmt.Errorf("create a lesson: HTTP %d: %s", resp.StatusCode, b)
	}
	var created struct {
		ID       string                 `json:"id"`
		Teacher  struct{ Token string } `json:"teacher"`
		Students struct{ Token string } `json:"students"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil {
		return lesson{}, fmt.Errorf("decode the lesson: %w", err)
	}
	ws := *u
	ws.Scheme = "ws"
	if u.Scheme == "https" {
		ws.Scheme = "wss"
	}
	return lesson{wsURL: ws.JoinPath("/api/lessons", created.ID, "ws").String(),
		teacher: created.Teacher.Token, student: created.Students.Token}, nil
}

// runClass runs one lesson of n students drawing and returns its figures.
func runClass(ctx context.Context, cfg config, n int) (result, error) {
	l, err := createLesson(ctx, cfg.server, fmt.Sprintf("classload %d students", n))
	if err != nil {
		return result{}, err
	}
	epoch := time.Now()
	var batches client.Batches    // every board receives the same messages: decoded once for all
	boards := make([]*board, n+1) // the teacher first
	for i := range boards {
		boards[i] = &board{Arrivals: drawload.Arrivals{Epoch: epoch}}
	}
	defer inParallel(len(boards), cfg.joinParallel, func(i int) error {
		if c := boards[i].c; c != nil {
			c.Close()
		}
		return nil
	})
	join := func(i int) error {
		tok, name := l.student, fmt.Sprintf("Student %d", i)
		if i == 0 {
			tok, name = l.teacher, "Teacher"
		}
		c, err := client.Dial(ctx, client.Options{URL: l.wsURL, Token: tok, Name: name, Loopback: true, OnEvent: boards[i].Fold, Batches: &batches, ReadBuffer: cfg.readBuffer,
			Version: cfg.version})
		if err != nil {
			return fmt.Errorf("%s joins: %w", name, err)
		}
		boards[i].c = c
		return nil
	}
	if err := join(0); err != nil {
		return result{}, err
	}
	teacher := boards[0].c
	for _, p := range []domain.Payload{&domain.LessonStarted{}, &domain.DrawingPermitted{Allowed: true}} {
		if _, err := teacher.Send(ctx, p); err != nil {
			return result{}, fmt.Errorf("the teacher: %s: %w", p.Kind(), err)
		}
	}
	if err := inParallel(n, cfg.joinParallel, func(i int) error { return join(i + 1) }); err != nil {
		return result{}, err
	}
	if _, err := inStep(ctx, boards, teacher.Seq()); err != nil {
		return result{}, err
	}

	before, err := measure(cfg)
	if err != nil {
		return result{}, err
	}
	stopProfile, err := startProfile(cfg.cpuProfile, n)
	if err != nil {
		return result{}, err
	}
	fmt.Fprintf(os.Stderr, "classload: %d students drawing for %s\n", n, cfg.duration)
	start := time.Now()
	until := start.Add(cfg.duration)
	var wg sync.WaitGroup
	for i, b := range boards[1:] {
		rng := rand.New(rand.NewPCG(uint64(n), uint64(i)))
		wg.Go(func() { b.draw(ctx, rng, until) })
	}
	wg.Wait()
	drew := time.Since(start)
	if err := stopProfile(); err != nil {
		return result{}, err
	}
	after, err := measure(cfg)
	if err != nil {
		return result{}, err
	}
	var last int64
	for _, b := range boards[1:] {
		if b.err != nil {
			return result{}, fmt.Errorf("%s: %w", b.c.Participant(), b.err)
		}
		last = max(last, b.lastSeq)
	}
	hash, err := inStep(ctx, boards, last)
	if err != nil {
		return result{}, err
	}
	return summarize(boards, n, drew, before, after, hash), nil
}

// inStep waits until every board holds event seq, and checks that none saw
// a gap and that all hold the same state; it returns the state's hash.
func inStep(ctx context.Context, boards []*board, seq int64) (string, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for _, b := range boards {
		for b.c.Seq() < seq {
			if time.Now().After(deadline) {
				return "", fmt.Errorf("%s at seq %d two minutes on, the lesson at %d", b.c.Participant(), b.c.Seq(), seq)
			}
			select {
			case <-time.After(5 * time.Millisecond):
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		if err := b.c.Err(); err != nil {
			return "", fmt.Errorf("%s saw a protocol violation: %w", b.c.Participant(), err)
		}
	}
	want := boards[0].c.Hash()
	for _, b := range boards[1:] {
		if got := b.c.Hash(); got != want || b.c.Seq() != boards[0].c.Seq() {
			return "", fmt.Errorf("%s is out of step: state hash %s at seq %d, the teacher's %s at %d",
				b.c.Participant(), got, b.c.Seq(), want, boards[0].c.Seq())
		}
	}
	return want, nil
}

// inParallel calls f(0) … f(n-1) with at most limit at a time and returns
// the first error.
func inParallel(n, limit int, f func(i int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, max(1, limit))
	)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// fanout returns, for every part the students sent and the server stored,
// how long it took to reach the last of the other boards.
func fanout(boards []*board) []time.Duration {
	var lags []time.Duration
	for i, b := range boards {
		for id, sent := range b.sent {
			seq, ok := b.acked[id]
			if !ok {
				continue
			}
			var lag time.Duration
			for j, other := range boards {
				if j == i {
					continue
				}
				if at, ok := other.At(seq); ok {
					lag = max(lag, at-sent)
				}
			}
			lags = append(lags, lag)
		}
	}
	slices.Sort(lags)
	return lags
}
