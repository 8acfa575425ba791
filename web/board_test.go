package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"classroom/domain"
	"classroom/realtime/protocol"
	"classroom/web"
)

// The whiteboard tests open web/testdata/board.html, a Board whose commands
// are recorded (and committed back to it a few milliseconds later), drive it
// with real input events through the DevTools protocol, and hold what it sent
// to the domain's own rules: every command is decided against a real lesson
// state, every ephemeral message goes through the server's decoder.
//
// The board is 800×450 CSS pixels at the page's top-left corner, so a CSS
// pixel is two board units.

// boardHarness is the harness page in its own headless Chromium.
type boardHarness struct {
	t   *testing.T
	ctx context.Context
}

// openBoard serves the embedded client and the harness on loopback and opens
// the harness as participant me with role ("teacher" or "student").
func openBoard(t *testing.T, me string, role domain.Role) *boardHarness {
	t.Helper()
	srv := httptest.NewServer(boardMux())
	t.Cleanup(srv.Close)
	h := &boardHarness{t: t, ctx: browser(t)}
	page := fmt.Sprintf("%s/test/board.html?me=%s&role=%s", srv.URL, me, role)
	if err := chromedp.Do(h.ctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the harness to load", `window.ready === true`)
	return h
}

// boardMux serves the web package's handler (the embedded client under
// /static/) and the test pages under /test/.
func boardMux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/static/", web.NewHandler(web.Config{Logger: quietLog()}))
	mux.Handle("GET /test/", http.StripPrefix("/test/", http.FileServer(http.Dir("testdata"))))
	return mux
}

