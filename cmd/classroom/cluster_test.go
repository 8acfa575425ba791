package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime/client"
	"classroom/realtime/client/cursortest"
	"classroom/realtime/protocol"
	"classroom/realtime/token"
)

// classCluster is several classroom nodes sharing one PostgreSQL database
// and one token key, as an operator runs them behind a load balancer with
// no lesson affinity.
type classCluster struct {
	t      testing.TB
	url    string
	nodes  []*server
	tokens *token.Keeper
	store  *eventstore.Postgres // the test's own view of the database
}

func startCluster(t testing.TB, n int, extra ...string) *classCluster {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal("DATABASE_URL is not set: run the tests through scripts/test, or point DATABASE_URL at a PostgreSQL")
	}
	keyFile := filepath.Join(t.TempDir(), "token.key")
	key, err := token.LoadOrCreateKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := token.NewKeeper(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := eventstore.OpenPostgres(context.Background(), url, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := &classCluster{t: t, url: url, tokens: tokens, store: store}
	suffix := uuid.NewString()[:8]
	for i := range n {
		args := append([]string{"-data", t.TempDir(), "-database-url", url, "-token-key-file", keyFile,
			"-node-id", fmt.Sprintf("n%d-%s", i, suffix)}, extra...)
		c.nodes = append(c.nodes, start(t, freeAddr(t), args...))
	}
	return c
}

// wsURL is the lesson's signaling endpoint on node i.
func (c *classCluster) wsURL(i int, lesson string) string {
	return "ws://" + c.nodes[i].addr + "/api/lessons/" + lesson + "/ws"
}

// tokenClaims are the claims of a token for participant id, named id, in
// role, valid for an hour.
func tokenClaims(lesson string, role domain.Role, id string) token.Claims {
	return token.Claims{Lesson: uuid.MustParse(lesson), Role: role, Participant: id, Name: id, Expires: time.Now().Add(time.Hour)}
}

// join dials node i as participant id in role.
func (c *classCluster) join(ctx context.Context, i int, lesson string, role domain.Role, id string) *client.Client {
	c.t.Helper()
	tok, err := c.tokens.Issue(tokenClaims(lesson, role, id))
	if err != nil {
		c.t.Fatal(err)
	}
	cl, err := client.Dial(ctx, client.Options{URL: c.wsURL(i, lesson), Token: tok, Loopback: true})
	if err != nil {
		c.t.Fatalf("%s joins through node %d: %v", id, i, err)
	}
	c.t.Cleanup(func() { cl.Close() })
	return cl
}

// startLesson creates a lesson on node 0 and starts it with teacher, who
// joins through node 0: node 0 owns the lesson.
func (c *classCluster) startLesson(ctx context.Context, title, teacher string) (string, *client.Client) {
	c.t.Helper()
	lesson := c.nodes[0].createLesson(title).ID
	cl := c.join(ctx, 0, lesson, domain.RoleTeacher, teacher)
	if _, err := cl.Send(ctx, &domain.LessonStarted{}); err != nil {
		c.t.Fatal(err)
	}
	return lesson, cl
}

// audit replays the lesson's stored log and checks every event against
// domain.Decide on the state before it: what one decider would have
// accepted. It returns the events refused, described.
func (c *classCluster) audit(ctx context.Context, lesson string) (refused []string, log []domain.Event) {
	c.t.Helper()
	state := domain.NewState()
	for e, err := range c.store.Events(ctx, uuid.MustParse(lesson), 0) {
		if err != nil {
			c.t.Fatal(err)
		}
		if e.Seq != int64(len(log)+1) {
			c.t.Fatalf("the log has seq %d after %d", e.Seq, len(log))
		}
		log = append(log, e)
		if e.Seq > 1 {
			if _, err := domain.Decide(state, domain.Command{ID: e.ID, Actor: e.Actor, Role: e.Role, Payload: e.Payload}, e.Time); err != nil {
				refused = append(refused, fmt.Sprintf("seq %d %s by %s: %v", e.Seq, e.Kind(), e.Actor, err))
			}
		}
		state.Apply(e)
	}
	return refused, log
}

// converge waits until every client has the lesson's last event and they
// all hold the same state.
func (c *classCluster) converge(ctx context.Context, lesson string, clients []*client.Client) {
	c.t.Helper()
	last := c.nodes[0].lastSeq(lesson)
	for _, cl := range clients {
		for cl.Seq() < last {
			if ctx.Err() != nil {
				c.t.Fatalf("%s stopped at seq %d of %d", cl.Participant(), cl.Seq(), last)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := cl.Err(); err != nil {
			c.t.Fatalf("%s: %v", cl.Participant(), err)
		}
	}
	for _, cl := range clients[1:] {
		if cl.Hash() != clients[0].Hash() {
			c.t.Fatalf("%s and %s hold different states at seq %d", cl.Participant(), clients[0].Participant(), last)
		}
	}
}

func stroke() domain.Payload {
	pts := make(domain.Points, 6)
	for i := range pts {
		pts[i] = domain.Point{X: float64(10 + i*3), Y: float64(20 + i), T: int64(i * 16), Pressure: 0.5}
	}
	return &domain.StrokeDrawn{Object: uuid.New(), Tool: domain.ToolPen, Color: "#1e90ff", Width: 2, Points: pts}
}

// TestClusterRace runs the operator's trial on two and three nodes: a
// teacher on the first node and another on the last, students spread over
// every node, and the races that stored contradictory decisions when every
// node decided for its own participants: the same exclusive command from two
// sessions at once, revoke-while-drawing, end-while-chatting. The audit of
// the stored log then finds no event one decider would have refused.
func TestClusterRace(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) { testClusterRace(t, n) })
	}
}

