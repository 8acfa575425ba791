package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/domain/timeline"
	"classroom/realtime/client"
)

// config is one run: a classroom server process, a teacher and students
// writing through it, and the faults done to it while they write.
type config struct {
	Binary      string        // the classroom binary
	Dir         string        // scratch directory: the server's data and log
	Students    int           // besides the teacher
	Kills       int           // kill -9 of the server, each followed by a restart
	PGRestarts  int           // crash-restarts of PostgreSQL (PGRestart)
	DatabaseURL string        // PostgreSQL; empty for the embedded SQLite store
	PGRestart   string        // shell command that crash-restarts PostgreSQL
	Every       time.Duration // between two faults
	Logf        func(format string, args ...any)
}

// report is what a run found. A correct server has zero in every count but
// Acknowledged, Refused and Events.
type report struct {
	Acknowledged     int // commands acknowledged (resends not counted)
	Refused          int // commands refused with a final error
	Events           int64
	Lost             int // acknowledged, but not in the log at their seq
	Duplicated       int // an id in the log more than once
	RefusedButStored int // refused, yet in the log
	WrongResend      int // a resend of an acknowledged command not answered with its seq
	Unanswered       int // commands with no answer when the run ended
	Diverged         int // clients whose state differs from the export's fold
	Ghosts           int // participants present once every client closed
	HashMismatch     bool
	Recovery         map[string][]time.Duration // fault kind → fault to first new ack
	PGRestartTook    []time.Duration            // how long each restart command took, within its recovery
	Problems         []string
}

func (r *report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// failures counts what must be zero.
func (r *report) failures() int {
	n := r.Lost + r.Duplicated + r.RefusedButStored + r.WrongResend + r.Unanswered + r.Diverged + r.Ghosts + len(r.Problems)
	if r.HashMismatch {
		n++
	}
	return n
}

func (r *report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "acknowledged %d, refused %d, events %d\n", r.Acknowledged, r.Refused, r.Events)
	fmt.Fprintf(&b, "lost %d, duplicated %d, refused-but-stored %d, wrong resend answers %d, unanswered %d, diverged clients %d, ghosts %d, export hash mismatch %v\n",
		r.Lost, r.Duplicated, r.RefusedButStored, r.WrongResend, r.Unanswered, r.Diverged, r.Ghosts, r.HashMismatch)
	kinds := make([]string, 0, len(r.Recovery))
	for k := range r.Recovery {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		d := slices.Clone(r.Recovery[k])
		slices.Sort(d)
		fmt.Fprintf(&b, "recovery after %s (%d): p50 %v, max %v\n", k, len(d), d[len(d)/2].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond))
	}
	if d := slices.Clone(r.PGRestartTook); len(d) > 0 {
		slices.Sort(d)
		fmt.Fprintf(&b, "of which the restart command itself (%d): p50 %v, max %v\n", len(d), d[len(d)/2].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond))
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "problem: %s\n", p)
	}
	return b.String()
}

// proc is a running classroom server.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func (cfg *config) args(addr string) []string {
	args := []string{"serve", "-addr", addr, "-data", filepath.Join(cfg.Dir, "data"), "-ice-loopback",
		"-turn-addr", "", "-media-udp-addr", "127.0.0.1:0"}
	if cfg.DatabaseURL != "" {
		args = append(args, "-database-url", cfg.DatabaseURL)
	}
	return args
}

// start runs the server and waits until it is healthy.
func (cfg *config) start(ctx context.Context, addr string, log io.Writer) (*proc, error) {
	p := &proc{cmd: exec.Command(cfg.Binary, cfg.args(addr)...), exited: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "DATABASE_URL=")
	p.cmd.Stderr = log
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	health := &http.Client{Timeout: 2 * time.Second} // a server that accepts but never answers is not up
	for {
		resp, err := health.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.exited:
			return nil, errors.New("the server exited while starting")
		case <-ctx.Done():
			p.cmd.Process.Kill()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

func (p *proc) stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if !p.cmd.ProcessState.Success() {
			return fmt.Errorf("the server stopped with %v", p.cmd.ProcessState)
		}
		return nil
	case <-time.After(30 * time.Second):
		p.kill()
		return errors.New("the server did not stop within 30 s of SIGTERM")
	}
}

