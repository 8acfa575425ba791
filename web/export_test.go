package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"classroom/domain"
	"classroom/domain/timeline"
	"classroom/domain/timeline/timelinetest"
	"classroom/eventstore"
	"classroom/lessonlog"
	"classroom/realtime/token"
)

// importLesson stores a generated lesson of n events as "classroom import"
// does, and returns its events.
func importLesson(t testing.TB, store eventstore.Store, seed uint64, n, points int) []domain.Event {
	t.Helper()
	var (
		events []domain.Event
		file   bytes.Buffer
	)
	keep := func(yield func(domain.Event, error) bool) {
		for e, err := range timelinetest.Lesson(seed, n, points) {
			if err == nil && n <= 20000 {
				events = append(events, e)
			}
			if !yield(e, err) {
				return
			}
		}
	}
	if _, err := timeline.WriteNDJSON(&file, keep); err != nil {
		t.Fatal(err)
	}
	if _, err := timeline.Import(context.Background(), bytes.NewReader(file.Bytes()), lessonlog.ImportTarget(store), timeline.Limits{}); err != nil {
		t.Fatal(err)
	}
	return events
}

func (a *api) token(lesson uuid.UUID, role domain.Role) string {
	a.t.Helper()
	tok, err := a.tokens.Issue(token.Claims{Lesson: lesson, Role: role, Participant: string(role), Expires: a.clock.Add(time.Hour)})
	if err != nil {
		a.t.Fatal(err)
	}
	return tok
}

// get sends a GET with a bearer token and returns the answer and its body.
func (a *api) get(path, bearer string) (*http.Response, []byte) {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.srv.URL+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp, b
}

func fold(events []domain.Event) *domain.State {
	s := domain.NewState()
	for _, e := range events {
		s.Apply(e)
	}
	return s
}

// TestExportHTTP downloads every format with the teacher's token.
func TestExportHTTP(t *testing.T) {
	a := newAPI(t)
	events := importLesson(t, a.store, 11, 2000, 6)
	lesson := events[0].Lesson
	final := fold(events)
	teacher := a.token(lesson, domain.RoleTeacher)
	base := "/api/lessons/" + lesson.String() + "/export?format="
	name := "fractions-week-3-" + lesson.String()[:8]
	for _, c := range []struct{ format, contentType, file string }{
		{"json", "application/json", name + ".json"},
		{"ndjson", "application/x-ndjson", name + ".ndjson"},
		{"csv", "text/csv; charset=utf-8; header=present", name + ".csv"},
		{"chapters.vtt", "text/vtt; charset=utf-8", name + ".chapters.vtt"},
		{"chat.vtt", "text/vtt; charset=utf-8", name + ".chat.vtt"},
		{"svg", "application/zip", name + ".svg.zip"},
		{"attendance.csv", "text/csv; charset=utf-8; header=present", name + ".attendance.csv"},
		{"attendance.json", "application/json", name + ".attendance.json"},
	} {
		t.Run(c.format, func(t *testing.T) {
			resp, body := a.get(base+c.format, teacher)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != c.contentType ||
				resp.Header.Get("Content-Disposition") != `attachment; filename="`+c.file+`"` {
				t.Fatalf("%d %q %q: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body)
			}
			switch c.format {
			case "json", "ndjson":
				other, err := eventstore.OpenSQLite(context.Background(), t.TempDir(), quietLog())
				if err != nil {
					t.Fatal(err)
				}
				defer other.Close()
				res, err := timeline.Import(context.Background(), bytes.NewReader(body), lessonlog.ImportTarget(other), timeline.Limits{})
				if err != nil || res.StateHash != final.Hash() {
					t.Fatalf("import of the download: %+v, %v", res, err)
				}
			case "csv":
				rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
				if err != nil || len(rows) != len(events)+1 {
					t.Fatalf("%d rows for %d events (%v)", len(rows), len(events), err)
				}
			case "attendance.csv", "attendance.json":
				// The download is the report the log gives, byte for byte.
				want := new(bytes.Buffer)
				f, _ := lessonlog.FormatOf(c.format)
				if _, err := f.Write(want, a.store.Events(context.Background(), lesson, 0)); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(body, want.Bytes()) || len(final.Participants) == 0 || bytes.Count(body, []byte("\n")) < 2 && c.format == "attendance.csv" {
					t.Fatalf("attendance: %.300s\nwant %.300s", body, want)
				}
			case "chapters.vtt", "chat.vtt":
				if !bytes.HasPrefix(body, []byte("WEBVTT\n")) || bytes.Count(body, []byte(" --> ")) < 10 {
					t.Fatalf("not WebVTT: %.300s", body)
				}
			case "svg":
				zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
				if err != nil {
					t.Fatal(err)
				}
				if len(zr.File) != len(final.Boards) {
					t.Fatalf("%d files for %d boards", len(zr.File), len(final.Boards))
				}
				for _, f := range zr.File {
					rc, err := f.Open()
					if err != nil {
						t.Fatal(err)
					}
					dec := xml.NewDecoder(rc)
					for {
						_, err := dec.Token()
						if errors.Is(err, io.EOF) {
							break
						}
						if err != nil {
							t.Fatalf("%s: %v", f.Name, err)
						}
					}
					rc.Close()
				}
			}
		})
	}
	unknown := uuid.New()
	for _, c := range []struct {
		name, path, bearer string
		status             int
	}{
		{"no token", base + "csv", "", 401},
		{"student", base + "csv", a.token(lesson, domain.RoleStudent), 403},
		{"other lesson's teacher", base + "csv", a.token(uuid.New(), domain.RoleTeacher), 401},
		{"unknown format", base + "pdf", teacher, 400},
		{"unknown lesson", "/api/lessons/" + unknown.String() + "/export?format=csv", a.token(unknown, domain.RoleTeacher), 404},
	} {
		resp, body := a.get(c.path, c.bearer)
		if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, body, c.status)
		}
	}
}