func testClusterRace(t *testing.T, n int) {
	c := startCluster(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lesson, t1 := c.startLesson(ctx, "Race", "teacher-1")
	t2 := c.join(ctx, n-1, lesson, domain.RoleTeacher, "teacher-2")
	var students []*client.Client
	for i := range 6 {
		students = append(students, c.join(ctx, i%n, lesson, domain.RoleStudent, fmt.Sprintf("student-%d", i)))
	}
	all := append([]*client.Client{t1, t2}, students...)

	// The same exclusive command from two teachers on two nodes at once:
	// exactly one is acknowledged, every time.
	both := func(p func() domain.Payload) (acked int, errs []error) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, tc := range []*client.Client{t1, t2} {
			wg.Go(func() {
				_, err := tc.Send(ctx, p())
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					acked++
				} else {
					errs = append(errs, err)
				}
			})
		}
		wg.Wait()
		return acked, errs
	}
	for round := range 10 {
		for _, p := range []func() domain.Payload{
			func() domain.Payload { return &domain.RecordingStarted{} },
			func() domain.Payload { return &domain.RecordingStopped{} },
		} {
			acked, errs := both(p)
			if acked != 1 || len(errs) != 1 || domain.ErrorCode(errs[0]) != domain.CodeConflict {
				t.Fatalf("round %d, %T from both teachers: %d acknowledged, refusals %v", round, p(), acked, errs)
			}
		}
	}

	// Revoke while drawing: students draw while both teachers allow and
	// forbid drawing.
	if _, err := t1.Send(ctx, &domain.DrawingPermitted{Allowed: true}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var writers sync.WaitGroup
	var drawn, refusedDraw atomic.Int64
	for _, s := range students {
		writers.Go(func() {
			tick := time.NewTicker(strokeEvery)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if _, err := s.Send(ctx, stroke()); err == nil {
					drawn.Add(1)
				} else if domain.ErrorCode(err) == domain.CodeForbidden {
					refusedDraw.Add(1)
				} else {
					t.Errorf("%s draws: %v", s.Participant(), err)
					return
				}
			}
		})
	}
	for i := range 10 {
		allowed := i%2 == 1
		both(func() domain.Payload { return &domain.DrawingPermitted{Allowed: allowed} })
		time.Sleep(30 * time.Millisecond)
	}
	close(stop)
	writers.Wait()
	if drawn.Load() == 0 || refusedDraw.Load() == 0 {
		t.Errorf("drawing race: %d strokes stored, %d refused; both should happen", drawn.Load(), refusedDraw.Load())
	}

	// End while chatting: after the end, no chat is stored.
	stop = make(chan struct{})
	var ended atomic.Int64
	for _, s := range students {
		writers.Go(func() {
			for {
				_, err := s.Send(ctx, &domain.ChatPosted{Text: "still here"})
				if domain.ErrorReason(err) == domain.ReasonLessonEnded {
					ended.Add(1)
					return
				}
				if err != nil {
					t.Errorf("%s chats: %v", s.Participant(), err)
					return
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := t2.Send(ctx, &domain.LessonEnded{}); err != nil {
		t.Fatal(err)
	}
	writers.Wait()
	close(stop)
	if int(ended.Load()) != len(students) {
		t.Errorf("%d of %d students were told the lesson ended", ended.Load(), len(students))
	}

	c.converge(ctx, lesson, all)
	refused, log := c.audit(ctx, lesson)
	if len(refused) > 0 {
		t.Fatalf("%d stored events one decider would have refused, first: %s", len(refused), strings.Join(refused[:min(5, len(refused))], "; "))
	}
	t.Logf("%d nodes: %d events stored, %d strokes acknowledged, %d refused as forbidden; audit: 0 refusals", n, len(log), drawn.Load(), refusedDraw.Load())
}

// TestClusterResumeElsewhere: a participant resumes through another node
// while the old session's socket is still open, on every pair of roles
// (owner to follower, follower to follower, follower to owner). The old
// session ends, the new one is never refused, and no leave is recorded for
// the participant while their live session goes on.
func TestClusterResumeElsewhere(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lesson, _ := c.startLesson(ctx, "Resume", "teacher")
	for _, hop := range [][2]int{{0, 1}, {1, 2}, {2, 0}} {
		id := fmt.Sprintf("student-%d-%d", hop[0], hop[1])
		old := c.join(ctx, hop[0], lesson, domain.RoleStudent, id)
		if _, err := old.Send(ctx, &domain.ChatPosted{Text: "from the old session"}); err != nil {
			t.Fatal(err)
		}
		cl, err := client.Dial(ctx, client.Options{URL: c.wsURL(hop[1], lesson), Token: old.ResumeToken(), Loopback: true})
		if err != nil {
			t.Fatalf("%s resumes through node %d: %v", id, hop[1], err)
		}
		t.Cleanup(func() { cl.Close() })
		select {
		case <-old.Ended():
		case <-ctx.Done():
			t.Fatalf("%s: the old session on node %d did not end", id, hop[0])
		}
		if bye := old.Bye(); bye == nil || bye.Reason != domain.ReasonJoinedElsewhere {
			t.Fatalf("%s: the old session ended with %+v, want joined_elsewhere", id, bye)
		}
		old.Drop()
		time.Sleep(300 * time.Millisecond) // the old node has seen its socket close
		for i := range 3 {
			if _, err := cl.Send(ctx, &domain.ChatPosted{Text: fmt.Sprintf("after the move %d", i)}); err != nil {
				t.Fatalf("%s after resuming through node %d: %v", id, hop[1], err)
			}
		}
		_, log := c.audit(ctx, lesson)
		var presence []domain.Kind
		for _, e := range log {
			if e.Actor == id && (e.Kind() == domain.KindParticipantJoined || e.Kind() == domain.KindParticipantLeft) {
				presence = append(presence, e.Kind())
			}
		}
		if len(presence) == 0 || presence[len(presence)-1] != domain.KindParticipantJoined || slices.Contains(presence, domain.KindParticipantLeft) {
			t.Fatalf("%s: presence events %v, want joins only", id, presence)
		}
	}
	if refused, _ := c.audit(ctx, lesson); len(refused) > 0 {
		t.Fatalf("audit: %v", refused)
	}
}

// strokeEvery paces a drawing student in these tests: 50 strokes a second,
// faster than the board sends a pen's parts (30 a second) and slower than a
// participant's command limit (100 a second sustained), which a student
// sending each stroke as soon as the last is answered passes on a quiet
// machine and is refused for.
const strokeEvery = 20 * time.Millisecond

// resumer keeps a client connected, through node at (which a test may
// change), whenever its session ends.
type resumer struct {
	c    *client.Client
	url  atomic.Pointer[string]
	gone atomic.Bool // stop resuming: the participant never comes back
}

func (r *resumer) keep(ctx context.Context) {
	for ctx.Err() == nil {
		select {
		case <-r.c.Ended():
		case <-ctx.Done():
			return
		}
		if r.gone.Load() {
			return
		}
		for attempt := 0; ctx.Err() == nil; attempt++ {
			rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			err := r.c.ResumeVia(rctx, *r.url.Load())
			cancel()
			if err == nil {
				break
			}
			time.Sleep(min(50*time.Millisecond<<attempt, 500*time.Millisecond))
		}
	}
}

// TestClusterOwnerLoss kills the lesson's owner (SIGKILL) while students on
// every node draw: the lease passes to a surviving node within the targets,
// the dead node's students come back through the others, no acknowledged
// stroke is lost, no resend is refused, every client converges, and the
// student who never comes back gets their leave recorded.
func TestClusterOwnerLoss(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	lesson, teacher := c.startLesson(ctx, "Failover", "teacher")
	if _, err := teacher.Send(ctx, &domain.DrawingPermitted{Allowed: true}); err != nil {
		t.Fatal(err)
	}
	keepCtx, stopKeeping := context.WithCancel(ctx)
	var keepers sync.WaitGroup
	defer keepers.Wait()
	defer stopKeeping()
	var students []*resumer
	for i := range 6 {
		r := &resumer{c: c.join(ctx, i%3, lesson, domain.RoleStudent, fmt.Sprintf("student-%d", i))}
		u := c.wsURL(i%3, lesson)
		if i%3 == 0 {
			u = c.wsURL(1+i%2, lesson) // node 0's students come back through the others
		}
		r.url.Store(&u)
		students = append(students, r)
		keepers.Go(func() { r.keep(keepCtx) })
	}
	ghost := students[3] // on node 0; never comes back

	var mu sync.Mutex
	acked := map[uuid.UUID]int64{}
	var killedAt time.Time
	var firstAfter time.Time
	firstAfterSurvivor := map[bool]time.Time{} // by whether the student was on a surviving node
	stop := make(chan struct{})
	var writers sync.WaitGroup
	for i, s := range students {
		if s == ghost {
			continue
		}
		survivor := i%3 != 0
		writers.Go(func() {
			tick := time.NewTicker(strokeEvery)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				id := uuid.New()
				sent := time.Now()
				seq, err := s.c.SendID(ctx, id, stroke())
				if err != nil {
					t.Errorf("%s: a stroke refused: %v", s.c.Participant(), err)
					return
				}
				now := time.Now()
				mu.Lock()
				acked[id] = seq
				// Newly acknowledged: sent after the kill, so that
				// the dead owner cannot have stored it.
				if !killedAt.IsZero() && sent.After(killedAt) {
					if firstAfter.IsZero() {
						firstAfter = now
					}
					if _, ok := firstAfterSurvivor[survivor]; !ok {
						firstAfterSurvivor[survivor] = now
					}
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(2 * time.Second)
	ghost.gone.Store(true)
	mu.Lock()
	if err := c.nodes[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killedAt = time.Now()
	mu.Unlock()
	<-c.nodes[0].exited
	time.Sleep(8 * time.Second)
	close(stop)
	writers.Wait()

	mu.Lock()
	failover, survivors, others := firstAfter.Sub(killedAt), firstAfterSurvivor[true].Sub(killedAt), firstAfterSurvivor[false].Sub(killedAt)
	mu.Unlock()
	t.Logf("kill -9 of the owner to the first newly acknowledged command: %v (students on surviving nodes: %v, students of the dead node: %v)",
		failover.Round(time.Millisecond), survivors.Round(time.Millisecond), others.Round(time.Millisecond))
	if firstAfter.IsZero() || failover > 5*time.Second {
		t.Errorf("failover took %v, target ≤ 5 s", failover)
	}

	// Every client converges, through the surviving nodes.
	var live []*client.Client
	for _, s := range students {
		if s != ghost {
			live = append(live, s.c)
		}
	}
	c.nodes = c.nodes[1:] // lastSeq asks a live node
	c.converge(ctx, lesson, live)
	refused, log := c.audit(ctx, lesson)
	if len(refused) > 0 {
		t.Fatalf("audit: %d refused, first: %s", len(refused), refused[0])
	}
	stored := map[uuid.UUID]int64{}
	for _, e := range log {
		stored[e.ID] = e.Seq
	}
	lost := 0
	for id, seq := range acked {
		if stored[id] != seq {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged strokes are not in the log at their seq", lost, len(acked))
	}

	// The student of the dead node who never came back is recorded as
	// gone, within AbsentAfter (10 s) of the new owner taking over.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, log = c.audit(ctx, lesson)
		var last domain.Kind
		for _, e := range log {
			if e.Actor == ghost.c.Participant() && (e.Kind() == domain.KindParticipantJoined || e.Kind() == domain.KindParticipantLeft) {
				last = e.Kind()
			}
		}
		if last == domain.KindParticipantLeft {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the student who never came back is still present")
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("%d strokes acknowledged, all stored; %d events; audit: 0 refusals", len(acked), len(log))
}

// TestClusterFencing pauses the owner (SIGSTOP) past its lease: another
// node takes the lesson over, not before the lease expired (the paused owner
// is alive: its life lock is held), and its participants go on; when the old owner
// resumes (SIGCONT), it stores nothing: the command its teacher sent
// meanwhile is stored once, by the new owner, and the old owner hands its
// sessions over.
func TestClusterFencing(t *testing.T) {
	c := startCluster(t, 2)
	lesson := c.nodes[0].createLesson("Fencing").ID
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	teacher := &resumer{c: c.join(ctx, 0, lesson, domain.RoleTeacher, "teacher")}
	u0 := c.wsURL(0, lesson)
	teacher.url.Store(&u0)
	student := &resumer{c: c.join(ctx, 1, lesson, domain.RoleStudent, "student")}
	u1 := c.wsURL(1, lesson)
	student.url.Store(&u1)
	keepCtx, stopKeeping := context.WithCancel(ctx)
	var keepers sync.WaitGroup
	defer keepers.Wait()
	defer stopKeeping()
	for _, r := range []*resumer{teacher, student} {
		keepers.Go(func() { r.keep(keepCtx) })
	}
	if _, err := teacher.c.Send(ctx, &domain.LessonStarted{}); err != nil {
		t.Fatal(err)
	}
	if _, err := student.c.Send(ctx, &domain.ChatPosted{Text: "before the pause"}); err != nil {
		t.Fatal(err)
	}

	owner := c.nodes[0].cmd.Process
	if err := owner.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	// The teacher's command reaches the paused owner's socket.
	sentDuringPause := make(chan error, 1)
	pausedID := uuid.New()
	go func() {
		_, err := teacher.c.SendID(ctx, pausedID, &domain.ChatPosted{Text: "sent to the paused owner"})
		sentDuringPause <- err
	}()
	// The paused owner's lease as it stays (a renewal it sent just before
	// the pause has landed by then): the owner is alive, its life lock
	// held, so nobody takes the lesson before this expiry.
	time.Sleep(300 * time.Millisecond)
	var expires time.Time
	if err := c.store.Pool().QueryRow(ctx, `SELECT expires_at FROM lesson_leases WHERE lesson_id = $1`, lesson).Scan(&expires); err != nil {
		t.Fatal(err)
	}
	// The student, on node 1, goes on once node 1 took the lesson over.
	seq, err := student.c.Send(ctx, &domain.ChatPosted{Text: "while the owner is paused"})
	if err != nil {
		t.Fatal(err)
	}
	acked := time.Now()
	t.Logf("student acknowledged %v after the owner's pause (seq %d), %v after its lease's expiry", acked.Sub(paused).Round(time.Millisecond), seq, acked.Sub(expires).Round(time.Millisecond))
	if acked.Before(expires.Add(-50 * time.Millisecond)) {
		t.Fatalf("the paused owner's lesson was taken over %v before its lease expired", expires.Sub(acked))
	}
	time.Sleep(time.Second)
	// The old owner stops deciding; its teacher comes back through the
	// new owner and the command is stored once.
	teacher.url.Store(&u1)
	if err := owner.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := <-sentDuringPause; err != nil {
		t.Fatalf("the teacher's command sent during the pause: %v", err)
	}
	if _, err := teacher.c.Send(ctx, &domain.ChatPosted{Text: "after the pause"}); err != nil {
		t.Fatal(err)
	}
	refused, log := c.audit(ctx, lesson)
	if len(refused) > 0 {
		t.Fatalf("audit: %v", refused)
	}
	copies := 0
	for _, e := range log {
		if e.ID == pausedID {
			copies++
		}
	}
	if copies != 1 {
		t.Fatalf("the command sent to the paused owner is stored %d times", copies)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(c.nodes[0].stderr.String(), "lesson taken over by another node") &&
		!strings.Contains(c.nodes[0].stderr.String(), "lesson decided by another node") {
		if time.Now().After(deadline) {
			t.Fatalf("the old owner did not stop deciding the lesson:\n%s", c.nodes[0].stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.converge(ctx, lesson, []*client.Client{teacher.c, student.c})
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestClusterDrain stops the owner gracefully (SIGTERM): it hands the
// lesson over without waiting for its lease to expire, its participants
// come back through the other node, and nobody's leave is recorded.
func TestClusterDrain(t *testing.T) {
	c := startCluster(t, 2, "-lease-ttl", "10s") // a takeover by expiry would show
	lesson := c.nodes[0].createLesson("Drain").ID
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u1 := c.wsURL(1, lesson)
	teacher := &resumer{c: c.join(ctx, 0, lesson, domain.RoleTeacher, "teacher")}
	student := &resumer{c: c.join(ctx, 1, lesson, domain.RoleStudent, "student")}
	keepCtx, stopKeeping := context.WithCancel(ctx)
	var keepers sync.WaitGroup
	defer keepers.Wait()
	defer stopKeeping()
	for _, r := range []*resumer{teacher, student} {
		r.url.Store(&u1)
		keepers.Go(func() { r.keep(keepCtx) })
	}
	if _, err := teacher.c.Send(ctx, &domain.LessonStarted{}); err != nil {
		t.Fatal(err)
	}
	if err := c.nodes[0].cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	drained := time.Now()
	for _, r := range []*resumer{student, teacher} {
		if _, err := r.c.Send(ctx, &domain.ChatPosted{Text: "after the drain"}); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(drained)
	t.Logf("SIGTERM of the owner to both participants acknowledged again: %v", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Fatalf("the drain took %v: the lease was not handed over", took)
	}
	select {
	case <-c.nodes[0].exited:
		if c.nodes[0].err != nil {
			t.Fatalf("after SIGTERM: %v", c.nodes[0].err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the drained node did not exit")
	}
	refused, log := c.audit(ctx, lesson)
	if len(refused) > 0 {
		t.Fatalf("audit: %v", refused)
	}
	for _, e := range log {
		if e.Kind() == domain.KindParticipantLeft {
			t.Fatalf("a leave was recorded during the drain: seq %d by %s", e.Seq, e.Actor)
		}
	}
}

// TestClusterEphemeral: a cursor sent by a participant on one node reaches
// the participants on every other node, through the owner, with its actor
// set; the sender does not get it back.
func TestClusterEphemeral(t *testing.T) {
	c := startCluster(t, 3)
	lesson := c.nodes[0].createLesson("Cursors").ID
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got := make([]chan protocol.Ephemeral, 3)
	var clients []*client.Client
	for i := range 3 {
		got[i] = make(chan protocol.Ephemeral, 64)
		role, id := domain.RoleStudent, fmt.Sprintf("student-%d", i)
		if i == 0 {
			role, id = domain.RoleTeacher, "teacher" // node 0 owns the lesson
		}
		tok, err := c.tokens.Issue(tokenClaims(lesson, role, id))
		if err != nil {
			t.Fatal(err)
		}
		cl, err := client.Dial(ctx, client.Options{URL: c.wsURL(i, lesson), Token: tok, Loopback: true,
			OnEphemeral: func(e protocol.Ephemeral) { got[i] <- e }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		clients = append(clients, cl)
	}
	for from := range 3 {
		// Unreliable: sent until each other participant has one.
		seen := map[int]bool{}
		deadline := time.After(10 * time.Second)
		for len(seen) < 2 {
			if err := clients[from].SendEphemeral(protocol.Ephemeral{Type: protocol.EphemeralCursor, X: float64(from), Y: 1}); err != nil {
				t.Fatal(err)
			}
			select {
			case <-deadline:
				t.Fatalf("a cursor from node %d reached nodes %v only", from, seen)
			case <-time.After(50 * time.Millisecond):
			}
			for to := range 3 {
				for drained := false; !drained; {
					select {
					case e := <-got[to]:
						if to == from {
							t.Fatalf("node %d's participant got their own cursor back", from)
						}
						if e.Actor == clients[from].Participant() && e.X == float64(from) {
							seen[to] = true
						}
					default:
						drained = true
					}
				}
			}
		}
	}
}

// TestClusterGroupCursors: while breakout groups are open, every node
// relays a cursor to its own participants on the sender's board only: the
// owner and both followers, for senders on any node. The teacher and B2 are
// on node 0 (the owner), A1 and B1 on node 1, A2 and M (in the main room)
// on node 2.
func TestClusterGroupCursors(t *testing.T) {
	c := startCluster(t, 3)
	lesson := c.nodes[0].createLesson("Group cursors").ID
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	class := &cursortest.Class{}
	var clients []*client.Client
	for _, p := range []struct {
		node int
		id   string
	}{{0, "teacher"}, {1, "A1"}, {2, "A2"}, {1, "B1"}, {0, "B2"}, {2, "M"}} {
		role := domain.RoleStudent
		if p.id == "teacher" {
			role = domain.RoleTeacher
		}
		tok, err := c.tokens.Issue(tokenClaims(lesson, role, p.id))
		if err != nil {
			t.Fatal(err)
		}
		m := &cursortest.Participant{Name: p.id}
		cl, err := client.Dial(ctx, client.Options{URL: c.wsURL(p.node, lesson), Token: tok, Loopback: true, OnEphemeral: m.OnEphemeral})
		if err != nil {
			t.Fatalf("%s joins through node %d: %v", p.id, p.node, err)
		}
		t.Cleanup(func() { cl.Close() })
		m.Client = cl
		class.All = append(class.All, m)
		clients = append(clients, cl)
	}
	teacher := class.All[0]
	if _, err := teacher.Client.Send(ctx, &domain.LessonStarted{}); err != nil {
		t.Fatal(err)
	}
	// Every student present in the owner's state before the groups form.
	for _, m := range class.All {
		waitFor(t, func() string { return m.Name + " present" }, 10*time.Second, func() bool {
			p, ok := teacher.Client.State().Participants[m.Name]
			return ok && p.Present
		})
	}
	class.Breakout(t, func(p domain.Payload) {
		t.Helper()
		if _, err := teacher.Client.Send(ctx, p); err != nil {
			t.Fatal(err)
		}
		c.converge(ctx, lesson, clients)
	})
}