// sent is a command a participant sent and what became of it.
type sent struct {
	id      uuid.UUID
	payload domain.Payload
	seq     int64
}

// writer is a participant writing as the page does: strokes in parts,
// chat, a hand raised and lowered, and now and then a resend of a command
// already acknowledged, with its id.
type writer struct {
	c     *client.Client
	rng   *rand.Rand
	role  domain.Role
	run   *runState
	acked []sent
	hand  bool
	open  *domain.StrokeDrawn // the stroke being drawn, its last part stored
}

// runState is shared by the writers.
type runState struct {
	mu       sync.Mutex
	acked    map[uuid.UUID]int64
	refused  map[uuid.UUID]error
	report   *report
	fault    time.Time // the last fault, while no ack after it came
	armed    bool      // acks may end the fault's recovery
	faultSeq int64     // the highest seq acknowledged before it
	maxSeq   int64
	kind     string
}

func (s *runState) ack(id uuid.UUID, seq int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acked[id] = seq
	s.report.Acknowledged++
	if !s.fault.IsZero() && s.armed && seq > s.faultSeq {
		s.report.Recovery[s.kind] = append(s.report.Recovery[s.kind], time.Since(s.fault))
		s.fault = time.Time{}
	}
	s.maxSeq = max(s.maxSeq, seq)
}

// faulted starts the clock of a recovery; the first ack of an event stored
// after arm ends it.
func (s *runState) faulted(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault, s.kind, s.armed = time.Now(), kind, false
}

// arm says the fault is done (the server dead, the database restarted): an
// ack of an event stored after what was acknowledged until now recovers.
func (s *runState) arm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultSeq, s.armed = s.maxSeq, true
}

func (w *writer) next() domain.Payload {
	switch r := w.rng.IntN(100); {
	case r < 25:
		return &domain.ChatPosted{Text: fmt.Sprintf("message %d", w.rng.IntN(1_000_000))}
	case r < 35 && w.role == domain.RoleStudent:
		if w.hand {
			return &domain.HandLowered{Participant: w.c.Participant()}
		}
		return &domain.HandRaised{}
	default:
		pts := make(domain.Points, 4+w.rng.IntN(12))
		x, y := float64(w.rng.IntN(1000)), float64(w.rng.IntN(700))
		for i := range pts {
			pts[i] = domain.Point{X: x + float64(i*3), Y: y + float64(i), T: int64(i * 16), Pressure: 0.5}
		}
		if w.open != nil && w.open.Part < 4 {
			return &domain.StrokeDrawn{Object: w.open.Object, Part: w.open.Part + 1, Points: pts}
		}
		return &domain.StrokeDrawn{Object: uuid.New(), Tool: domain.ToolPen, Color: "#1e90ff", Width: 2, Points: pts}
	}
}

// write sends commands until stop is closed, each after the answer to the
// one before.
func (w *writer) write(ctx context.Context, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(time.Duration(50+w.rng.IntN(100)) * time.Millisecond):
		}
		if len(w.acked) > 0 && w.rng.IntN(10) == 0 {
			old := w.acked[w.rng.IntN(len(w.acked))]
			seq, err := w.c.SendID(ctx, old.id, old.payload)
			if ctx.Err() != nil {
				return
			}
			if err != nil || seq != old.seq {
				w.run.mu.Lock()
				w.run.report.WrongResend++
				w.run.report.problem("resent %s answered %d, %v; acknowledged at %d", old.payload.Kind(), seq, err, old.seq)
				w.run.mu.Unlock()
			}
			continue
		}
		p := w.next()
		id := uuid.New()
		seq, err := w.c.SendID(ctx, id, p)
		if ctx.Err() != nil {
			w.run.mu.Lock()
			w.run.report.Unanswered++
			w.run.mu.Unlock()
			return
		}
		if err != nil {
			w.run.mu.Lock()
			w.run.refused[id] = err
			w.run.report.Refused++
			w.run.mu.Unlock()
			switch p.(type) {
			case *domain.StrokeDrawn:
				w.open = nil // the next stroke starts afresh
			case *domain.HandRaised:
				w.hand = domain.ErrorCode(err) == domain.CodeConflict // raised already
			case *domain.HandLowered:
				w.hand = false
			}
			continue
		}
		w.run.ack(id, seq)
		w.acked = append(w.acked, sent{id: id, payload: p, seq: seq})
		switch p := p.(type) {
		case *domain.StrokeDrawn:
			w.open = p
		case *domain.HandRaised:
			w.hand = true
		case *domain.HandLowered:
			w.hand = false
		}
	}
}