// TestStateHTTP asks for the state at sequence numbers and times.
func TestStateHTTP(t *testing.T) {
	a := newAPI(t)
	every := int64(domain.SnapshotEvery) // around a snapshot
	events := importLesson(t, a.store, 12, int(every)+500, 4)
	lesson := events[0].Lesson
	teacher := a.token(lesson, domain.RoleTeacher)
	base := "/api/lessons/" + lesson.String() + "/state?"
	var out struct {
		Seq   int64           `json:"seq"`
		State json.RawMessage `json:"state"`
	}
	for _, seq := range []int64{1, every - 1, every, every + 1, every + 345, every + 500} {
		resp, body := a.get(fmt.Sprintf("%sseq=%d", base, seq), teacher)
		if resp.StatusCode != 200 {
			t.Fatalf("seq %d: %d %s", seq, resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatal(err)
		}
		st, err := domain.RestoreSnapshot(out.State)
		if err != nil || out.Seq != seq || st.Hash() != fold(events[:seq]).Hash() {
			t.Fatalf("seq %d: answered %d, %v", seq, out.Seq, err)
		}
	}
	for _, e := range []domain.Event{events[1733], events[every]} { // events[every] just after a snapshot
		resp, body := a.get(fmt.Sprintf("%sat=%f", base, e.Time.Sub(events[0].Time).Seconds()+0.0000005), teacher)
		if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("at: %d %s", resp.StatusCode, body)
		}
		if out.Seq != e.Seq {
			t.Fatalf("at the time of %d: seq %d", e.Seq, out.Seq)
		}
	}
	for _, c := range []struct {
		query  string
		bearer string
		status int
	}{
		{"seq=0", teacher, 400}, {"seq=x", teacher, 400}, {"at=-1", teacher, 400}, {"", teacher, 400},
		{"seq=1&at=1", teacher, 400}, {fmt.Sprintf("seq=%d", every+501), teacher, 404}, {"seq=5", "", 401},
		{"seq=5", a.token(lesson, domain.RoleStudent), 403}, // the lesson runs: see TestPlaybackAccess
	} {
		if resp, body := a.get(base+c.query, c.bearer); resp.StatusCode != c.status {
			t.Errorf("%q: %d %s, want %d", c.query, resp.StatusCode, body, c.status)
		}
	}
}