// evalJS evaluates a JavaScript expression in the harness, awaiting a promise.
func evalJS[T any](h *boardHarness, expr string) T {
	h.t.Helper()
	v, err := chromedp.Run(h.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		h.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (h *boardHarness) run(expr string) { evalJS[any](h, "("+expr+", null)") }

func (h *boardHarness) waitFor(what, cond string) {
	h.t.Helper()
	waitUntil(h.t, 10*time.Second, what, func() bool {
		ok, err := chromedp.Run(h.ctx, chromedp.Evaluate[bool](cond))
		return err == nil && ok
	})
}

// pointer is how a drag is dispatched: a mouse, or a pen with a force.
type pointer struct {
	kind  input.DispatchMouseEventPointerType
	force float64
}

var mouse = pointer{kind: input.DispatchMouseEventPointerTypeMouse}

// drag presses at the first CSS point, moves through the others one every
// pause (like a 120 Hz mouse) and releases at the last. It returns when the
// release has been dispatched.
func (h *boardHarness) drag(p pointer, path [][2]float64, pause time.Duration) {
	h.t.Helper()
	ev := func(typ input.DispatchMouseEventType, pt [2]float64, buttons int64) chromedp.Action[chromedp.Void] {
		return chromedp.MouseEvent(typ, pt[0], pt[1], func(params *input.DispatchMouseEventParams) {
			params.Button, params.Buttons, params.ClickCount = input.MouseButtonLeft, buttons, 1
			params.PointerType, params.Force = p.kind, p.force
		})
	}
	if err := chromedp.Do(h.ctx, ev(input.DispatchMouseEventTypeMousePressed, path[0], 1)); err != nil {
		h.t.Fatal(err)
	}
	for _, pt := range path[1:] {
		time.Sleep(pause)
		if err := chromedp.Do(h.ctx, ev(input.DispatchMouseEventTypeMouseMoved, pt, 1)); err != nil {
			h.t.Fatal(err)
		}
	}
	if err := chromedp.Do(h.ctx, ev(input.DispatchMouseEventTypeMouseReleased, path[len(path)-1], 0)); err != nil {
		h.t.Fatal(err)
	}
}

// wavyPath is n+1 CSS points from (x0, y0) to (x1, y1) with a wiggle.
func wavyPath(x0, y0, x1, y1 float64, n int) [][2]float64 {
	var path [][2]float64
	for i := 0; i <= n; i++ {
		f := float64(i) / float64(n)
		path = append(path, [2]float64{x0 + (x1-x0)*f, y0 + (y1-y0)*f + 10*math.Sin(f*2*math.Pi)})
	}
	return path
}

// sentCommand is a command the board sent, as the harness recorded it.
type sentCommand struct {
	Kind string          `json:"kind"`
	Data json.RawMessage `json:"data"`
	At   float64         `json:"at"` // performance.now() when sent
}

func (h *boardHarness) sent() []sentCommand {
	return evalJS[[]sentCommand](h, `sent`)
}

// boardStats is Board.stats().
type boardStats struct {
	Objects     int     `json:"objects"`
	Visible     int     `json:"visible"`
	LastFrameMs float64 `json:"lastFrameMs"`
	Rasterized  int     `json:"rasterized"`
	Previews    int     `json:"previews"`
	Local       int     `json:"local"`
}

func (h *boardHarness) stats() boardStats { return evalJS[boardStats](h, `board.stats()`) }

// pixel reads the composed canvas at a board point as [r, g, b, a].
func (h *boardHarness) pixel(x, y float64) [4]int {
	return evalJS[[4]int](h, fmt.Sprintf(`board.pixel(%v, %v)`, x, y))
}

// lesson is a real lesson state the board's commands are decided against:
// a teacher and a student (allowed to draw), present, the lesson live.
type lesson struct {
	t     *testing.T
	state *domain.State
	seq   int64
}

func newLesson(t *testing.T) *lesson {
	t.Helper()
	l := &lesson{t: t, state: domain.NewState()}
	created, err := domain.NewLesson(uuid.New(), uuid.New(), "Board", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l.apply(created)
	l.must("teacher", domain.RoleTeacher, &domain.ParticipantJoined{Name: "Teacher"})
	l.must("teacher", domain.RoleTeacher, &domain.LessonStarted{})
	l.must("student", domain.RoleStudent, &domain.ParticipantJoined{Name: "Student"})
	l.must("teacher", domain.RoleTeacher, &domain.DrawingPermitted{Allowed: true})
	return l
}

func (l *lesson) apply(e domain.Event) {
	l.seq++
	e.Seq = l.seq
	l.state.Apply(e)
}

// decide decides a command and applies its event.
func (l *lesson) decide(actor string, role domain.Role, p domain.Payload) error {
	e, err := domain.Decide(l.state, domain.Command{ID: uuid.New(), Actor: actor, Role: role, Payload: p}, time.Now())
	if err != nil {
		return err
	}
	l.apply(e)
	return nil
}

func (l *lesson) must(actor string, role domain.Role, p domain.Payload) {
	l.t.Helper()
	if err := l.decide(actor, role, p); err != nil {
		l.t.Fatalf("%s: %v", p.Kind(), err)
	}
}

// decideSent decodes commands as the server does and decides them in order.
func (l *lesson) decideSent(actor string, role domain.Role, cmds []sentCommand) {
	l.t.Helper()
	for i, c := range cmds {
		p, err := domain.DecodePayload(domain.Kind(c.Kind), c.Data)
		if err != nil {
			l.t.Fatalf("command %d (%s) does not decode: %v\n%s", i, c.Kind, err, c.Data)
		}
		if err := l.decide(actor, role, p); err != nil {
			l.t.Fatalf("command %d (%s) is refused: %v\n%s", i, c.Kind, err, c.Data)
		}
	}
}

// boardJSON is the whiteboard's board as the snapshot encodes it.
func (l *lesson) boardJSON() string {
	b := l.state.Board(domain.Slide{})
	if b == nil {
		return `{"objects":[],"history":{}}`
	}
	enc, err := b.MarshalJSON()
	if err != nil {
		l.t.Fatal(err)
	}
	return string(enc)
}

// stroke commits a horizontal pen stroke of actor in board units.
func (l *lesson) stroke(actor string, role domain.Role, x0, x1, y float64, color string) uuid.UUID {
	l.t.Helper()
	id := uuid.New()
	var pts domain.Points
	for i := 0; i <= 20; i++ {
		pts = append(pts, domain.Point{X: x0 + (x1-x0)*float64(i)/20, Y: y, T: int64(i * 10), Pressure: 0.5})
	}
	l.must(actor, role, &domain.StrokeDrawn{Object: id, Part: 0, Tool: domain.ToolPen, Color: color, Width: 6, Points: pts})
	return id
}

func isColor(px [4]int, r, g, b int) bool {
	near := func(a, b int) bool { return a-b <= 40 && b-a <= 40 }
	return near(px[0], r) && near(px[1], g) && near(px[2], b)
}

func isWhite(px [4]int) bool { return px[0] > 245 && px[1] > 245 && px[2] > 245 }

// TestBoardStroke: a mouse stroke appears at once and is committed as
// stroke.drawn parts: part 0 with the style, in order, far fewer commands than
// pointer moves and no faster than ~30 a second, every point on the board and
// accepted by the domain; previews go out meanwhile; the stroke is drawn.
func TestBoardStroke(t *testing.T) {
	h := openBoard(t, "teacher", domain.RoleTeacher)
	h.run(`board.setColor("#dc2626"), board.setWidth(4)`)
	path := wavyPath(100, 100, 400, 300, 80)
	start := time.Now()
	h.drag(mouse, path, 0)
	elapsed := time.Since(start)
	h.waitFor("the stroke to be committed and settled", `board.stats().local === 0 && board.stats().objects === 1`)

	// Each move is a DevTools round trip (~17 ms), slower than a real mouse:
	// what batching must achieve is ≤ ~30 commits a second (checked below
	// part by part, and here over the whole stroke), so fewer commands than
	// moves even at this pace.
	cmds := h.sent()
	t.Logf("%d moves in %v became %d commands", len(path), elapsed.Round(time.Millisecond), len(cmds))
	if limit := min(len(path)*2/3, int(elapsed/(33*time.Millisecond))+2); len(cmds) < 2 || len(cmds) > limit {
		t.Fatalf("%d pointer moves in %v became %d commands; want batches (2 to %d)", len(path), elapsed, len(cmds), limit)
	}
	var object string
	var points [][4]float64
	for i, c := range cmds {
		var d struct {
			Object string       `json:"object"`
			Part   int          `json:"part"`
			Tool   string       `json:"tool"`
			Color  string       `json:"color"`
			Width  float64      `json:"width"`
			Points [][4]float64 `json:"points"`
		}
		if err := json.Unmarshal(c.Data, &d); err != nil || c.Kind != "stroke.drawn" {
			t.Fatalf("command %d: %s %s (%v)", i, c.Kind, c.Data, err)
		}
		if i == 0 {
			object = d.Object
			if d.Tool != "pen" || d.Color != "#dc2626" || d.Width != 4 {
				t.Errorf("part 0 carries tool %q, colour %q, width %v", d.Tool, d.Color, d.Width)
			}
		} else if d.Tool != "" || d.Color != "" || d.Width != 0 {
			t.Errorf("part %d carries a style", d.Part)
		}
		if d.Object != object || d.Part != i {
			t.Errorf("command %d is part %d of %s", i, d.Part, d.Object)
		}
		if len(d.Points) == 0 || len(d.Points) > 1000 {
			t.Errorf("part %d has %d points", i, len(d.Points))
		}
		// All but the last (sent on release) wait their turn: ≤ ~30 a second
		// on average (checked below); one part may follow a late one
		// sooner, as the page's timer catches up, but never in a burst.
		if i > 0 && i < len(cmds)-1 && c.At-cmds[i-1].At < 20 {
			t.Errorf("part %d was sent %.1f ms after the one before", i, c.At-cmds[i-1].At)
		}
		points = append(points, d.Points...)
	}
	if n := len(cmds) - 2; n > 1 {
		if gap := (cmds[n].At - cmds[0].At) / float64(n); gap < 30 {
			t.Errorf("parts before the last were sent %.1f ms apart on average, want ≥ 30", gap)
		}
	}
	if len(points) < len(path)/2 {
		t.Errorf("%d pointer positions became %d points", len(path), len(points))
	}
	for i, p := range points {
		if p[0] < 0 || p[0] > 1600 || p[1] < 0 || p[1] > 900 || p[3] != 0.5 {
			t.Errorf("point %d is %v: off the board, or not a mouse's pressure", i, p)
		}
		if p[0]*10 != math.Round(p[0]*10) || p[1]*10 != math.Round(p[1]*10) {
			t.Errorf("point %d is %v: not rounded to 0.1", i, p)
		}
	}
	if first := points[0]; math.Abs(first[0]-200) > 1 || math.Abs(first[1]-200) > 1 {
		t.Errorf("the stroke starts at %v, want the press at (200, 200)", first)
	}
	newLesson(t).decideSent("teacher", domain.RoleTeacher, cmds)

	previews := evalJS[[]json.RawMessage](h, `ephemeralSent`)
	if len(previews) == 0 || len(previews) > len(cmds)+1 {
		t.Errorf("%d previews for %d commits", len(previews), len(cmds))
	}
	for _, raw := range previews {
		m, err := protocol.DecodeEphemeral(raw)
		if err != nil || m.Type != protocol.EphemeralPreview || m.Object.String() != object {
			t.Errorf("preview %s: %v", raw, err)
		}
	}

	mid := points[len(points)/2]
	if px := h.pixel(mid[0], mid[1]); !isColor(px, 0xdc, 0x26, 0x26) {
		t.Errorf("under the stroke at (%v, %v) the board is %v", mid[0], mid[1], px)
	}
	if px := h.pixel(1500, 100); !isWhite(px) {
		t.Errorf("away from the stroke the board is %v", px)
	}
}

// TestBoardPenPressure: a pen's force becomes the points' pressure.
func TestBoardPenPressure(t *testing.T) {
	h := openBoard(t, "teacher", domain.RoleTeacher)
	h.drag(pointer{kind: input.DispatchMouseEventPointerTypePen, force: 0.8}, wavyPath(100, 200, 300, 200, 20), 8*time.Millisecond)
	h.waitFor("the stroke to settle", `board.stats().local === 0 && board.stats().objects === 1`)
	cmds := h.sent()
	var d struct {
		Points [][4]float64 `json:"points"`
	}
	if err := json.Unmarshal(cmds[0].Data, &d); err != nil {
		t.Fatal(err)
	}
	if p := d.Points[0][3]; math.Abs(p-0.8) > 0.01 {
		t.Errorf("a pen pressing with force 0.8 gave pressure %v", p)
	}
	newLesson(t).decideSent("teacher", domain.RoleTeacher, cmds)
}

// TestBoardShape: the R key selects the rectangle; a drag makes one
// shape.added between the press and the release, drawn on the board.
func TestBoardShape(t *testing.T) {
	h := openBoard(t, "teacher", domain.RoleTeacher)
	if err := chromedp.Do(h.ctx, chromedp.KeyEvent("r")); err != nil {
		t.Fatal(err)
	}
	if tool := evalJS[string](h, `board.tool`); tool != "rectangle" {
		t.Fatalf("after R the tool is %q", tool)
	}
	h.run(`board.setColor("rgb(22, 163, 74)"), board.setWidth(6)`)
	h.drag(mouse, wavyPath(100, 100, 300, 200, 10), 8*time.Millisecond)
	h.waitFor("the shape to settle", `board.stats().local === 0 && board.stats().objects === 1`)
	cmds := h.sent()
	if len(cmds) != 1 || cmds[0].Kind != "shape.added" {
		t.Fatalf("a rectangle drag sent %v", cmds)
	}
	var d struct {
		Shape string     `json:"shape"`
		From  [2]float64 `json:"from"`
		To    [2]float64 `json:"to"`
		Color string     `json:"color"`
	}
	if err := json.Unmarshal(cmds[0].Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.Shape != "rectangle" || d.From != [2]float64{200, 200} || d.To != [2]float64{600, 400} || d.Color != "#16a34a" {
		t.Errorf("shape.added %s", cmds[0].Data)
	}
	newLesson(t).decideSent("teacher", domain.RoleTeacher, cmds)
	if px := h.pixel(400, 200); !isColor(px, 0x16, 0xa3, 0x4a) {
		t.Errorf("on the rectangle's top edge the board is %v", px)
	}
	if px := h.pixel(400, 300); !isWhite(px) {
		t.Errorf("inside the (unfilled) rectangle the board is %v", px)
	}

	// Resized, the board re-rasterises its cache at the new size, on its own.
	h.run(`document.getElementById("board").style.width = "400px"`)
	h.waitFor("the cache to be rebuilt at the new size",
		`board.canvas.width === 400 && board.cache.canvas.width === 400 && !board.stats().rebuilding`)
	// At this size the edge is 1.5 device pixels wide: anti-aliased, green.
	if px := h.pixel(400, 200); !(px[1]-px[0] > 60 && px[1]-px[2] > 40) {
		t.Errorf("resized, on the rectangle's top edge the board is %v", px)
	}
	if got := evalJS[string](h, `board.canvas.style.top`); got != "112.5px" {
		t.Errorf("a 400×450 container letterboxes the board at top %s, want 112.5px", got)
	}
}

// TestBoardEraser: the teacher's eraser takes a student's stroke; a
// student's eraser passes over the teacher's stroke and takes only their own.
func TestBoardEraser(t *testing.T) {
	// Both strokes are committed in a real lesson; the board shows its JSON.
	setup := func(t *testing.T) (l *lesson, teacherStroke, studentStroke uuid.UUID, board string) {
		l = newLesson(t)
		teacherStroke = l.stroke("teacher", domain.RoleTeacher, 200, 600, 300, "#1e40af")
		studentStroke = l.stroke("student", domain.RoleStudent, 200, 600, 600, "#9333ea")
		return l, teacherStroke, studentStroke, l.boardJSON()
	}
	erased := func(id uuid.UUID) string {
		return fmt.Sprintf(`{"slide":{"deck":"00000000-0000-0000-0000-000000000000","page":0},"objects":["%s"]}`, id)
	}

	t.Run("teacher", func(t *testing.T) {
		l, _, studentStroke, board := setup(t)
		h := openBoard(t, "teacher", domain.RoleTeacher)
		h.run(`load(` + board + `.objects), board.setTool("eraser")`)
		// Down across the student's stroke at y = 600 (CSS y = 300).
		h.drag(mouse, [][2]float64{{200, 250}, {200, 280}, {200, 300}, {200, 320}, {200, 350}}, 10*time.Millisecond)
		h.waitFor("the erase to be committed", `boardState.objects.some((o) => o.hidden)`)
		cmds := h.sent()
		if len(cmds) != 1 || cmds[0].Kind != "objects.erased" || string(cmds[0].Data) != erased(studentStroke) {
			t.Fatalf("the teacher's eraser sent %v, want objects.erased %s", cmds, erased(studentStroke))
		}
		l.decideSent("teacher", domain.RoleTeacher, cmds)
		if s := h.stats(); s.Objects != 2 || s.Visible != 1 {
			t.Errorf("after erasing: %+v", s)
		}
		if px := h.pixel(400, 600); !isWhite(px) {
			t.Errorf("where the erased stroke was the board is %v", px)
		}
		if px := h.pixel(400, 300); !isColor(px, 0x1e, 0x40, 0xaf) {
			t.Errorf("the teacher's stroke is gone: %v", px)
		}
	})

	t.Run("student", func(t *testing.T) {
		l, _, studentStroke, board := setup(t)
		h := openBoard(t, "student", domain.RoleStudent)
		h.run(`load(` + board + `.objects), board.setTool("eraser")`)
		// Down across the teacher's stroke at y = 300 (CSS y = 150): nothing.
		h.drag(mouse, [][2]float64{{250, 100}, {250, 140}, {250, 150}, {250, 160}, {250, 200}}, 10*time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		if cmds := h.sent(); len(cmds) != 0 {
			t.Fatalf("a student's eraser over the teacher's stroke sent %v", cmds)
		}
		if px := h.pixel(500, 300); !isColor(px, 0x1e, 0x40, 0xaf) {
			t.Errorf("the teacher's stroke is gone from the student's board: %v", px)
		}
		// Across both strokes: only the student's own goes.
		h.drag(mouse, [][2]float64{{300, 100}, {300, 150}, {300, 200}, {300, 250}, {300, 300}, {300, 350}}, 10*time.Millisecond)
		h.waitFor("the erase to be committed", `boardState.objects.some((o) => o.hidden)`)
		cmds := h.sent()
		if len(cmds) != 1 || string(cmds[0].Data) != erased(studentStroke) {
			t.Fatalf("a student's eraser across both strokes sent %v, want %s", cmds, erased(studentStroke))
		}
		l.decideSent("student", domain.RoleStudent, cmds)
	})
}

// TestBoardCannotDraw: with drawing withdrawn no tool sends anything, the
// cursor says so, and the laser stays the teacher's.
func TestBoardCannotDraw(t *testing.T) {
	h := openBoard(t, "student", domain.RoleStudent)
	h.run(`board.setCanDraw(false)`)
	if c := evalJS[string](h, `board.canvas.style.cursor`); c != "not-allowed" {
		t.Errorf("a board that cannot draw shows the cursor %q", c)
	}
	for _, tool := range []string{"pen", "highlighter", "rectangle", "eraser", "laser"} {
		h.run(`board.setTool("` + tool + `")`)
		h.drag(mouse, wavyPath(100, 100, 300, 200, 10), 5*time.Millisecond)
	}
	h.run(`board.setCanDraw(true), board.setTool("laser")`)
	h.drag(mouse, wavyPath(100, 100, 300, 200, 10), 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	if cmds := h.sent(); len(cmds) != 0 {
		t.Errorf("a student who may not draw sent %v", cmds)
	}
	if eph := evalJS[[]json.RawMessage](h, `ephemeralSent`); len(eph) != 0 {
		t.Errorf("a student who may not draw sent ephemeral messages %s", eph)
	}
	if s := h.stats(); s.Local != 0 || s.Objects != 0 {
		t.Errorf("something was drawn: %+v", s)
	}
	if px := h.pixel(300, 250); !isWhite(px) {
		t.Errorf("the board is %v where the student tried to draw", px)
	}
}

// TestBoardRefused: a stroke the server refuses disappears and is reported
// once, however many of its parts are refused.
func TestBoardRefused(t *testing.T) {
	h := openBoard(t, "student", domain.RoleStudent)
	h.run(`window.refuse = {code: "forbidden", message: "the teacher has not allowed you to draw"}, window.answerMs = 200`)
	h.drag(mouse, wavyPath(100, 100, 400, 300, 40), 8*time.Millisecond)
	h.waitFor("the refusal", `errors.length > 0 && board.stats().local === 0`)
	time.Sleep(100 * time.Millisecond)
	errs := evalJS[[]map[string]string](h, `errors`)
	if len(errs) != 1 || errs[0]["code"] != "forbidden" {
		t.Errorf("onerror heard %v; want one forbidden", errs)
	}
	if n := len(h.sent()); n < 2 {
		t.Errorf("%d parts sent; the test needs a refused stroke of several parts", n)
	}
	if px := h.pixel(500, 400); !isWhite(px) {
		t.Errorf("the refused stroke is still drawn: %v", px)
	}
}

// TestBoardRemotePreview: a remote highlighter's preview is drawn at once;
// as its committed parts arrive the preview gives way, and the stroke ends
// up drawn once: where the two overlapped, the ink is no darker than a
// single highlighter pass.
func TestBoardRemotePreview(t *testing.T) {
	h := openBoard(t, "teacher", domain.RoleTeacher)
	id := uuid.New().String()
	pts := `[[300,300,0,0.5],[500,300,40,0.5],[700,300,80,0.5]]`
	h.run(`board.ephemeral({type: "preview", actor: "student", slide, object: "` + id +
		`", color: "#2563eb59", width: 40, points: ` + pts + `})`)
	once := [4]int{179, 201, 248, 255} // #2563eb at 0.35 over white
	near := func(px, want [4]int) bool {
		for i := range 3 {
			if px[i]-want[i] > 4 || want[i]-px[i] > 4 {
				return false
			}
		}
		return true
	}
	if px := h.pixel(400, 300); !near(px, once) {
		t.Errorf("under the preview the board is %v, want %v", px, once)
	}
	before := h.stats()
	if before.Previews != 1 {
		t.Fatalf("previews: %+v", before)
	}
	part := func(n int, extra, points string) {
		h.run(`commitEvent("student", "stroke.drawn", {object: "` + id + `", slide, part: ` + fmt.Sprint(n) + extra +
			`, points: ` + points + `})`)
	}
	part(0, `, tool: "highlighter", color: "#2563eb", width: 40`, `[[300,300,0,0.5],[500,300,40,0.5]]`)
	if s := h.stats(); s.Previews != 1 {
		t.Errorf("the preview went before the committed stroke covered it: %+v", s)
	}
	if px := h.pixel(620, 300); !near(px, once) {
		t.Errorf("beyond the committed part the board is %v, want the preview %v", px, once)
	}
	part(1, ``, `[[700,300,80,0.5]]`)
	if s := h.stats(); s.Previews != 0 {
		t.Errorf("the committed stroke covers the preview, which stays: %+v", s)
	}
	h.waitFor("the stroke to join the cache", fmt.Sprintf(`board.stats().rasterized > %d`, before.Rasterized))
	time.Sleep(100 * time.Millisecond)
	if s := h.stats(); s.Rasterized != before.Rasterized+1 {
		t.Errorf("the stroke was rasterised %d times", s.Rasterized-before.Rasterized)
	}
	for _, x := range []float64{320, 400, 600, 680} {
		if px := h.pixel(x, 300); !near(px, once) {
			t.Errorf("at (%v, 300) the highlighter is %v, want one pass %v", x, px, once)
		}
	}
}

// TestBoardTouch: a finger draws like a pen.
func TestBoardTouch(t *testing.T) {
	h := openBoard(t, "teacher", domain.RoleTeacher)
	touch := func(typ input.DispatchTouchEventType, pts ...[2]float64) {
		var tp []*input.TouchPoint
		for _, p := range pts {
			id := 1.0
			tp = append(tp, &input.TouchPoint{X: p[0], Y: p[1], ID: &id})
		}
		if tp == nil {
			tp = []*input.TouchPoint{}
		}
		_, err := chromedp.Call(h.ctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: tp})
		if err != nil {
			t.Fatal(err)
		}
	}
	path := wavyPath(100, 300, 500, 300, 30)
	touch(input.DispatchTouchEventTypeTouchStart, path[0])
	for _, p := range path[1:] {
		time.Sleep(8 * time.Millisecond)
		touch(input.DispatchTouchEventTypeTouchMove, p)
	}
	touch(input.DispatchTouchEventTypeTouchEnd)
	h.waitFor("the touch stroke to settle", `board.stats().local === 0 && board.stats().objects === 1`)
	newLesson(t).decideSent("teacher", domain.RoleTeacher, h.sent())
	if px := h.pixel(600, 600); isWhite(px) {
		t.Errorf("under the touch stroke the board is %v", px)
	}
}
