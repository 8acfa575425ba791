package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"classroom/domain"
	"classroom/web"
)

// The tests of web/static/js/state.js fold the same log in Go and in a
// headless Chromium and compare the state hashes: the browser's copy of a
// lesson must be the server's byte for byte.

// testSeed is a new random seed, or CLASSROOM_TEST_SEED to replay a failure.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CLASSROOM_TEST_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("CLASSROOM_TEST_SEED: %v", err)
		}
	}
	t.Logf("seed %d (CLASSROOM_TEST_SEED replays it)", seed)
	return seed
}

// stateSite serves the embedded browser client, the test pages and the given
// documents (path → body) on loopback.
func stateSite(t *testing.T, docs map[string][]byte) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/", web.NewHandler(web.Config{Logger: quietLog()}))
	mux.Handle("GET /test/", http.StripPrefix("/test/", http.FileServer(http.Dir("testdata"))))
	for path, body := range docs {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// statePage opens testdata/state.html in a new headless Chromium.
func statePage(t *testing.T, site string) context.Context {
	t.Helper()
	b := browser(t)
	ctx, cancel := context.WithTimeout(b, 4*time.Minute)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate(site+"/test/state.html"),
		chromedp.Poll[chromedp.Void](`window.ready === true`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("open the state page: %v", err)
	}
	return ctx
}

// checkpoint is the state hash after the event of sequence Seq.
type checkpoint struct {
	Seq  int64
	Hash string
	Same bool // the starting snapshot re-encodes to its own bytes
}

// foldInBrowser runs window.fold of the state page.
func foldInBrowser(t *testing.T, ctx context.Context, opts map[string]any) []checkpoint {
	t.Helper()
	arg, err := json.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]checkpoint](fmt.Sprintf(`fold(%s)`, arg), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fold in the browser: %v", err)
	}
	return got
}

// expected replays log from the state start and returns the Go hashes in the
// shape window.fold returns them.
func expected(t *testing.T, start *domain.State, log []domain.Event, every int64) []checkpoint {
	t.Helper()
	st := start.Clone()
	want := []checkpoint{{Seq: st.Seq, Hash: st.Hash(), Same: true}}
	for _, e := range log {
		if e.Seq <= st.Seq {
			continue
		}
		st.Apply(e)
		if e.Seq%every == 0 {
			want = append(want, checkpoint{Seq: e.Seq, Hash: st.Hash(), Same: true})
		}
	}
	return append(want, checkpoint{Seq: st.Seq, Hash: st.Hash(), Same: true})
}

// stateAt replays the log from start up to seq.
func stateAt(start *domain.State, log []domain.Event, seq int64) *domain.State {
	st := start.Clone()
	for _, e := range log {
		if e.Seq > seq {
			break
		}
		if e.Seq > st.Seq {
			st.Apply(e)
		}
	}
	return st
}

// compareFolds fails the test at the first checkpoint where the browser's hash
// differs from Go's, showing where the two snapshots part.
func compareFolds(t *testing.T, ctx context.Context, start *domain.State, log []domain.Event, got, want []checkpoint, opts map[string]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("the browser gave %d checkpoints, Go %d", len(got), len(want))
	}
	for i := range want {
		if got[i] == want[i] {
			continue
		}
		t.Errorf("after seq %d the browser has %+v, Go %+v", want[i].Seq, got[i], want[i])
		opts["until"] = want[i].Seq
		foldInBrowser(t, ctx, opts)
		js, err := chromedp.Run(ctx, chromedp.Evaluate[string](`snapshotJSON(last)`))
		if err != nil {
			t.Fatal(err)
		}
		goJSON, err := stateAt(start, log, want[i].Seq).MarshalSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		t.Fatalf("the snapshots at seq %d part:\n%s", want[i].Seq, firstDifference([]byte(js), goJSON))
	}
}

// firstDifference shows the neighbourhood of the first byte where a and b differ.
func firstDifference(js, goJSON []byte) string {
	i := 0
	for i < len(js) && i < len(goJSON) && js[i] == goJSON[i] {
		i++
	}
	from := max(i-120, 0)
	return fmt.Sprintf("at byte %d\nbrowser: …%s…\n     Go: …%s…", i, js[from:min(i+120, len(js))], goJSON[from:min(i+120, len(goJSON))])
}

// encodeLog is the log as JSON wire events, and the log as a client decodes
// them, which is what the server's own fold saw.
func encodeLog(t *testing.T, log []domain.Event) ([]byte, []domain.Event) {
	t.Helper()
	var buf bytes.Buffer
	decoded := make([]domain.Event, 0, len(log))
	buf.WriteByte('[')
	for i, e := range log {
		b, err := e.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var d domain.Event
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("event %d does not decode: %v\n%s", e.Seq, err, b)
		}
		decoded = append(decoded, d)
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
	}
	buf.WriteByte(']')
	return buf.Bytes(), decoded
}