// TestPlaybackAccess: everyone with a link of the lesson may play it back
// (state, log, recordings): the teacher at any time, students once it has
// ended; no one else; exporting stays the teacher's.
func TestPlaybackAccess(t *testing.T) {
	a := newAPI(t)
	events := importLesson(t, a.store, 14, 300, 4)
	lesson := events[0].Lesson
	expired, err := a.tokens.Issue(token.Claims{Lesson: lesson, Role: domain.RoleStudent, Expires: a.clock.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	a.clock = a.clock.Add(2 * time.Minute)
	base := "/api/lessons/" + lesson.String()
	// A recorded file, as the recorder leaves it (the content is not read).
	dir := filepath.Join(a.recordings, lesson.String())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "1-teacher-camera.webm"), []byte("\x1a\x45\xdf\xa3 webm"), 0o644); err != nil {
		t.Fatal(err)
	}
	paths := []string{"/state?seq=120", "/events?after=100&limit=50", "/recordings", "/recordings/1-teacher-camera.webm"}
	// While the lesson runs, only the teacher.
	for _, path := range paths {
		if resp, body := a.get(base+path, a.token(lesson, domain.RoleTeacher)); resp.StatusCode != 200 {
			t.Errorf("the teacher, %s, during the lesson: %d %s", path, resp.StatusCode, body)
		}
		if resp, body := a.get(base+path, a.token(lesson, domain.RoleStudent)); resp.StatusCode != 403 {
			t.Errorf("a student, %s, during the lesson: %d %s, want 403", path, resp.StatusCode, body)
		}
	}
	end := domain.Event{ID: uuid.New(), Lesson: lesson, Version: domain.EventVersion, Actor: "teacher",
		Role: domain.RoleTeacher, Time: events[len(events)-1].Time.Add(time.Second), Payload: &domain.LessonEnded{}}
	if _, errs, err := a.store.Append(context.Background(), end); err != nil || errs[0] != nil {
		t.Fatalf("end the lesson: %v %v", err, errs)
	}
	for _, c := range []struct {
		name, bearer string
		status       int
	}{
		{"teacher", a.token(lesson, domain.RoleTeacher), 200},
		{"student", a.token(lesson, domain.RoleStudent), 200},
		{"no token", "", 401},
		{"expired student", expired, 401},
		{"another lesson's student", a.token(uuid.New(), domain.RoleStudent), 401},
		{"garbage", "not-a-token", 401},
	} {
		for _, path := range paths {
			if resp, body := a.get(base+path, c.bearer); resp.StatusCode != c.status {
				t.Errorf("%s, %s: %d %s, want %d", c.name, path, resp.StatusCode, body, c.status)
			}
		}
	}
	resp, body := a.get(base+"/events?after=100&limit=50", a.token(lesson, domain.RoleStudent))
	var page struct {
		Events []json.RawMessage `json:"events"`
		More   bool              `json:"more"`
	}
	if err := json.Unmarshal(body, &page); err != nil || resp.StatusCode != 200 || len(page.Events) != 50 || !page.More {
		t.Fatalf("a student's page of the log: %d, %d events, more %v, %v", resp.StatusCode, len(page.Events), page.More, err)
	}
	if resp, body := a.get(base+"/export?format=csv", a.token(lesson, domain.RoleStudent)); resp.StatusCode != 403 {
		t.Errorf("a student exported the lesson: %d %s", resp.StatusCode, body)
	}
}