// keep reconnects the client whenever its session ends, until stop.
func keep(ctx context.Context, c *client.Client, stop <-chan struct{}) {
	for {
		select {
		case <-c.Ended():
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
		for attempt := 0; ; attempt++ {
			rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			err := c.Resume(rctx)
			cancel()
			if err == nil {
				break
			}
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-time.After(min(50*time.Millisecond<<attempt, time.Second)):
			}
		}
	}
}

type lessonLinks struct {
	ID       string
	Teacher  struct{ Token string }
	Students struct{ Token string }
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// runLoad does one run and reports what it found; err is for a run that
// could not be done, not for what it found wrong.
func runLoad(ctx context.Context, cfg config) (*report, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(cfg.Dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	r := &run{cfg: cfg, addr: addr, base: "http://" + addr, log: logFile, rep: &report{Recovery: map[string][]time.Duration{}}}
	if r.srv, err = cfg.start(ctx, addr, logFile); err != nil {
		return nil, err
	}
	defer func() {
		if r.srv == nil { // a restart failed: no server is left to stop
			return
		}
		select {
		case <-r.srv.exited:
		default:
			r.srv.kill()
		}
	}()
	defer r.closeClients() // also when a step fails half way
	if err := r.join(ctx); err != nil {
		return nil, err
	}
	if err := r.write(ctx); err != nil {
		return nil, err
	}
	if err := r.converge(ctx); err != nil {
		return nil, err
	}
	if err := r.checkLog(ctx); err != nil {
		return nil, err
	}
	return r.rep, nil
}

// run is one run under way: its server, its lesson and the clients in it.
type run struct {
	cfg     config
	addr    string
	base    string // the server's URL
	log     io.Writer
	srv     *proc // replaced at each restart
	lesson  lessonLinks
	clients []*client.Client // the teacher first
	st      *runState
	rep     *report
}

// join creates the lesson and brings the teacher and the students in; the
// teacher starts the lesson and lets everyone draw.
func (r *run) join(ctx context.Context) error {
	resp, err := http.Post(r.base+"/api/lessons", "application/json", strings.NewReader(`{"title":"Crash load"}`))
	if err != nil {
		return err
	}
	err = json.NewDecoder(resp.Body).Decode(&r.lesson)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("create a lesson: HTTP %d, %v", resp.StatusCode, err)
	}
	ws := "ws://" + r.addr + "/api/lessons/" + r.lesson.ID + "/ws"
	dial := func(tok, name string) (*client.Client, error) {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return client.Dial(dctx, client.Options{URL: ws, Token: tok, Name: name, Loopback: true})
	}
	teacher, err := dial(r.lesson.Teacher.Token, "Teacher")
	if err != nil {
		return fmt.Errorf("the teacher joins: %w", err)
	}
	r.clients = []*client.Client{teacher}
	for i := range r.cfg.Students {
		c, err := dial(r.lesson.Students.Token, fmt.Sprintf("Student %d", i+1))
		if err != nil {
			return fmt.Errorf("student %d joins: %w", i+1, err)
		}
		r.clients = append(r.clients, c)
	}
	r.st = &runState{acked: map[uuid.UUID]int64{}, refused: map[uuid.UUID]error{}, report: r.rep}
	for _, p := range []domain.Payload{&domain.LessonStarted{}, &domain.DrawingPermitted{Allowed: true}} {
		id := uuid.New()
		seq, err := teacher.SendID(ctx, id, p)
		if err != nil {
			return fmt.Errorf("the teacher's %s: %w", p.Kind(), err)
		}
		r.st.ack(id, seq)
	}
	return nil
}

// write has every client write, and reconnect when its session ends, while
// the faults are done one cfg.Every apart; it stops them one cfg.Every after
// the last fault. A writer still waiting for an answer a minute later is
// cancelled: its command counts as unanswered.
func (r *run) write(ctx context.Context) error {
	wctx, cancelWriters := context.WithCancel(ctx)
	defer cancelWriters()
	stop, stopKeepers := make(chan struct{}), make(chan struct{})
	var writers, keepers sync.WaitGroup
	stopWriters, stopKeeping := sync.OnceFunc(func() { close(stop) }), sync.OnceFunc(func() { close(stopKeepers) })
	defer func() { // on every return, the early ones too: no writer or keeper outlives write
		stopWriters()
		cancelWriters()
		writers.Wait()
		stopKeeping()
		keepers.Wait()
	}()
	for i, c := range r.clients {
		role := domain.RoleStudent
		if i == 0 {
			role = domain.RoleTeacher
		}
		w := &writer{c: c, rng: rand.New(rand.NewPCG(uint64(i), 14)), role: role, run: r.st}
		writers.Go(func() { w.write(wctx, stop) })
		keepers.Go(func() { keep(wctx, c, stopKeepers) })
	}
	faults := faultPlan(r.cfg.Kills, r.cfg.PGRestarts)
	for i, f := range faults {
		if err := sleep(ctx, r.cfg.Every); err != nil {
			return err
		}
		r.cfg.Logf("fault %d of %d: %s (%d acknowledged so far)", i+1, len(faults), f, acknowledged(r.st))
		if err := r.fault(ctx, i, f); err != nil {
			return err
		}
	}
	if err := sleep(ctx, r.cfg.Every); err != nil {
		return err
	}
	stopWriters()
	finished := make(chan struct{})
	go func() {
		writers.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(60 * time.Second):
		cancelWriters() // the commands still waiting count as unanswered
		<-finished
	}
	stopKeeping()
	keepers.Wait()
	r.cfg.Logf("writing stopped: %d acknowledged, %d refused", r.rep.Acknowledged, r.rep.Refused)
	return nil
}

// faultPlan is the order of the faults: the PostgreSQL restarts spread
// among the kills.
func faultPlan(kills, pgRestarts int) []string {
	faults := make([]string, 0, kills+pgRestarts)
	for i := range kills + pgRestarts {
		if pgRestarts > 0 && i%((kills+pgRestarts)/pgRestarts) == 0 && countOf(faults, "postgres restart") < pgRestarts {
			faults = append(faults, "postgres restart")
		} else if countOf(faults, "kill") < kills {
			faults = append(faults, "kill")
		} else {
			faults = append(faults, "postgres restart")
		}
	}
	return faults
}

// fault does the i-th fault, f, and times its recovery.
func (r *run) fault(ctx context.Context, i int, f string) error {
	switch f {
	case "kill":
		r.st.faulted(f)
		r.srv.kill()
		r.st.arm()
		var err error
		if r.srv, err = r.cfg.start(ctx, r.addr, r.log); err != nil {
			return fmt.Errorf("restart after kill %d: %w", i+1, err)
		}
	case "postgres restart":
		r.st.faulted(f)
		began := time.Now()
		if out, err := exec.CommandContext(ctx, "sh", "-c", r.cfg.PGRestart).CombinedOutput(); err != nil {
			return fmt.Errorf("restart PostgreSQL: %v\n%s", err, out)
		}
		r.rep.PGRestartTook = append(r.rep.PGRestartTook, time.Since(began))
		r.st.arm() // from the start of the restart to an event stored after it
	}
	return nil
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// converge checks that every client, reconnected if its session ended,
// comes to the export's fold.
func (r *run) converge(ctx context.Context) error {
	for i, c := range r.clients {
		select {
		case <-c.Ended():
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := c.Resume(rctx)
			cancel()
			if err != nil {
				r.rep.problem("client %d could not reconnect at the end: %v", i, err)
			}
		default:
		}
	}
	events, end, err := export(ctx, r.base, r.lesson.ID, r.lesson.Teacher.Token)
	if err != nil {
		return err
	}
	fold := domain.NewState()
	for _, e := range events {
		fold.Apply(e)
	}
	if fold.Hash() != end.StateHash {
		r.rep.HashMismatch = true
	}
	for i, c := range r.clients {
		deadline := time.Now().Add(30 * time.Second)
		for c.Seq() < fold.Seq && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if c.Seq() != fold.Seq || c.Hash() != fold.Hash() || c.Err() != nil {
			r.rep.Diverged++
			r.rep.problem("client %d at seq %d (export %d), hash equal %v, protocol error %v", i, c.Seq(), fold.Seq, c.Hash() == fold.Hash(), c.Err())
		}
	}
	return nil
}

// closeClients closes the run's clients, once.
func (r *run) closeClients() {
	for _, c := range r.clients {
		c.Close()
	}
	r.clients = nil
}

// checkLog has everyone leave, stops the server and starts it again, and
// checks the whole log of the lesson against what the clients were told.
func (r *run) checkLog(ctx context.Context) error {
	r.closeClients()
	if err := r.srv.stop(); err != nil {
		r.rep.problem("%v", err)
	}
	var err error
	if r.srv, err = r.cfg.start(ctx, r.addr, r.log); err != nil {
		return fmt.Errorf("start the server to export: %w", err)
	}
	events, _, err := export(ctx, r.base, r.lesson.ID, r.lesson.Teacher.Token)
	if err != nil {
		return err
	}
	r.rep.Events = int64(len(events))
	check(r.rep, r.st, events)
	if err := r.srv.stop(); err != nil {
		r.rep.problem("%v", err)
	}
	return nil
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func acknowledged(st *runState) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.report.Acknowledged
}

// check compares the log with what the clients were told.
func check(rep *report, st *runState, events []domain.Event) {
	at := map[uuid.UUID][]int64{}
	for i, e := range events {
		if e.Seq != int64(i+1) {
			rep.problem("event %d has seq %d: a gap", i+1, e.Seq)
			break
		}
		at[e.ID] = append(at[e.ID], e.Seq)
	}
	for id, seqs := range at {
		if len(seqs) > 1 {
			rep.Duplicated++
			rep.problem("event %s stored %d times", id, len(seqs))
		}
	}
	for id, seq := range st.acked {
		if seqs := at[id]; len(seqs) == 0 || seqs[0] != seq {
			rep.Lost++
			rep.problem("acknowledged %s at %d, stored at %v", id, seq, seqs)
		}
	}
	for id, err := range st.refused {
		if len(at[id]) > 0 {
			rep.RefusedButStored++
			rep.problem("refused %s (%v), stored at %v", id, err, at[id])
		}
	}
	fold := domain.NewState()
	for _, e := range events {
		fold.Apply(e)
	}
	for id, p := range fold.Participants {
		if p.Present {
			rep.Ghosts++
			rep.problem("%s (%s) is present after everyone left", id, p.Name)
		}
	}
}

// export reads the lesson's export, which checks it is gap-free and without
// a repeated id, and returns its events and end.
func export(ctx context.Context, base, lesson, tok string) ([]domain.Event, timeline.End, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/lessons/"+lesson+"/export?format=ndjson", nil)
	if err != nil {
		return nil, timeline.End{}, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, timeline.End{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, timeline.End{}, fmt.Errorf("export: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, timeline.End{}, err
	}
	rd, err := timeline.NewReader(bytes.NewReader(body), timeline.Limits{})
	if err != nil {
		return nil, timeline.End{}, fmt.Errorf("export: %w", err)
	}
	var events []domain.Event
	for {
		e, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, timeline.End{}, fmt.Errorf("export: %w", err)
		}
		events = append(events, e)
	}
	end, _ := rd.End()
	return events, end, nil
}