// TestLessonStateInBrowser folds a long randomized lesson in Go and with
// state.js in Chromium, from its start and from a snapshot in its middle, and
// compares the state hashes every 250 events and at the end, the final
// snapshots byte for byte and the page's read helpers with the domain's. It
// folds the same lesson again from JSON that encodes it otherwise (upper-case
// UUIDs, times at other offsets), which Go decodes to the same values.
func TestLessonStateInBrowser(t *testing.T) {
	seed := testSeed(t)
	g := newLessonGen(t, seed)
	g.play()
	body, log := encodeLog(t, g.log)
	if want, got := g.st.Hash(), stateAt(domain.NewState(), log, math.MaxInt64).Hash(); got != want {
		t.Fatalf("a replay of the decoded log hashes %s, the lesson %s", got, want)
	}
	t.Logf("%d events (%d bytes), %d commands refused, %d of them stored anyway; kinds %v",
		len(log), len(body), g.refused, g.injected, g.kinds)

	// A snapshot in the middle, at a seq no checkpoint falls on.
	const every = 250
	mid := int64(len(log))*11/20 | 1
	snap, err := stateAt(domain.NewState(), log, mid).MarshalSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	oddBody, oddSnap := disguise(t, body), disguise(t, snap)
	site := stateSite(t, map[string][]byte{"/data/events.json": body, "/data/snapshot.json": snap,
		"/data/odd-events.json": oddBody, "/data/odd-snapshot.json": oddSnap})
	ctx := statePage(t, site)

	t.Run("from the start", func(t *testing.T) {
		opts := map[string]any{"events": "/data/events.json", "every": every}
		got := foldInBrowser(t, ctx, opts)
		compareFolds(t, ctx, domain.NewState(), log, got, expected(t, domain.NewState(), log, every), opts)
		js, err := chromedp.Run(ctx, chromedp.Evaluate[string](`snapshotJSON(last)`))
		if err != nil {
			t.Fatal(err)
		}
		goJSON, err := g.st.MarshalSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		if js != string(goJSON) {
			t.Fatalf("the final snapshots differ:\n%s", firstDifference([]byte(js), goJSON))
		}
		checkHelpers(t, ctx, g.st)
	})
	t.Run("from a snapshot", func(t *testing.T) {
		opts := map[string]any{"events": "/data/events.json", "snapshot": "/data/snapshot.json", "every": every}
		got := foldInBrowser(t, ctx, opts)
		if len(got) == 0 || got[0].Seq != mid || !got[0].Same {
			t.Fatalf("the snapshot at seq %d did not load as itself: %+v", mid, got[:min(len(got), 1)])
		}
		start, err := domain.RestoreSnapshot(snap)
		if err != nil {
			t.Fatal(err)
		}
		compareFolds(t, ctx, start, log, got, expected(t, start, log, every), opts)
	})
	t.Run("from JSON written otherwise", func(t *testing.T) {
		var oddLog []domain.Event
		if err := json.Unmarshal(oddBody, &oddLog); err != nil {
			t.Fatal(err)
		}
		opts := map[string]any{"events": "/data/odd-events.json", "every": 4 * every}
		got := foldInBrowser(t, ctx, opts)
		compareFolds(t, ctx, domain.NewState(), oddLog, got, expected(t, domain.NewState(), oddLog, 4*every), opts)

		start, err := domain.RestoreSnapshot(oddSnap)
		if err != nil {
			t.Fatal(err)
		}
		opts = map[string]any{"events": "/data/odd-events.json", "snapshot": "/data/odd-snapshot.json", "every": 4 * every}
		got = foldInBrowser(t, ctx, opts)
		want := expected(t, start, oddLog, 4*every)
		if restored, _ := start.MarshalSnapshot(); bytes.Equal(restored, oddSnap) || want[0].Hash == expected(t, domain.NewState(), oddLog, 4*every)[0].Hash {
			t.Fatal("the disguised snapshot is the snapshot: the test proves nothing")
		}
		want[0].Same = false // it re-encodes in canonical form
		compareFolds(t, ctx, start, oddLog, got, want, opts)
	})
}

// uuidText is a UUID as encoding/json writes one.
var uuidText = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// disguise rewrites a JSON document of events or of a snapshot into another
// that Go decodes to the same values: UUIDs in upper case, times at other
// offsets with their fractions padded to nanoseconds, keys in another order.
// Go turns an event's time into UTC but keeps a snapshot time's offset.
func disguise(t *testing.T, doc []byte) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	zones := []*time.Location{time.FixedZone("", 5*3600+1800), time.FixedZone("", -8*3600), time.UTC}
	n := 0
	var walk func(key string, v any) any
	walk = func(key string, v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(k, e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(key, e)
			}
		case string:
			if key == "time" || key == "created" {
				tm, err := time.Parse(time.RFC3339Nano, x)
				if err != nil {
					t.Fatal(err)
				}
				n++
				return tm.In(zones[n%len(zones)]).Format("2006-01-02T15:04:05.000000000Z07:00")
			}
			if uuidText.MatchString(x) {
				return strings.ToUpper(x)
			}
		}
		return v
	}
	b, err := json.Marshal(walk("", v))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkHelpers compares the page's read helpers on the last state it folded
// with what the domain says of st.
func checkHelpers(t *testing.T, ctx context.Context, st *domain.State) {
	t.Helper()
	slides := []domain.Slide{{Page: domain.MaxWhiteboardPages - 1}} // never drawn on
	for _, d := range st.Decks {
		for page := range d.Pages {
			slides = append(slides, domain.Slide{Deck: d.ID, Page: page})
		}
	}
	for page := range 10 {
		slides = append(slides, domain.Slide{Page: page})
	}
	participants := []string{"nobody"}
	for id := range st.Participants {
		participants = append(participants, id)
	}
	arg, err := json.Marshal(map[string]any{"slides": slides, "participants": participants})
	if err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Keys             []string
		Objects, Visible [][]string
		CanDraw          []bool
		IsTeacher        []bool
		Present          []string
	}](fmt.Sprintf(`helpers(%s)`, arg)))
	if err != nil {
		t.Fatal(err)
	}
	ids := func(objects []*domain.Object) []string {
		out := []string{}
		for _, o := range objects {
			out = append(out, o.ID.String())
		}
		return out
	}
	drawnOn := 0
	for i, sl := range slides {
		var objects, visible []string
		if b := st.Board(sl); b != nil {
			objects, visible = ids(b.Objects), ids(b.Visible())
			drawnOn++
		}
		if got.Keys[i] != sl.Key() || !slices.Equal(got.Objects[i], objects) || !slices.Equal(got.Visible[i], visible) {
			t.Errorf("slide %s: the page has key %q, objects %v, visible %v; Go %v, %v", sl.Key(), got.Keys[i],
				got.Objects[i], got.Visible[i], objects, visible)
		}
	}
	if drawnOn < 3 {
		t.Fatalf("only %d of the slides checked have a board", drawnOn)
	}
	var present []string
	teachers := 0
	for i, id := range participants {
		pt := st.Participants[id]
		isTeacher := pt != nil && pt.Role == domain.RoleTeacher
		if got.CanDraw[i] != st.CanDraw(id) || got.IsTeacher[i] != isTeacher {
			t.Errorf("participant %q: the page says canDraw %v, isTeacher %v; Go %v, %v", id, got.CanDraw[i],
				got.IsTeacher[i], st.CanDraw(id), isTeacher)
		}
		if pt != nil && pt.Present {
			present = append(present, id)
			if isTeacher {
				teachers++
			}
		}
	}
	for i, id := range got.Present {
		if (i < teachers) != (st.Participants[id].Role == domain.RoleTeacher) {
			t.Errorf("present %q is not in its place: teachers come first: %q", id, got.Present)
		}
	}
	slices.Sort(present)
	gotPresent := slices.Sorted(slices.Values(got.Present))
	if !slices.Equal(gotPresent, present) {
		t.Errorf("present: the page has %q, Go %q", gotPresent, present)
	}
}