// testStores are SQLite and the PostgreSQL of DATABASE_URL.
func testStores(t testing.TB) map[string]eventstore.Store {
	t.Helper()
	lite, err := eventstore.OpenSQLite(context.Background(), t.TempDir(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal("DATABASE_URL is not set: run the tests through scripts/test, which starts a throwaway PostgreSQL, or point DATABASE_URL at one")
	}
	pg, err := eventstore.OpenPostgres(context.Background(), url, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	return map[string]eventstore.Store{"sqlite": lite, "postgres": pg}
}

// TestSeek seeks a stored lesson to every slide change, by sequence and by
// time, and compares with the live fold.
func TestSeek(t *testing.T) {
	for name, store := range testStores(t) {
		t.Run(name, func(t *testing.T) {
			events := importLesson(t, store, 13, 3500, 4)
			ctx := context.Background()
			live := domain.NewState()
			changes := 0
			for i, e := range events {
				live.Apply(e)
				if e.Kind() != domain.KindSlideChanged {
					continue
				}
				changes++
				s, err := lessonlog.Seek(ctx, store, e.Lesson, timeline.AtSeq(e.Seq))
				if err != nil || s.Hash() != live.Hash() {
					t.Fatalf("seq %d: differs from the live fold (%v)", e.Seq, err)
				}
				if i+1 < len(events) && events[i+1].Time.Equal(e.Time) {
					continue
				}
				s, err = lessonlog.Seek(ctx, store, e.Lesson, timeline.AtOffset(e.Time.Sub(events[0].Time)))
				if err != nil || s.Hash() != live.Hash() {
					t.Fatalf("offset of seq %d: differs from the live fold (%v)", e.Seq, err)
				}
			}
			if changes < 20 {
				t.Fatalf("only %d slide changes", changes)
			}
		})
	}
}

// BenchmarkSeek seeks a 100,000-event lesson, stored with a snapshot every
// domain.SnapshotEvery events, on both stores, against the baseline of
// folding from the start: by sequence and by time, to the middle and to
// event 99,999, the farthest from a snapshot of both intervals measured. Each op is one Seek and the encoding of the state, as the state
// call answers it.
func BenchmarkSeek(b *testing.B) {
	stores := testStores(b)
	for _, name := range []string{"sqlite", "postgres"} {
		store := stores[name]
		var (
			once sync.Once
			l    benchLesson
		)
		// Imported by the first sub-benchmark that runs, so that a filtered
		// run stores only the lesson it seeks in.
		lesson := func(b *testing.B) benchLesson {
			once.Do(func() { l = countOnly(b, store) })
			return l
		}
		for _, c := range []struct {
			name string
			seek func(l benchLesson) (*domain.State, error)
		}{
			{"seq=99999", func(l benchLesson) (*domain.State, error) {
				return lessonlog.Seek(context.Background(), store, l.lesson, timeline.AtSeq(99999))
			}},
			{"seq=50500", func(l benchLesson) (*domain.State, error) {
				return lessonlog.Seek(context.Background(), store, l.lesson, timeline.AtSeq(50500))
			}},
			{"at=mid", func(l benchLesson) (*domain.State, error) {
				return lessonlog.Seek(context.Background(), store, l.lesson, timeline.AtOffset(l.mid.Sub(l.created)))
			}},
			{"at=seq99999", func(l benchLesson) (*domain.State, error) {
				return lessonlog.Seek(context.Background(), store, l.lesson, timeline.AtOffset(l.last.Sub(l.created)))
			}},
			{"baseline-from-start/seq=99999", func(l benchLesson) (*domain.State, error) {
				return timeline.StateAt(nil, store.Events(context.Background(), l.lesson, 0), timeline.AtSeq(99999))
			}},
		} {
			b.Run(name+"/"+c.name, func(b *testing.B) {
				l := lesson(b)
				var seeking time.Duration
				for b.Loop() {
					start := time.Now()
					s, err := c.seek(l)
					if err != nil {
						b.Fatal(err)
					}
					seeking += time.Since(start)
					if _, err := s.MarshalSnapshot(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
				b.ReportMetric(float64(seeking.Milliseconds())/float64(b.N), "seek-ms/op")
			})
		}
	}
}

type benchLesson struct {
	lesson             uuid.UUID
	created, mid, last time.Time // the times of events 1, 50,500 and 99,999
}

// countOnly imports a 100,000-event lesson with strokes of 12 points a part
// and remembers only its id and three times.
func countOnly(b *testing.B, store eventstore.Store) benchLesson {
	b.Helper()
	var l benchLesson
	events := timelinetest.Lesson(42, 100000, 12)
	watch := func(yield func(domain.Event, error) bool) {
		for e, err := range events {
			if e.Seq == 1 {
				l.lesson, l.created = e.Lesson, e.Time
			}
			switch e.Seq {
			case 50500:
				l.mid = e.Time
			case 99999:
				l.last = e.Time
			}
			if !yield(e, err) {
				return
			}
		}
	}
	var file bytes.Buffer
	if _, err := timeline.WriteNDJSON(&file, iter.Seq2[domain.Event, error](watch)); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := timeline.Import(context.Background(), bytes.NewReader(file.Bytes()), lessonlog.ImportTarget(store), timeline.Limits{}); err != nil {
		b.Fatal(err)
	}
	snap, err := store.LatestSnapshot(context.Background(), l.lesson, 99999)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("imported %d bytes of NDJSON in %v; the snapshot at %d is %d bytes", file.Len(), time.Since(start), snap.Seq, len(snap.State))
	return l
}

// TestSVGInChromium renders an exported board in headless Chromium: the
// pixels under a red stroke are red and those beside it white.
func TestSVGInChromium(t *testing.T) {
	lesson, now := uuid.New(), time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	created, err := domain.NewLesson(lesson, uuid.New(), "Render", now)
	if err != nil {
		t.Fatal(err)
	}
	created.Seq = 1
	s := fold([]domain.Event{created})
	var events []domain.Event
	events = append(events, created)
	for _, c := range []domain.Command{
		{Actor: "teacher", Role: domain.RoleTeacher, Payload: &domain.ParticipantJoined{Name: "Ms Rivera"}},
		{Actor: "teacher", Role: domain.RoleTeacher, Payload: &domain.StrokeDrawn{Object: uuid.New(), Tool: domain.ToolPen,
			Color: "#ff0000", Width: 20, Points: domain.Points{{X: 200, Y: 300, Pressure: 0.5}, {X: 400, Y: 305, T: 16, Pressure: 0.5}, {X: 600, Y: 300, T: 32, Pressure: 0.5}}}},
	} {
		c.ID = uuid.New()
		e, err := domain.Decide(s, c, now)
		if err != nil {
			t.Fatal(err)
		}
		e.Seq = s.Seq + 1
		s.Apply(e)
		events = append(events, e)
	}
	var svg bytes.Buffer
	if _, err := timeline.WriteSVG(func(yield func(domain.Event, error) bool) {
		for _, e := range events {
			if !yield(e, nil) {
				return
			}
		}
	}, func(timeline.SlideBoard) (io.Writer, error) { return &svg, nil }); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/board.svg" {
			w.Header().Set("Content-Type", "image/svg+xml")
			w.Write(svg.Bytes())
			return
		}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!doctype html><canvas id="c" width="1600" height="900"></canvas>`)
	}))
	defer srv.Close()
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	pixels, err := chromedp.Run(ctx, chromedp.Evaluate[[][]int](`new Promise((resolve, reject) => {
		const img = new Image();
		img.onload = () => {
			const g = document.getElementById("c").getContext("2d");
			g.drawImage(img, 0, 0, 1600, 900);
			resolve([[400, 303], [300, 301], [400, 200]].map(([x, y]) => Array.from(g.getImageData(x, y, 1, 1).data)));
		};
		img.onerror = () => reject(new Error("the SVG did not load"));
		img.src = "/board.svg";
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]int{{255, 0, 0, 255}, {255, 0, 0, 255}, {255, 255, 255, 255}} {
		if fmt.Sprint(pixels[i]) != fmt.Sprint(want) {
			t.Fatalf("pixel %d is %v, want %v\n%s", i, pixels[i], want, svg.String())
		}
	}
}
