package realtime_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime"
	"classroom/realtime/client"
	"classroom/realtime/protocol"
	"classroom/realtime/token"
)

// lessonServer is a real server on loopback: a store, the realtime server
// behind an httptest.Server, and a lesson in it.
type lessonServer struct {
	t      testing.TB
	store  eventstore.Store
	cfg    realtime.Config
	mu     *sync.Mutex // guards rt, which restart replaces
	rt     *realtime.Server
	http   *httptest.Server
	tokens *token.Keeper
	lesson uuid.UUID
	now    time.Time
}

func quiet() *slog.Logger {
	if os.Getenv("CLASSROOM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func openStore(t testing.TB, kind string) eventstore.Store {
	t.Helper()
	var (
		s   eventstore.Store
		err error
	)
	switch kind {
	case "postgres":
		url := os.Getenv("DATABASE_URL")
		if url == "" {
			t.Fatal("DATABASE_URL is not set: run the tests through scripts/test, or point DATABASE_URL at a PostgreSQL")
		}
		s, err = eventstore.OpenPostgres(context.Background(), url, quiet())
	default:
		s, err = eventstore.OpenSQLite(context.Background(), t.TempDir(), quiet())
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startServer(t testing.TB, store eventstore.Store, tweak func(*realtime.Config)) *lessonServer {
	t.Helper()
	tokens, err := token.NewKeeper([]byte(strings.Repeat("k", 32)), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := realtime.Config{Store: store, Tokens: tokens, Logger: quiet(), Loopback: true}
	if tweak != nil {
		tweak(&cfg)
	}
	rt, err := realtime.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ls := &lessonServer{t: t, store: store, cfg: cfg, mu: new(sync.Mutex), rt: rt, tokens: tokens}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/lessons/{id}/ws", func(w http.ResponseWriter, r *http.Request) { ls.live().ServeHTTP(w, r) })
	ls.http = httptest.NewServer(mux)
	t.Cleanup(func() {
		ls.http.Close()
		ls.live().Close()
		store.Close()
	})
	ls.lesson = uuid.New()
	ev, err := domain.NewLesson(ls.lesson, uuid.New(), "Fractions", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, errs, err := store.Append(context.Background(), ev); err != nil || errs[0] != nil {
		t.Fatalf("create lesson: %v %v", err, errs)
	}
	return ls
}

// live returns the realtime server serving now.
func (ls *lessonServer) live() *realtime.Server {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.rt
}

// restart closes the realtime server, as a graceful stop does, and starts a
// new one on the same store and address.
func (ls *lessonServer) restart() {
	ls.t.Helper()
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if err := ls.rt.Close(); err != nil {
		ls.t.Fatal(err)
	}
	rt, err := realtime.New(ls.cfg)
	if err != nil {
		ls.t.Fatal(err)
	}
	ls.rt = rt
}

func (ls *lessonServer) url() string {
	return "ws" + strings.TrimPrefix(ls.http.URL, "http") + "/api/lessons/" + ls.lesson.String() + "/ws"
}

func (ls *lessonServer) token(role domain.Role, participant string, ttl time.Duration) string {
	tok, err := ls.tokens.Issue(token.Claims{Lesson: ls.lesson, Role: role, Participant: participant, Expires: time.Now().Add(ttl)})
	if err != nil {
		ls.t.Fatal(err)
	}
	return tok
}

func (ls *lessonServer) join(ctx context.Context, role domain.Role, name string, onEvent func(domain.Event)) (*client.Client, error) {
	participant := ""
	if role == domain.RoleTeacher {
		participant = "teacher"
	}
	return client.Dial(ctx, client.Options{URL: ls.url(), Token: ls.token(role, participant, time.Hour), Name: name,
		Loopback: true, OnEvent: onEvent})
}

func (ls *lessonServer) mustJoin(ctx context.Context, role domain.Role, name string) *client.Client {
	ls.t.Helper()
	c, err := ls.join(ctx, role, name, nil)
	if err != nil {
		ls.t.Fatalf("%s joins: %v", name, err)
	}
	ls.t.Cleanup(func() { c.Close() })
	return c
}

// replay folds the stored log into a state, as the store holds it.
func (ls *lessonServer) replay() *domain.State {
	ls.t.Helper()
	s := domain.NewState()
	for e, err := range ls.store.Events(context.Background(), ls.lesson, 0) {
		if err != nil {
			ls.t.Fatal(err)
		}
		s.Apply(e)
	}
	return s
}

// mustSend sends a command that must be acknowledged. It stops the test:
// call it from the test's goroutine only, and send from others.
func mustSend(t testing.TB, ctx context.Context, c *client.Client, p domain.Payload) int64 {
	t.Helper()
	seq, err := send(ctx, c, p)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// send sends a command and says which failed.
func send(ctx context.Context, c *client.Client, p domain.Payload) (int64, error) {
	seq, err := c.Send(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("send %s: %w", p.Kind(), err)
	}
	return seq, nil
}

func strokeOf(i int, page int) *domain.StrokeDrawn {
	pts := make(domain.Points, 8)
	for k := range pts {
		pts[k] = domain.Point{X: float64(10*i + k), Y: float64(k * k), T: int64(k * 16), Pressure: 0.5}
	}
	return &domain.StrokeDrawn{Object: uuid.New(), Slide: domain.Slide{Page: page}, Tool: domain.ToolPen,
		Color: "#112233", Width: 2, Points: pts}
}

// present waits until the log holds the joins of clients: a client is live
// before its join is stored.
func (ls *lessonServer) present(clients ...*client.Client) {
	ls.t.Helper()
	for _, c := range clients {
		waitFor(ls.t, 10*time.Second, "the join of "+c.Participant(), func() bool {
			p, ok := ls.replay().Participants[c.Participant()]
			return ok && p.Present
		})
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// converge waits until every client has applied the whole log and checks
// that each one's state hash equals the store's replay.
func converge(t testing.TB, ls *lessonServer, clients ...*client.Client) {
	t.Helper()
	want := ls.replay()
	for i, c := range clients {
		waitFor(t, 20*time.Second, fmt.Sprintf("client %d to reach seq %d", i, want.Seq), func() bool { return c.Seq() >= want.Seq })
		if err := c.Err(); err != nil {
			t.Fatalf("client %d saw a protocol violation: %v", i, err)
		}
		if got := c.Hash(); got != want.Hash() {
			t.Fatalf("client %d state hash %s, store replay %s (seq %d vs %d)", i, got, want.Hash(), c.Seq(), want.Seq)
		}
	}
}

func TestClassDrawsTogether(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) { testClassDrawsTogether(t, kind, 30, 10) })
	}
}

// testClassDrawsTogether: a teacher and students join, the teacher lets them
// draw, and everyone draws at once; every client ends with the store's state.
func testClassDrawsTogether(t *testing.T, kind string, students, strokes int) {
	ls := startServer(t, openStore(t, kind), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	mustSend(t, ctx, teacher, &domain.DrawingPermitted{Allowed: true})
	clients := []*client.Client{teacher}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range students {
		wg.Go(func() {
			c, err := ls.join(ctx, domain.RoleStudent, fmt.Sprintf("Student %d", i), nil)
			if err != nil {
				t.Errorf("student %d joins: %v", i, err)
				return
			}
			t.Cleanup(func() { c.Close() })
			mu.Lock()
			clients = append(clients, c)
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i, c := range clients {
		wg.Go(func() {
			for k := range strokes {
				if _, err := send(ctx, c, strokeOf(i*strokes+k, 0)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	converge(t, ls, clients...)
	want := ls.replay()
	if n := len(want.Board(domain.Slide{}).Objects); n != (students+1)*strokes {
		t.Fatalf("board has %d objects, want %d", n, (students+1)*strokes)
	}
}

// TestLateJoinAndResume: a student joining after 10,000 events converges;
// one who drops mid-lesson and resumes gets exactly the events it missed.
func TestLateJoinAndResume(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), func(c *realtime.Config) {
		c.SnapshotEvery = 2500
		c.CommandRate, c.CommandBurst = 1_000_000, 1_000_000
	})
	// 10,000 strokes under -race on a busy machine take minutes: the
	// deadline only keeps a hang from lasting as long as the package.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	mustSend(t, ctx, teacher, &domain.DrawingPermitted{Allowed: true})

	var seen []int64
	var seenMu sync.Mutex
	bob, err := ls.join(ctx, domain.RoleStudent, "Bob", func(e domain.Event) {
		seenMu.Lock()
		seen = append(seen, e.Seq)
		seenMu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()

	// 10,000 events from the teacher, many in flight at once.
	drawMany(t, ctx, teacher, 10_000)
	converge(t, ls, teacher, bob)

	late := ls.mustJoin(ctx, domain.RoleStudent, "Late Lucy")
	converge(t, ls, teacher, bob, late)

	// Bob drops; the class goes on; Bob resumes.
	bob.Drop()
	dropped := bob.Seq()
	drawMany(t, ctx, teacher, 300)
	mustSend(t, ctx, late, strokeOf(1, 1))
	seenMu.Lock()
	seen = nil
	seenMu.Unlock()
	if err := bob.Resume(ctx); err != nil {
		t.Fatalf("resume: %v", err)
	}
	converge(t, ls, teacher, bob, late)
	seenMu.Lock()
	defer seenMu.Unlock()
	// Exactly the missed events: from the one after Bob's last, without gaps
	// or repeats, ending with Bob's own return.
	for i, seq := range seen {
		if seq != dropped+1+int64(i) {
			t.Fatalf("after resuming, event %d has seq %d, want %d", i, seq, dropped+1+int64(i))
		}
	}
	if last := ls.replay().Seq; seen[len(seen)-1] != last {
		t.Fatalf("resumed stream ends at %d, log at %d", seen[len(seen)-1], last)
	}
}

// drawMany sends n strokes from c with up to 64 in flight.
func drawMany(t testing.TB, ctx context.Context, c *client.Client, n int) {
	t.Helper()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, err := send(ctx, c, strokeOf(i, i%3)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// TestRefusals: forbidden, malformed and oversized commands are refused with
// their codes, nothing is stored, and the session and lesson carry on.
func TestRefusals(t *testing.T) {
	reg := prometheus.NewRegistry()
	ls := startServer(t, openStore(t, "sqlite"), func(c *realtime.Config) { c.Metrics = reg })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	student := ls.mustJoin(ctx, domain.RoleStudent, "Bob")
	ls.present(teacher, student)
	before := ls.replay().Seq

	for _, p := range []domain.Payload{
		&domain.SlideChanged{Slide: domain.Slide{Page: 1}},
		&domain.BoardCleared{Slide: domain.Slide{}},
		&domain.FloorGranted{Participant: student.Participant()},
		&domain.LessonEnded{},
		strokeOf(1, 0),                             // drawing is not allowed yet
		&domain.ParticipantLeft{},                  // the server records leaving
		&domain.ParticipantJoined{Name: "Mallory"}, // and joining
		&domain.LessonCreated{Title: "Another"},
	} {
		if _, err := student.Send(ctx, p); domain.ErrorCode(err) != domain.CodeForbidden {
			t.Fatalf("student's %s: %v, want forbidden", p.Kind(), err)
		}
	}
	for _, raw := range []string{
		`not json`,
		`{"type":"command"}`,
		`{"type":"ack","id":"` + uuid.NewString() + `","seq":1}`,
		`{"type":"command","id":"` + uuid.NewString() + `","kind":"chat.posted","data":{"text":""}}`,
		`{"type":"command","id":"` + uuid.NewString() + `","kind":"chat.posted","data":{"text":"x","extra":1}}`,
		`{"type":"command","id":"` + uuid.NewString() + `","kind":"no.such","data":{}}`,
		`{"type":"command","id":"` + uuid.NewString() + `","kind":"chat.posted","data":{"text":"` + strings.Repeat("a", 70_000) + `"}}`,
	} {
		if err := student.SendRaw([]byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	// A flood is refused beyond the burst, and the session lives on. It
	// comes after the malformed messages on the same ordered channel, so
	// those have been decided once the flood is answered.
	var limited, accepted atomic.Int64
	var flood sync.WaitGroup
	for range 1000 {
		flood.Go(func() {
			_, err := student.Send(ctx, &domain.ChatPosted{Text: "spam"})
			switch domain.ErrorCode(err) {
			case domain.CodeRateLimited:
				limited.Add(1)
			case "":
				accepted.Add(1)
			}
		})
	}
	flood.Wait()
	if limited.Load() == 0 {
		t.Fatal("1000 chat messages at once were all accepted")
	}
	time.Sleep(1500 * time.Millisecond) // let the limiter refill a little
	// Each malformed message is answered with an error, and the session lives on.
	seq := mustSend(t, ctx, student, &domain.ChatPosted{Text: "may I draw?"})
	want := before + accepted.Load() + 1 // the flood's accepted chats, then this one: nothing else
	if seq != want {
		t.Fatalf("the chat after the refusals got seq %d, want %d: something else was stored", seq, want)
	}
	converge(t, ls, teacher, student)
	if got := ls.replay().Seq; got != want {
		t.Fatalf("log grew from %d to %d, want %d", before, got, want)
	}

	// The metrics saw it all.
	metrics := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += "/" + l.GetValue()
			}
			switch {
			case m.Counter != nil:
				metrics[name] = m.Counter.GetValue()
			case m.Gauge != nil:
				metrics[name] = m.Gauge.GetValue()
			case m.Histogram != nil:
				metrics[name] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	for name, atLeast := range map[string]float64{
		"classroom_commands_refused_total/forbidden":           8,
		"classroom_commands_refused_total/invalid":             6,
		"classroom_commands_refused_total/rate_limited":        1,
		"classroom_events_appended_total":                      float64(want - 1),
		"classroom_append_seconds":                             1,
		"classroom_replays_total/snapshot":                     2,
		"classroom_datachannel_messages_received_total/events": 1000,
		"classroom_datachannel_messages_sent_total/events":     100,
		"classroom_live_lessons":                               1,
		"classroom_participants":                               2,
	} {
		if metrics[name] < atLeast {
			t.Errorf("metric %s = %v, want at least %v", name, metrics[name], atLeast)
		}
	}
}

// TestRefusedTokens: bad tokens are refused before any WebRTC work.
func TestRefusedTokens(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	other, _ := token.NewKeeper([]byte(strings.Repeat("x", 32)), nil)
	forged, _ := other.Issue(token.Claims{Lesson: ls.lesson, Role: domain.RoleTeacher, Participant: "t", Expires: time.Now().Add(time.Hour)})
	wrongLesson, _ := ls.tokens.Issue(token.Claims{Lesson: uuid.New(), Role: domain.RoleTeacher, Participant: "t", Expires: time.Now().Add(time.Hour)})
	expired, _ := token.NewKeeper([]byte(strings.Repeat("k", 32)), func() time.Time { return time.Now().Add(-2 * time.Hour) })
	old, _ := expired.Issue(token.Claims{Lesson: ls.lesson, Role: domain.RoleStudent, Expires: time.Now().Add(-time.Hour)})
	for name, tok := range map[string]string{"forged": forged, "wrong lesson": wrongLesson, "expired": old, "garbage": "x.y.z", "none": ""} {
		_, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: tok, Name: "Eve", Loopback: true})
		if domain.ErrorCode(err) != domain.CodeUnauthorized {
			t.Errorf("%s token: %v, want unauthorized", name, err)
		}
	}
	// An unknown lesson is not found.
	ls2 := *ls
	ls2.lesson = uuid.New()
	_, err := client.Dial(ctx, client.Options{URL: ls2.url(), Token: ls2.token(domain.RoleStudent, "", time.Hour), Name: "Eve", Loopback: true})
	if domain.ErrorCode(err) != domain.CodeNotFound {
		t.Errorf("unknown lesson: %v, want not_found", err)
	}
	if n := ls.live().Rooms(); n != 0 {
		t.Errorf("%d rooms left open by refused joins", n)
	}
}

// TestNothingLeftBehind: once everyone has left, no room, PeerConnection or
// goroutine of theirs remains.
func TestNothingLeftBehind(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	baseline := runtime.NumGoroutine()
	for round := range 3 {
		teacher, err := ls.join(ctx, domain.RoleTeacher, "Ms Lovelace", nil)
		if err != nil {
			t.Fatal(err)
		}
		var students []*client.Client
		for i := range 5 {
			s, err := ls.join(ctx, domain.RoleStudent, fmt.Sprintf("S%d", i), nil)
			if err != nil {
				t.Fatal(err)
			}
			students = append(students, s)
		}
		mustSend(t, ctx, teacher, &domain.ChatPosted{Text: fmt.Sprint("round ", round)})
		for _, s := range students {
			s.Close()
		}
		students[0].Close()
		teacher.Close()
	}
	waitFor(t, 10*time.Second, "rooms to close", func() bool { return ls.live().Rooms() == 0 })
	waitFor(t, 20*time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= baseline+2 })
	// Every join and leave is in the log.
	st := ls.replay()
	for id, p := range st.Participants {
		if p.Present {
			t.Errorf("participant %s (%s) is still present", id, p.Name)
		}
	}
}

// TestResendIsHarmless: a command sent while the connection was down is
// resent on resume and stored once; a command resent after its ack is
// answered with the same sequence.
func TestResendIsHarmless(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	student := ls.mustJoin(ctx, domain.RoleStudent, "Bob")

	id := uuid.New()
	first, err := student.SendID(ctx, id, &domain.ChatPosted{Text: "once"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := student.SendID(ctx, id, &domain.ChatPosted{Text: "once"})
	if err != nil || again != first {
		t.Fatalf("resent command: seq %d, %v; first had %d", again, err, first)
	}

	// Sent into a dead connection: it waits, unacknowledged, for the resume.
	student.Drop()
	lost := uuid.New()
	result := make(chan error, 1)
	go func() {
		_, err := student.SendID(ctx, lost, &domain.ChatPosted{Text: "while away"})
		result <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := student.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-result:
		if err != nil {
			t.Fatalf("the command sent while away: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the command sent while away was never acknowledged")
	}
	converge(t, ls, teacher, student)
	count := 0
	for _, m := range ls.replay().Chat {
		if m.Text == "while away" || m.Text == "once" {
			count++
		}
	}
	if count != 2 {
		t.Fatalf("%d stored copies of the two chat messages, want 2", count)
	}
}

// TestEphemeralRelay: cursors and previews reach the others, stamped with
// their sender, and are not stored; malformed ones are dropped.
func TestEphemeralRelay(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got := make(chan protocol.Ephemeral, 16)
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	c, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: ls.token(domain.RoleStudent, "", time.Hour),
		Name: "Bob", Loopback: true, OnEphemeral: func(e protocol.Ephemeral) { got <- e }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	converge(t, ls, teacher, c)
	before := ls.replay().Seq
	// Unreliable by design: send a few until one arrives.
	for i := 0; ; i++ {
		if err := teacher.SendEphemeral(protocol.Ephemeral{Type: protocol.EphemeralCursor, X: 10, Y: 20, Laser: true}); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-got:
			if e.Actor != teacher.Participant() || e.X != 10 || !e.Laser {
				t.Fatalf("relayed %+v", e)
			}
			if ls.replay().Seq != before {
				t.Fatal("an ephemeral message was stored")
			}
			return
		case <-time.After(100 * time.Millisecond):
			if i == 50 {
				t.Fatal("no cursor was relayed")
			}
		}
	}
}

// TestOriginCheck: a page from another site cannot open the WebSocket; the
// server's own pages and configured origins can.
func TestOriginCheck(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), func(c *realtime.Config) {
		c.AllowedOrigins = []string{"https://school.example"}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	host := strings.TrimPrefix(ls.http.URL, "http://")
	for origin, ok := range map[string]bool{
		"https://evil.example":   false,
		"https://school.example": true,
		"http://" + host:         true,
	} {
		c, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: ls.token(domain.RoleStudent, "", time.Hour),
			Name: "Bob", Loopback: true, Header: http.Header{"Origin": {origin}}})
		if ok != (err == nil) {
			t.Errorf("origin %s: %v, want allowed=%v", origin, err, ok)
		}
		if c != nil {
			c.Close()
		}
	}
}

// TestCloseWithParticipants: closing the server ends the sessions of
// participants still connected, and returns.
func TestCloseWithParticipants(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	student := ls.mustJoin(ctx, domain.RoleStudent, "Bob")
	closed := make(chan struct{})
	go func() {
		ls.live().Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(15 * time.Second):
		t.Fatal("the server did not close while participants were connected")
	}
	for _, c := range []*client.Client{teacher, student} {
		waitFor(t, 10*time.Second, "the client to be told", func() bool { return c.Bye() != nil })
	}
}

// TestReplacedInvitation: once the teacher has been given a new students'
// link, the earlier links no longer admit anyone, the new one does, and a
// student who joined with an earlier link still comes back with their own
// token.
func TestReplacedInvitation(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	invitation := func(id uuid.UUID) string {
		tok, err := ls.tokens.Issue(token.Claims{Lesson: ls.lesson, Role: domain.RoleStudent, Expires: time.Now().Add(7 * 24 * time.Hour), Invitation: id})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	first := invitation(uuid.New()) // the lesson's first link, not recorded
	ana, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: first, Name: "Ana", Loopback: true})
	if err != nil {
		t.Fatalf("Ana joins with the first link: %v", err)
	}
	defer ana.Close()
	// A link from before invitations had ids admits while none is recorded.
	carl, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: invitation(uuid.Nil), Name: "Carl", Loopback: true})
	if err != nil {
		t.Fatalf("Carl joins with a link of no id: %v", err)
	}
	carl.Close()
	// Ana's own token lasts as long as the link she came with: she keeps
	// it, for the replay too, when the link is replaced.
	linkClaims, err := ls.tokens.Verify(first, ls.lesson)
	if err != nil {
		t.Fatal(err)
	}
	own, err := ls.tokens.Verify(ana.ResumeToken(), ls.lesson)
	if err != nil || own.Participant != ana.Participant() || own.Expires.Before(linkClaims.Expires) {
		t.Fatalf("Ana's own token: %+v, %v; want hers, lasting until %s at least", own, err, linkClaims.Expires)
	}

	renewed := uuid.New()
	if err := ls.store.SetInvitation(ctx, ls.lesson, renewed); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"the first link": first, "a link of no id": invitation(uuid.Nil), "another link": invitation(uuid.New())} {
		_, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: tok, Name: "Eve", Loopback: true})
		if domain.ErrorCode(err) != domain.CodeUnauthorized || domain.ErrorReason(err) != domain.ReasonLinkReplaced {
			t.Errorf("joining with %s after a new one was given: %v (reason %q), want unauthorized, link_replaced", name, err, domain.ErrorReason(err))
		}
	}
	ben, err := client.Dial(ctx, client.Options{URL: ls.url(), Token: invitation(renewed), Name: "Ben", Loopback: true})
	if err != nil {
		t.Fatalf("Ben joins with the new link: %v", err)
	}
	defer ben.Close()
	ana.Drop()
	if err := ana.Resume(ctx); err != nil {
		t.Fatalf("Ana comes back with her own token: %v", err)
	}
	if got := ls.replay().Participants; len(got) != 3 {
		t.Errorf("%d participants joined, want Ana, Carl and Ben", len(got))
	}
	// Coming back, she is given a token that lasts as long again.
	if again, err := ls.tokens.Verify(ana.ResumeToken(), ls.lesson); err != nil || again.Expires.Before(own.Expires) {
		t.Errorf("Ana's token after resuming: %+v, %v; want it to last until %s at least", again, err, own.Expires)
	}
}