// TestStateEncodingInBrowser holds snapshot.js's number and string encoders and
// its key order to encoding/json on values events cannot carry (|x| ≥ 1e21,
// lone surrogates) as well as on those they can.
func TestStateEncodingInBrowser(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	floats := []float64{0, math.Copysign(0, -1), 0.1, 0.2, 0.30000000000000004, 1e-7, -1e-7, 1e-6, 1e-5,
		math.Nextafter(1e-6, 0), math.Nextafter(1e-6, 1), 1e20, 1e21, -1e21, math.Nextafter(1e21, 0),
		math.Nextafter(1e21, math.Inf(1)), 123456789.125, 5e-324, -5e-324, math.MaxFloat64, -math.MaxFloat64,
		2.2250738585072014e-308, 1e100, 1.5e-300, 1 << 53, 1<<53 + 2, 1e15, 1e16, 1.7e308, 100, 1.0 / 3, 2.0 / 3}
	for len(floats) < 20000 {
		var f float64
		switch rng.IntN(3) {
		case 0:
			f = math.Float64frombits(rng.Uint64())
		case 1:
			f = float64(rng.Int64N(1e15)) * math.Pow10(rng.IntN(60)-30)
		default:
			f = (rng.Float64() - 0.5) * math.Pow10(rng.IntN(50)-25)
		}
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			floats = append(floats, f)
		}
	}
	pieces := []string{"a", "Z", "<", ">", "&", "\u2028", "\u2029", "\"", "\\", "\b", "\f", "\n", "\r", "\t",
		"\x00", "\x01", "\x1f", "\x7f", "é", "日本", "😀", "\U0010ffff", "\ufffd", "\uff21", "\ue000", "\u00a0",
		"</script>", "\u200b", "ﬁ", " "}
	var strs []string
	for range 3000 {
		var s strings.Builder
		for range rng.IntN(6) {
			s.WriteString(pieces[rng.IntN(len(pieces))])
		}
		strs = append(strs, s.String())
	}
	keys := slices.Clone(strs)
	body, err := json.Marshal(map[string]any{"floats": floats, "strings": strs, "keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	// Lone surrogates, which encoding/json never writes, reach a browser
	// only as escapes; Go reads them as U+FFFD.
	body = bytes.Replace(body, []byte(`"strings":[`), []byte(`"strings":["\ud800","a\udc00b","\ud83d","x\ude00\ud83d\ude00",`), 1)
	var in struct{ Strings []string }
	if err := json.Unmarshal(body, &in); err != nil {
		t.Fatal(err)
	}
	wantFloats, _ := json.Marshal(floats)
	wantStrings, _ := json.Marshal(in.Strings)
	slices.Sort(keys)
	wantSorted, _ := json.Marshal(keys)

	site := stateSite(t, map[string][]byte{"/data/encode.json": body})
	ctx := statePage(t, site)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[struct{ Floats, Strings, Sorted string }](
		`encode("/data/encode.json")`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what      string
		got, want string
	}{{"floats", got.Floats, string(wantFloats)}, {"strings", got.Strings, string(wantStrings)},
		{"sorted keys", got.Sorted, string(wantSorted)}} {
		if c.got != c.want {
			t.Errorf("%s differ:\n%s", c.what, firstDifference([]byte(c.got), []byte(c.want)))
		}
	}
}

// lessonGen plays a random lesson the way a server does: commands go through
// domain.Decide and the events it returns are stored and applied. A few
// refused commands are stored anyway (when their payload is valid) so that
// the fold's handling of senseless events is compared too.
type lessonGen struct {
	t        *testing.T
	rng      *rand.Rand
	st       *domain.State
	log      []domain.Event
	now      time.Time
	roles    map[string]domain.Role
	actors   []string
	strokes  []openStroke
	kinds    map[domain.Kind]int // accepted by Decide
	refused  int
	injected int
}

type openStroke struct {
	id    uuid.UUID
	slide domain.Slide
	owner string
	part  int
}

// Participants: map keys that sort differently by UTF-16 and by UTF-8
// ("😀zed" and "Ａlfred"), and ids that need escaping.
var (
	genTeachers = []string{"teacher", "co-teacher"}
	genStudents = []string{"ann", "bob", "Émile", "😀zed", "\uff21lfred", "zoë<&>", "line\u2028sep", "q\"uote"}
)

func newLessonGen(t *testing.T, seed uint64) *lessonGen {
	g := &lessonGen{t: t, rng: rand.New(rand.NewPCG(seed, 2)), st: domain.NewState(),
		now: time.Date(2026, 11, 25, 19, 15, 41, 656353000, time.UTC), roles: map[string]domain.Role{"": domain.RoleSystem},
		kinds: map[domain.Kind]int{}}
	for _, a := range genTeachers {
		g.roles[a] = domain.RoleTeacher
		g.actors = append(g.actors, a)
	}
	for _, a := range genStudents {
		g.roles[a] = domain.RoleStudent
		g.actors = append(g.actors, a)
	}
	return g
}

func (g *lessonGen) id() uuid.UUID {
	var u uuid.UUID
	for i := range u {
		u[i] = byte(g.rng.Uint32())
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// tick moves the clock: whole seconds, milliseconds or microseconds, so that
// the times' fractions have every length.
func (g *lessonGen) tick() {
	switch g.rng.IntN(3) {
	case 0:
		g.now = g.now.Add(time.Duration(1+g.rng.IntN(3)) * time.Second).Truncate(time.Second)
	case 1:
		g.now = g.now.Add(time.Duration(g.rng.IntN(2000)) * time.Millisecond)
	default:
		g.now = g.now.Add(time.Duration(g.rng.IntN(2000000)) * time.Microsecond)
	}
}

func (g *lessonGen) store(e domain.Event) {
	e.Seq = int64(len(g.log)) + 1
	g.st.Apply(e)
	g.log = append(g.log, e)
}

// do sends a command; it reports whether Decide accepted it.
func (g *lessonGen) do(actor string, p domain.Payload) bool {
	g.tick()
	cmd := domain.Command{ID: g.id(), Actor: actor, Role: g.roles[actor], Payload: p}
	e, err := domain.Decide(g.st, cmd, g.now)
	if err == nil {
		g.store(e)
		g.kinds[p.Kind()]++
		return true
	}
	g.refused++
	if g.rng.IntN(25) == 0 {
		e := domain.Event{ID: cmd.ID, Lesson: g.st.Lesson, Version: domain.EventVersion, Actor: actor,
			Role: cmd.Role, Time: g.now.Truncate(time.Microsecond), Payload: p}
		if e.Validate() == nil {
			g.store(e)
			g.injected++
		}
	}
	return false
}

// play writes the whole lesson: random commands around scripted passages
// that take undo past its depth, a stroke past its length and the chat past
// what the state keeps, then the end of the lesson and what comes after.
func (g *lessonGen) play() {
	t := g.t
	created, err := domain.NewLesson(g.id(), g.id(), "Fractions <week 3> & more \u2028 😀", g.now)
	if err != nil {
		t.Fatal(err)
	}
	g.store(created)
	for _, a := range g.actors {
		g.do(a, &domain.ParticipantJoined{Name: g.text(6)})
	}
	g.do("teacher", &domain.LessonStarted{})
	g.do("teacher", &domain.DrawingPermitted{Allowed: true})
	g.random(4000)

	// Undo and redo beyond the depth kept.
	g.joinAll()
	deep := domain.Slide{Page: 7}
	for range domain.MaxUndoDepth + 30 {
		g.do("teacher", g.stroke(deep, g.id(), 0, 1+g.rng.IntN(5)))
	}
	g.do("teacher", &domain.DrawingPermitted{Participant: "ann", Allowed: true})
	for range domain.MaxUndoDepth + 10 {
		g.do("ann", &domain.TextAdded{Object: g.id(), Slide: deep, At: [2]float64{g.coord(), g.coord()},
			Text: g.text(10), Color: "#00000080", Size: g.width()})
	}
	if h := g.st.Board(deep).History["teacher"]; len(h.Undo) != domain.MaxUndoDepth {
		t.Fatalf("the teacher's undo stack holds %d actions, not %d", len(h.Undo), domain.MaxUndoDepth)
	}
	g.do("teacher", &domain.BoardCleared{Slide: deep})
	undone := 0
	for range domain.MaxUndoDepth + 5 {
		if g.do("teacher", &domain.BoardUndone{Slide: deep}) {
			undone++
		}
	}
	if undone != domain.MaxUndoDepth {
		t.Fatalf("%d undos went through, not %d", undone, domain.MaxUndoDepth)
	}
	for range domain.MaxUndoDepth + 3 {
		g.do("teacher", &domain.BoardRedone{Slide: deep})
	}
	for range 30 {
		g.do("teacher", &domain.BoardUndone{Slide: deep})
		g.do("ann", &domain.BoardUndone{Slide: deep})
	}
	g.do("teacher", g.stroke(deep, g.id(), 0, 3)) // forgets the redo stack
	for range 5 {
		g.do("teacher", &domain.BoardRedone{Slide: deep})
		g.do("ann", &domain.BoardRedone{Slide: deep})
	}

	// A stroke one part longer than a stroke may be, in parts of 500
	// points (a whole event stays under 64 KiB).
	g.joinAll()
	long := g.id()
	for part := range domain.MaxObjectPoints/500 + 1 {
		g.do("teacher", g.stroke(domain.Slide{Page: 9}, long, part, 500))
	}

	// More chat than the state keeps.
	g.joinAll()
	for n := 0; n < domain.MaxChatMessagesKept+50; {
		if g.do(g.someone(), &domain.ChatPosted{Text: g.text(30)}) {
			n++
		}
	}
	g.random(4000)

	g.controls()
	g.polls()
	g.groups()
	g.joinAll()
	g.do("teacher", &domain.LessonEnded{})
	g.random(200) // refused but for leaving; some stored anyway

	for _, k := range []domain.Kind{domain.KindLessonStarted, domain.KindLessonEnded, domain.KindParticipantJoined,
		domain.KindParticipantLeft, domain.KindDrawingPermitted, domain.KindStrokeDrawn, domain.KindShapeAdded,
		domain.KindTextAdded, domain.KindObjectsErased, domain.KindBoardUndone, domain.KindBoardRedone,
		domain.KindBoardCleared, domain.KindDeckAdded, domain.KindSlideChanged, domain.KindHandRaised,
		domain.KindHandLowered, domain.KindFloorGranted, domain.KindFloorRevoked, domain.KindChatPosted,
		domain.KindRecordingStarted, domain.KindRecordingStopped, domain.KindLobbyChanged, domain.KindLessonLocked,
		domain.KindParticipantWaiting, domain.KindParticipantAdmitted, domain.KindParticipantDenied,
		domain.KindParticipantRemoved, domain.KindMediaMuted, domain.KindMediaUnmuted, domain.KindUnmuteAsked,
		domain.KindChatPermitted, domain.KindPollAsked, domain.KindPollAnswered, domain.KindPollClosed,
		domain.KindPollResultsShown, domain.KindGroupsFormed, domain.KindGroupJoined, domain.KindGroupLeft,
		domain.KindGroupsMessaged, domain.KindGroupsRecalled, domain.KindGroupsEnded, domain.KindGroupBoardShown,
		domain.KindGroupChatPosted} {
		if g.kinds[k] == 0 {
			t.Fatalf("the lesson has no accepted %s: the generator does not cover it", k)
		}
	}
	if len(g.st.Chat) != domain.MaxChatMessagesKept {
		t.Fatalf("the state keeps %d chat messages", len(g.st.Chat))
	}
}

// newcomer is a student who is not one of the lesson's regulars: one who
// waits in the lobby, is admitted or denied, and may be removed.
func (g *lessonGen) newcomer() string {
	id := fmt.Sprintf("new-%d", g.rng.IntN(40))
	if g.rng.IntN(4) == 0 {
		id = "Ωnew\u2028" + id
	}
	g.roles[id] = domain.RoleStudent
	return id
}

// control sends one of the teacher's controls (lobby, lock, removal, mute,
// chat), or a student's part in them, mostly sensible ones.
func (g *lessonGen) control(actor, teacher, student string) {
	waiting := func() string {
		if len(g.st.Waiting) > 0 && g.rng.IntN(4) != 0 {
			return g.st.Waiting[g.rng.IntN(len(g.st.Waiting))].ID
		}
		return g.newcomer()
	}
	audio := g.rng.IntN(2) == 0
	video := !audio || g.rng.IntN(2) == 0
	switch g.rng.IntN(11) {
	case 0:
		g.do(teacher, &domain.LobbyChanged{On: g.rng.IntN(3) != 0})
	case 1:
		g.do(teacher, &domain.LessonLocked{Locked: g.rng.IntN(3) == 0})
	case 2:
		g.do(g.newcomer(), &domain.ParticipantWaiting{Name: g.text(6)})
	case 3:
		who := waiting()
		if g.rng.IntN(3) == 0 {
			who = ""
		}
		g.do(teacher, &domain.ParticipantAdmitted{Participant: who})
	case 4:
		g.do(teacher, &domain.ParticipantDenied{Participant: waiting()})
	case 5:
		g.do(waiting(), &domain.ParticipantJoined{Name: g.text(6)})
	case 6:
		g.do(teacher, &domain.ParticipantRemoved{Participant: g.newcomer(), KeepOpen: g.rng.IntN(2) == 0})
	case 7:
		who := student
		if g.rng.IntN(3) == 0 {
			who = ""
		}
		g.do(teacher, &domain.MediaMuted{Participant: who, Audio: audio, Video: video})
	case 8:
		g.do(actor, &domain.MediaUnmuted{Audio: audio, Video: video})
	case 9:
		g.do(teacher, &domain.UnmuteAsked{Participant: student})
	default:
		g.do(teacher, &domain.ChatPermitted{Allowed: g.rng.IntN(3) != 0})
	}
}

// group sends one step of breakout groups, mostly sensible ones.
func (g *lessonGen) group(actor, teacher, student string) {
	b := g.st.Breakout
	open := b != nil && b.Open
	some := func() uuid.UUID {
		if b == nil || g.rng.IntN(8) == 0 {
			return g.id()
		}
		return b.Groups[g.rng.IntN(len(b.Groups))].ID
	}
	switch r := g.rng.IntN(10); {
	case !open && r < 4 || r == 0:
		var present []string
		for _, s := range genStudents {
			if p := g.st.Participants[s]; p != nil && p.Present {
				present = append(present, s)
			}
		}
		if g.rng.IntN(6) == 0 {
			present = append(present, "nobody")
		}
		n := 1 + g.rng.IntN(3)
		f := &domain.GroupsFormed{Choose: g.rng.IntN(3) == 0, Blank: g.rng.IntN(2) == 0, Seconds: g.rng.IntN(2) * 600}
		for i := range n {
			f.Groups = append(f.Groups, domain.GroupPlan{ID: g.id(), Name: g.text(1 + g.rng.IntN(8))})
			for j := i; j < len(present) && !f.Choose; j += n {
				f.Groups[i].Members = append(f.Groups[i].Members, present[j])
			}
		}
		g.do(teacher, f)
	case r < 6:
		who := ""
		switch g.rng.IntN(3) {
		case 0:
			who = student
		case 1:
			actor = student
		}
		g.do(actor, &domain.GroupJoined{Group: some(), Participant: who})
	case r == 6 && g.rng.IntN(2) == 0:
		g.do(teacher, &domain.GroupLeft{})
	case r == 6:
		g.do(actor, &domain.GroupChatPosted{Group: some(), Text: g.text(1 + g.rng.IntN(20))})
	case r == 7:
		if g.rng.IntN(2) == 0 {
			g.do(teacher, &domain.GroupsMessaged{Text: g.text(1 + g.rng.IntN(20))})
		} else {
			g.do(teacher, &domain.GroupsRecalled{Seconds: g.rng.IntN(61)})
		}
	case r == 8:
		g.do(teacher, &domain.GroupsEnded{})
	default:
		shown := some()
		if g.rng.IntN(4) == 0 {
			shown = uuid.Nil
		}
		g.do(teacher, &domain.GroupBoardShown{Group: shown})
	}
}

// groups plays breakout groups through: formed, a student moved, the
// teacher visiting, strokes on a group's board, a message, a call back, the
// end, and a group's board shown, so that every kind is accepted at least
// once whatever the random part did.
func (g *lessonGen) groups() {
	g.joinAll()
	if b := g.st.Breakout; b != nil && b.Open {
		g.do("teacher", &domain.GroupsEnded{})
	}
	one, two := g.id(), g.id()
	for _, c := range []struct {
		actor string
		p     domain.Payload
	}{
		{"teacher", &domain.GroupsFormed{Groups: []domain.GroupPlan{{ID: one, Name: "Group <1>", Members: []string{"ann", "bob"}},
			{ID: two, Name: "Group 2", Members: []string{"Émile"}}}, Seconds: 900}},
		{"teacher", &domain.GroupJoined{Group: two, Participant: "bob"}},
		{"teacher", &domain.GroupJoined{Group: one}},
		{"ann", g.stroke(domain.GroupBoard(one), g.id(), 0, 5)},
		{"ann", &domain.GroupChatPosted{Group: one, Text: "I draw \"the\" axes \u2028 ok?"}},
		{"Émile", &domain.GroupChatPosted{Group: two, Text: "Émile here"}},
		{"teacher", &domain.GroupChatPosted{Group: one, Text: "Good start"}},
		{"teacher", g.stroke(domain.GroupBoard(one), g.id(), 0, 3)},
		{"teacher", &domain.GroupLeft{}},
		{"teacher", &domain.GroupsMessaged{Text: "Five minutes \u2028 left"}},
		{"teacher", &domain.GroupsRecalled{Seconds: 30}},
		{"teacher", &domain.GroupsEnded{}},
		{"teacher", &domain.GroupBoardShown{Group: one}},
		{"teacher", &domain.GroupsFormed{Groups: []domain.GroupPlan{{ID: g.id(), Name: "Pick"}, {ID: g.id(), Name: "Me"}}, Choose: true, Blank: true}},
	} {
		if !g.do(c.actor, c.p) {
			g.t.Fatalf("%s by %s was refused", c.p.Kind(), c.actor)
		}
	}
	g.do("ann", &domain.GroupJoined{Group: g.st.Breakout.Groups[1].ID})
}

// polls plays a quiz and a free-text question through, so that every poll
// kind is accepted at least once whatever the random part did.
func (g *lessonGen) polls() {
	g.joinAll()
	for _, q := range g.st.Polls {
		if q.Open {
			g.do("teacher", &domain.PollClosed{Poll: q.ID})
		}
	}
	quiz, text := g.id(), g.id()
	for _, c := range []struct {
		actor string
		p     domain.Payload
	}{
		{"teacher", &domain.PollAsked{Poll: quiz, Question: "½ + ¼ = <?>", Choices: []string{"¾", "⅔", "1"},
			Correct: []int{0}, Anonymous: true}},
		{"ann", &domain.PollAnswered{Poll: quiz, Choices: []int{1}, Anonymous: true}},
		{"bob", &domain.PollAnswered{Poll: quiz, Choices: []int{0}, Anonymous: true}},
		{"ann", &domain.PollAnswered{Poll: quiz, Choices: []int{0}, Anonymous: true}},
		{"teacher", &domain.PollClosed{Poll: quiz}},
		{"teacher", &domain.PollResultsShown{Poll: quiz, Counts: []int{2, 0, 0}}},
		{"teacher", &domain.PollAsked{Poll: text, Question: "Why?"}},
		{"bob", &domain.PollAnswered{Poll: text, Text: "Because \u2028 😀"}},
		{"teacher", &domain.PollClosed{Poll: text}},
	} {
		if !g.do(c.actor, c.p) {
			g.t.Fatalf("%s by %s was refused", c.p.Kind(), c.actor)
		}
	}
}

// poll sends one step of a poll (ask, answer, close, show the results),
// mostly sensible ones.
func (g *lessonGen) poll(actor, teacher, student string) {
	var open, last *domain.Poll
	for _, q := range g.st.Polls {
		last = q
		if q.Open {
			open = q
		}
	}
	pick := func(q *domain.Poll) *domain.PollAnswered {
		a := &domain.PollAnswered{Poll: q.ID, Anonymous: q.Anonymous != (g.rng.IntN(20) == 0)}
		n := len(q.Choices)
		if n == 0 {
			a.Text = g.text(1 + g.rng.IntN(12))
			return a
		}
		for c := range n + g.rng.IntN(2) { // sometimes one past the last choice
			if g.rng.IntN(3) == 0 || (!q.Multiple && len(a.Choices) == 0 && c == n-1) {
				a.Choices = append(a.Choices, c)
				if !q.Multiple {
					break
				}
			}
		}
		return a
	}
	switch r := g.rng.IntN(8); {
	case r == 0 || open == nil && r < 3:
		if open != nil && g.rng.IntN(2) == 0 {
			g.do(teacher, &domain.PollClosed{Poll: open.ID})
		}
		q := &domain.PollAsked{Poll: g.id(), Question: g.text(3 + g.rng.IntN(20)), Anonymous: g.rng.IntN(3) == 0}
		if g.rng.IntN(4) != 0 {
			for range 2 + g.rng.IntN(domain.MaxPollChoices-1) {
				q.Choices = append(q.Choices, g.text(1+g.rng.IntN(8)))
			}
			q.Multiple = g.rng.IntN(3) == 0
			if g.rng.IntN(2) == 0 {
				q.Correct = []int{g.rng.IntN(len(q.Choices))}
				if q.Multiple && q.Correct[0]+1 < len(q.Choices) {
					q.Correct = append(q.Correct, q.Correct[0]+1)
				}
			}
		}
		g.do(teacher, q)
	case r < 6 && open != nil:
		who := student
		if g.rng.IntN(4) == 0 {
			who = actor
		}
		g.do(who, pick(open))
	case r == 6 && open != nil:
		g.do(teacher, &domain.PollClosed{Poll: open.ID})
	case last != nil:
		counts := last.Counts()
		if g.rng.IntN(6) == 0 {
			counts[0]++
		}
		g.do(teacher, &domain.PollResultsShown{Poll: last.ID, Counts: counts})
	}
}

// controls plays each of the teacher's controls once, so that every kind is
// accepted at least once whatever the random part did.
func (g *lessonGen) controls() {
	t := g.t
	g.joinAll()
	for _, c := range []struct {
		actor string
		p     domain.Payload
	}{
		{"teacher", &domain.LessonLocked{Locked: false}},
		{"teacher", &domain.LobbyChanged{On: false}},
		{"teacher", &domain.LobbyChanged{On: true}},
		// A recording, whatever the random part did (it may never have
		// started one the rules accepted).
		{"teacher", &domain.RecordingStopped{}},
		{"teacher", &domain.RecordingStarted{}},
		{"teacher", &domain.RecordingStopped{}},
		{"late-1", &domain.ParticipantWaiting{Name: "Late one"}},
		{"late-2", &domain.ParticipantWaiting{Name: "Late two"}},
		{"late-3", &domain.ParticipantWaiting{Name: "Late three"}},
		{"late-4", &domain.ParticipantWaiting{Name: "Late four"}},
		{"late-4", &domain.ParticipantLeft{}}, // gave up waiting
		{"teacher", &domain.ParticipantDenied{Participant: "late-2"}},
		{"teacher", &domain.ParticipantAdmitted{Participant: "late-3"}},
		{"teacher", &domain.ParticipantAdmitted{}},
		{"late-1", &domain.ParticipantJoined{Name: "Late one"}},
		{"teacher", &domain.LessonLocked{Locked: true}},
		{"teacher", &domain.ParticipantRemoved{Participant: "late-1"}},
		{"teacher", &domain.LessonLocked{Locked: false}},
		{"teacher", &domain.ChatPermitted{Allowed: true}},
		{"teacher", &domain.ChatPermitted{Allowed: false}},
		{"teacher", &domain.ChatPermitted{Allowed: true}},
		{"ann", &domain.MediaUnmuted{Audio: true, Video: true}},
		{"teacher", &domain.MediaMuted{Participant: "ann", Audio: true, Video: true}},
		{"teacher", &domain.UnmuteAsked{Participant: "ann"}},
		{"ann", &domain.MediaUnmuted{Audio: true, Video: true}},
		{"teacher", &domain.MediaMuted{Audio: true}},
	} {
		if c.actor != "teacher" {
			g.roles[c.actor] = domain.RoleStudent
		}
		// What the random part left switched on or muted may refuse the
		// steps that take it back, which come first.
		if !g.do(c.actor, c.p) {
			switch c.p.(type) {
			case *domain.LessonLocked, *domain.LobbyChanged, *domain.ChatPermitted, *domain.MediaUnmuted, *domain.RecordingStopped:
			default:
				t.Fatalf("%s by %s was refused", c.p.Kind(), c.actor)
			}
		}
	}
}

// joinAll brings every participant (back) into the lesson.
func (g *lessonGen) joinAll() {
	for _, a := range g.actors {
		if p := g.st.Participants[a]; p == nil || !p.Present {
			g.do(a, &domain.ParticipantJoined{Name: g.text(6)})
		}
	}
}

// random sends n random commands, mostly sensible ones.
func (g *lessonGen) random(n int) {
	for range n {
		actor := g.someone()
		teacher := genTeachers[g.rng.IntN(len(genTeachers))]
		if g.rng.IntN(10) == 0 {
			teacher = actor // sometimes a student tries the teacher's commands
		}
		student := genStudents[g.rng.IntN(len(genStudents))]
		slide := g.slide()
		if g.rng.IntN(15) == 0 {
			g.control(actor, teacher, student)
			continue
		}
		if g.rng.IntN(15) == 0 {
			g.poll(actor, teacher, student)
			continue
		}
		if g.rng.IntN(15) == 0 {
			g.group(actor, teacher, student)
			continue
		}
		switch r := g.rng.IntN(100); {
		case r < 3:
			g.do(actor, &domain.ParticipantJoined{Name: g.text(6)})
		case r < 5:
			g.do(actor, &domain.ParticipantLeft{})
		case r < 6:
			g.do(teacher, &domain.LessonStarted{})
		case r < 8:
			p := &domain.DrawingPermitted{Allowed: g.rng.IntN(3) != 0}
			if g.rng.IntN(2) == 0 {
				p.Participant = student
			}
			g.do(teacher, p)
		case r < 30:
			obj := g.id()
			if g.do(actor, g.stroke(slide, obj, 0, 1+g.rng.IntN(40))) {
				g.strokes = append(g.strokes, openStroke{id: obj, slide: slide, owner: actor, part: 1})
			}
		case r < 42:
			if len(g.strokes) == 0 {
				continue
			}
			i := g.rng.IntN(len(g.strokes))
			s := &g.strokes[i]
			owner := s.owner
			if g.rng.IntN(10) == 0 {
				owner = actor // not theirs
			}
			if g.do(owner, g.stroke(s.slide, s.id, s.part, 1+g.rng.IntN(60))) {
				s.part++
			}
		case r < 48:
			p := &domain.ShapeAdded{Object: g.id(), Slide: slide, From: [2]float64{g.coord(), g.coord()},
				To: [2]float64{g.coord(), g.coord()}, Color: g.color(), Width: g.width(),
				Shape: []string{domain.ShapeLine, domain.ShapeArrow, domain.ShapeRectangle, domain.ShapeEllipse}[g.rng.IntN(4)]}
			if g.rng.IntN(2) == 0 {
				p.Fill = g.color()
			}
			if g.rng.IntN(8) == 0 {
				p.From = [2]float64{} // omitted from the object's JSON
			}
			g.do(actor, p)
		case r < 53:
			g.do(actor, &domain.TextAdded{Object: g.id(), Slide: slide, At: [2]float64{g.coord(), g.coord()},
				Text: g.text(40), Color: g.color(), Size: g.width()})
		case r < 60:
			b := g.st.Board(slide)
			if b == nil || len(b.Objects) == 0 {
				continue
			}
			p := &domain.ObjectsErased{Slide: slide}
			for range 1 + g.rng.IntN(4) {
				p.Objects = append(p.Objects, b.Objects[g.rng.IntN(len(b.Objects))].ID)
			}
			who := actor
			if g.rng.IntN(2) == 0 {
				who = b.Objects[g.rng.IntN(len(b.Objects))].Owner
			}
			g.do(who, p)
		case r < 67:
			g.do(actor, &domain.BoardUndone{Slide: slide})
		case r < 71:
			g.do(actor, &domain.BoardRedone{Slide: slide})
		case r < 72:
			g.do(teacher, &domain.BoardCleared{Slide: slide})
		case r < 73:
			g.do(teacher, &domain.DeckAdded{Deck: g.id(), Name: g.text(6), Pages: 1 + g.rng.IntN(4)})
		case r < 76:
			g.do(teacher, &domain.SlideChanged{Slide: slide})
		case r < 80:
			g.do(actor, &domain.HandRaised{})
		case r < 82:
			who := student
			if len(g.st.Hands) > 0 && g.rng.IntN(4) != 0 {
				who = g.st.Hands[g.rng.IntN(len(g.st.Hands))]
			}
			by := teacher
			if g.rng.IntN(2) == 0 {
				by = who
			}
			g.do(by, &domain.HandLowered{Participant: who})
		case r < 85:
			who := student
			if len(g.st.Hands) > 0 && g.rng.IntN(2) == 0 {
				who = g.st.Hands[0]
			}
			g.do(teacher, &domain.FloorGranted{Participant: who})
		case r < 87:
			by := teacher
			if g.rng.IntN(2) == 0 && g.st.Floor != "" {
				by = g.st.Floor
			}
			g.do(by, &domain.FloorRevoked{Participant: orElse(g.st.Floor, student)})
		case r < 95:
			g.do(actor, &domain.ChatPosted{Text: g.text(60)})
		case r < 97:
			g.do(teacher, &domain.RecordingStarted{})
		case r < 99:
			g.do(teacher, &domain.RecordingStopped{})
		default:
			g.do("", &domain.LessonCreated{Title: g.text(10)}) // refused; stored now and then
		}
	}
}

// orElse is a, or b when a is empty.
func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// someone is mostly a participant who is present.
func (g *lessonGen) someone() string {
	if g.rng.IntN(10) != 0 {
		var present []string
		for _, a := range g.actors {
			if p := g.st.Participants[a]; p != nil && p.Present {
				present = append(present, a)
			}
		}
		if len(present) > 0 {
			return present[g.rng.IntN(len(present))]
		}
	}
	return g.actors[g.rng.IntN(len(g.actors))]
}

// slide is mostly the current one, else a whiteboard page or a deck's page
// (now and then one past the deck's end).
func (g *lessonGen) slide() domain.Slide {
	switch r := g.rng.IntN(10); {
	case r < 5:
		return g.st.Slide
	case r == 8 && g.st.Breakout != nil:
		gr := g.st.Breakout.Groups[g.rng.IntN(len(g.st.Breakout.Groups))]
		return domain.Slide{Deck: gr.ID, Page: g.rng.IntN(20) / 19} // a group's board, or a page it does not have
	case r < 8 || len(g.st.Decks) == 0:
		return domain.Slide{Page: g.rng.IntN(3)}
	default:
		d := g.st.Decks[g.rng.IntN(len(g.st.Decks))]
		return domain.Slide{Deck: d.ID, Page: g.rng.IntN(d.Pages + 1)}
	}
}

func (g *lessonGen) stroke(slide domain.Slide, obj uuid.UUID, part, n int) *domain.StrokeDrawn {
	p := &domain.StrokeDrawn{Object: obj, Slide: slide, Part: part}
	if part == 0 {
		p.Tool = []string{domain.ToolPen, domain.ToolHighlighter}[g.rng.IntN(2)]
		p.Color, p.Width = g.color(), g.width()
	}
	t := int64(g.rng.IntN(1000))
	for range n {
		t += int64(g.rng.IntN(3) * g.rng.IntN(40))
		p.Points = append(p.Points, domain.Point{X: g.coord(), Y: g.coord(), T: t, Pressure: g.pressure()})
	}
	return p
}

var (
	trickyCoords = []float64{0, math.Copysign(0, -1), 0.1, 0.2, 0.30000000000000004, 1e-7, -1e-7, 1e-6, -1e-6,
		9.99e-7, 5e-324, -5e-324, 2.2250738585072014e-308, 123456.125, -123456.125, 999999.9999999999, 1e6, -1e6,
		1.0 / 3, -2.0 / 3, 100, -0.5, 1.5e-10, 1e5}
	trickyPressures = []float64{0, 1, 1e-7, 5e-324, 0.1, 1.0 / 3, 0.5, 0.9999999999999999, 1e-6, 9.999999999999999e-7}
	trickyWidths    = []float64{1e-7, 0.1, 3, 199.99999999999997, 200, 1.0 / 3, 2.5, 5e-324}
	colors          = []string{"#1e40af", "#FF0000", "#00000080", "#abcdef", "#ABCDEF12"}
	textPieces      = []string{"hi", "x", "1/2 + 1/4", "<b>bold</b>", "a & b", "\u2028", "\u2029", "Émile", "日本語",
		"😀", "\U0010ffff", "\x00\x01\x1f\x7f", `"quoted" \ back`, "\t\n\r\b\f", "\ufffd", "ﬁ", "</script>", "\u200b", " "}
)

func (g *lessonGen) coord() float64 {
	switch g.rng.IntN(6) {
	case 0:
		return trickyCoords[g.rng.IntN(len(trickyCoords))]
	case 1:
		return math.Round(g.rng.Float64()*4000 - 2000)
	case 2:
		return (g.rng.Float64()*2 - 1) * 1e6
	default:
		return g.rng.Float64()*1200 - 100
	}
}

func (g *lessonGen) pressure() float64 {
	if g.rng.IntN(3) == 0 {
		return trickyPressures[g.rng.IntN(len(trickyPressures))]
	}
	return g.rng.Float64()
}

func (g *lessonGen) width() float64 {
	if g.rng.IntN(3) == 0 {
		return trickyWidths[g.rng.IntN(len(trickyWidths))]
	}
	return math.Nextafter(g.rng.Float64()*200, 200) // above 0
}

func (g *lessonGen) color() string { return colors[g.rng.IntN(len(colors))] }

// text is 1 to n pieces (of at most 15 characters) of text that need escaping now and then.
func (g *lessonGen) text(n int) string {
	var s strings.Builder
	for range 1 + g.rng.IntN(n) {
		if g.rng.IntN(3) == 0 {
			s.WriteString(textPieces[g.rng.IntN(len(textPieces))])
		} else {
			s.WriteByte(byte('a' + g.rng.IntN(26)))
		}
	}
	return s.String()
}
