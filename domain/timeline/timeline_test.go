package timeline_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/domain/timeline"
	"classroom/domain/timeline/timelinetest"
	"classroom/eventstore"
	"classroom/lessonlog"
)

type writeFunc func(io.Writer, func(func(domain.Event, error) bool)) (int64, error)

var logFormats = []struct {
	name  string
	write func(io.Writer, []domain.Event) (int64, error)
}{
	{"json", func(w io.Writer, ev []domain.Event) (int64, error) { return timeline.WriteJSON(w, fromSlice(ev)) }},
	{"ndjson", func(w io.Writer, ev []domain.Event) (int64, error) { return timeline.WriteNDJSON(w, fromSlice(ev)) }},
}

func export(t testing.TB, format int, events []domain.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := logFormats[format].write(&buf, events)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(events)) {
		t.Fatalf("wrote %d events, want %d", n, len(events))
	}
	return buf.Bytes()
}

func appendAll(t testing.TB, s eventstore.Store, events []domain.Event) {
	t.Helper()
	for i := 0; i < len(events); i += 500 {
		batch := events[i:min(i+500, len(events))]
		seqs, errs, err := s.Append(context.Background(), batch...)
		if err != nil {
			t.Fatal(err)
		}
		for j := range batch {
			if errs[j] != nil || seqs[j] != batch[j].Seq {
				t.Fatalf("append event %d: seq %d, %v", batch[j].Seq, seqs[j], errs[j])
			}
		}
	}
}

func readStore(t testing.TB, s eventstore.Store, e domain.Event) []domain.Event {
	t.Helper()
	return collect(t, s.Events(context.Background(), e.Lesson, 0))
}

// TestRoundTrip stores a lesson in one store, exports it from there in each
// format and imports it into the other: the events come back with their ids,
// times and sequence numbers, the state hash is the live fold's, and
// snapshots are kept every domain.SnapshotEvery events and at the end.
func TestRoundTrip(t *testing.T) {
	for i, from := range stores {
		to := stores[1-i]
		for f, format := range logFormats {
			t.Run(from.name+"-to-"+to.name+"/"+format.name, func(t *testing.T) {
				n := domain.SnapshotEvery + 500
				events := collect(t, generate(1, n, 8)) // a new lesson id
				want := fold(events).Hash()
				src, dst := from.open(t), to.open(t)
				appendAll(t, src, events)
				file := export(t, f, readStore(t, src, events[0]))
				res, err := timeline.Import(context.Background(), bytes.NewReader(file), lessonlog.ImportTarget(dst), timeline.Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if res.StateHash != want || res.Events != int64(n) || res.LastSeq != int64(n) || res.Lesson != events[0].Lesson.String() {
					t.Fatalf("import result %+v, want hash %s", res, want)
				}
				back := readStore(t, dst, events[0])
				if got := fold(back).Hash(); got != want {
					t.Fatalf("imported lesson folds to %s, want %s", got, want)
				}
				for i, e := range back {
					o := events[i]
					if e.ID != o.ID || e.Seq != o.Seq || !e.Time.Equal(o.Time) || e.Actor != o.Actor || e.Role != o.Role {
						t.Fatalf("event %d came back as %+v, was %+v", i+1, e, o)
					}
				}
				for _, seq := range []int64{domain.SnapshotEvery, int64(n)} {
					snap, err := dst.LatestSnapshot(context.Background(), events[0].Lesson, seq)
					if err != nil || snap.Seq != seq {
						t.Fatalf("snapshot at %d: %d, %v", seq, snap.Seq, err)
					}
					st, err := domain.RestoreSnapshot(snap.State)
					if err != nil || st.Hash() != fold(events[:seq]).Hash() {
						t.Fatalf("snapshot at %d differs from the fold (%v)", seq, err)
					}
				}
				// The same file again: a conflict, and nothing changes.
				_, err = timeline.Import(context.Background(), bytes.NewReader(file), lessonlog.ImportTarget(dst), timeline.Limits{})
				if domain.ErrorCode(err) != domain.CodeConflict {
					t.Fatalf("importing an existing lesson: %v, want conflict", err)
				}
				if l, _ := dst.Lesson(context.Background(), events[0].Lesson); l.LastSeq != int64(n) {
					t.Fatalf("the lesson has %d events after a refused import", l.LastSeq)
				}
			})
		}
	}
}

// TestImportRefuses feeds broken files: each is refused with a clear error
// and leaves the store without the lesson.
func TestImportRefuses(t *testing.T) {
	events := collect(t, generate(2, 300, 4))
	jsonFile, ndjson := export(t, 0, events), export(t, 1, events)
	lines := strings.SplitAfter(string(ndjson), "\n")
	edit := func(file []byte, old, new string) []byte {
		t.Helper()
		if !bytes.Contains(file, []byte(old)) {
			t.Fatalf("%q is not in the file", old)
		}
		return bytes.Replace(file, []byte(old), []byte(new), 1)
	}
	// A chat message changed in place: still a valid event.
	var chatLine int
	for i, e := range events {
		if e.Kind() == domain.KindChatPosted {
			chatLine = i + 1
			break
		}
	}
	tampered := append([]string(nil), lines...)
	tampered[chatLine] = strings.Replace(tampered[chatLine], `"text":"`, `"text":"Edited: `, 1)
	dup := append([]string(nil), lines[:11]...)
	dup = append(dup, lines[10:]...)
	swapped := append([]string(nil), lines...)
	swapped[5], swapped[6] = swapped[6], swapped[5]
	gap := append(append([]string(nil), lines[:5]...), lines[6:]...)
	huge := append([]string(nil), lines...)
	huge[7] = `{"v":1,"pad":"` + strings.Repeat("x", 300<<10) + `"}` + "\n"

	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"not json", []byte("WEBVTT\n"), "malformed JSON"},
		{"wrong format", edit(ndjson, `"format":"classroom-lesson"`, `"format":"other"`), `format "other"`},
		{"wrong version", edit(jsonFile, `"version":1`, `"version":2`), "version 2 is not supported"},
		{"truncated json", jsonFile[:len(jsonFile)/2], "truncated"},
		{"truncated ndjson mid-line", ndjson[:len(ndjson)/2], "truncated"},
		{"truncated ndjson at a line", []byte(strings.Join(lines[:100], "")), "truncated"},
		{"json without its end", []byte(strings.TrimSuffix(string(jsonFile), "\n")[:bytes.LastIndex(jsonFile, []byte(`],"end"`))]), "truncated"},
		{"tampered event", []byte(strings.Join(tampered, "")), "an event was changed"},
		{"invalid event", edit(ndjson, `"width":`, `"width":900`), "malformed"},
		{"duplicate seq", []byte(strings.Join(dup, "")), "out of order or repeated"},
		{"out of order", []byte(strings.Join(swapped, "")), "out of order"},
		{"gap", []byte(strings.Join(gap, "")), "gap"},
		{"oversized line", []byte(strings.Join(huge, "")), "larger than"},
		{"unknown header field", edit(ndjson, `"version":1`, `"version":1,"x":2`), "unknown field"},
		{"trailing data", append(bytes.Clone(ndjson), "{}\n"...), "goes on after its end"},
	}
	for _, store := range stores {
		s := store.open(t)
		for _, c := range cases {
			t.Run(store.name+"/"+c.name, func(t *testing.T) {
				_, err := timeline.Import(context.Background(), bytes.NewReader(c.file), lessonlog.ImportTarget(s), timeline.Limits{})
				if domain.ErrorCode(err) != domain.CodeInvalid || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v, want invalid with %q", err, c.want)
				}
				if _, err := s.Lesson(context.Background(), events[0].Lesson); domain.ErrorCode(err) != domain.CodeNotFound {
					t.Fatalf("a refused import left the lesson behind: %v", err)
				}
			})
		}
	}
	t.Run("limits", func(t *testing.T) {
		_, err := timeline.Import(context.Background(), bytes.NewReader(ndjson), lessonlog.ImportTarget(stores[0].open(t)), timeline.Limits{MaxEvents: 100})
		if err == nil || !strings.Contains(err.Error(), "more than 100 events") {
			t.Fatalf("too many events: %v", err)
		}
		_, err = timeline.Import(context.Background(), bytes.NewReader(ndjson), lessonlog.ImportTarget(stores[0].open(t)), timeline.Limits{MaxBytes: 10000})
		if err == nil || !strings.Contains(err.Error(), "larger than 10000 bytes") {
			t.Fatalf("too many bytes: %v", err)
		}
	})
}

// TestCSV checks one row per event, the columns, and words for people.
func TestCSV(t *testing.T) {
	events := collect(t, generate(3, 3000, 4))
	var buf bytes.Buffer
	if _, err := timeline.WriteCSV(&buf, fromSlice(events)); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(events)+1 {
		t.Fatalf("%d rows for %d events", len(rows), len(events))
	}
	if got := strings.Join(rows[0], ","); got != "offset,time,seq,actor,actor_name,role,kind,summary" {
		t.Fatalf("header %s", got)
	}
	offset := regexp.MustCompile(`^\d+:[0-5]\d:[0-5]\d\.\d{3}$`)
	seen := map[string]bool{}
	for i, row := range rows[1:] {
		e := events[i]
		if !offset.MatchString(row[0]) || row[2] != fmt.Sprint(e.Seq) || row[6] != string(e.Kind()) || row[3] != e.Actor {
			t.Fatalf("row %d: %q for %+v", i+1, row, e)
		}
		tm, err := time.Parse(time.RFC3339Nano, row[1])
		if err != nil || !tm.Equal(e.Time) {
			t.Fatalf("row %d: time %q (%v)", i+1, row[1], err)
		}
		d := e.Time.Sub(events[0].Time)
		if want := fmt.Sprintf("%d:%02d:%02d.%03d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60, d.Milliseconds()%1000); row[0] != want {
			t.Fatalf("row %d: offset %q, want %q", i+1, row[0], want)
		}
		for _, c := range []string{row[4], row[7]} {
			if c != "" && strings.ContainsAny(c[:1], "=+-@") {
				t.Fatalf("row %d: cell %q could run as a formula", i+1, c)
			}
		}
		seen[row[4]+": "+row[7]] = true
	}
	for _, want := range []string{
		"Ms Rivera: added the deck 'Fractions' (12 pages)",
		"Ms Rivera: let the students draw",
		"Ana: joined as Ana (student)",
		"Ana: raised a hand",
		"'=cmd|' /C calc'!A0: '=SUM(A1:A9)",
	} {
		if !seen[want] {
			t.Errorf("no row %q", want)
		}
	}
	summaries := strings.Join(keys(seen), "\n")
	for _, pattern := range []string{
		`^Ms Rivera: drew a stroke on slide \d+ of 'Fractions'$`,
		`: drew a stroke on whiteboard page \d+$`,
		`: highlighted on `,
		`^Ms Rivera: gave the floor to (Ana|Zoë <3|Bob & Co|'=cmd.*|Mia --> Leo)$`,
		`^Ms Rivera: went to slide \d+ of 'Fractions'$`,
		`: wrote '<b>½ & "thirds"</b> --> ok line two' on `,
		`: drew an (arrow|ellipse) on `,
		`^(Ana|Zoë <3|Bob & Co|'=cmd.*|Mia --> Leo|Ms Rivera): two lines$`,
		`: erased an object on `,
	} {
		if !regexp.MustCompile(`(?m)` + pattern).MatchString(summaries) {
			t.Errorf("no row matches %s", pattern)
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// cue is one parsed WebVTT cue.
type cue struct {
	from, to time.Duration
	text     string
}

// parseVTT is a strict WebVTT reader for what these files may hold: the
// signature, NOTE blocks, and cues of a timing line and text lines, each
// block ended by an empty line. It refuses markup characters left unescaped,
// "-->" in text, an end not after its start, and anything else.
func parseVTT(t *testing.T, b []byte) []cue {
	t.Helper()
	s := string(b)
	if !strings.HasPrefix(s, "WEBVTT\n\n") || !strings.HasSuffix(s, "\n\n") {
		t.Fatalf("not a WebVTT file:\n%.200s", s)
	}
	timing := regexp.MustCompile(`^(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})$`)
	entity := regexp.MustCompile(`&(amp|lt|gt);`)
	var cues []cue
	for _, block := range strings.Split(strings.TrimSuffix(s[len("WEBVTT\n\n"):], "\n\n"), "\n\n") {
		ls := strings.Split(block, "\n")
		if ls[0] == "NOTE" || strings.HasPrefix(ls[0], "NOTE ") {
			if strings.Contains(block, "-->") {
				t.Fatalf("NOTE holds -->: %q", block)
			}
			continue
		}
		m := timing.FindStringSubmatch(ls[0])
		if m == nil || len(ls) < 2 {
			t.Fatalf("bad cue %q", block)
		}
		ts := func(h, mi, s, ms string) time.Duration {
			a, _ := strconv.Atoi(h)
			b, _ := strconv.Atoi(mi)
			c, _ := strconv.Atoi(s)
			d, _ := strconv.Atoi(ms)
			return time.Duration(a)*time.Hour + time.Duration(b)*time.Minute + time.Duration(c)*time.Second + time.Duration(d)*time.Millisecond
		}
		c := cue{from: ts(m[1], m[2], m[3], m[4]), to: ts(m[5], m[6], m[7], m[8]), text: strings.Join(ls[1:], "\n")}
		if c.to <= c.from {
			t.Fatalf("cue ends before it starts: %q", block)
		}
		if bare := entity.ReplaceAllString(c.text, ""); strings.ContainsAny(bare, "<>&") || strings.Contains(c.text, "-->") {
			t.Fatalf("cue text not escaped: %q", c.text)
		}
		cues = append(cues, c)
	}
	return cues
}

func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// TestVTT checks the chapters and the chat against the log.
func TestVTT(t *testing.T) {
	events := collect(t, generate(4, 3000, 4))
	start := events[0].Time
	var chapters, chat bytes.Buffer
	if _, err := timeline.WriteChapters(&chapters, fromSlice(events)); err != nil {
		t.Fatal(err)
	}
	if _, err := timeline.WriteChat(&chat, fromSlice(events)); err != nil {
		t.Fatal(err)
	}

	cues := parseVTT(t, chapters.Bytes())
	var changes []domain.Event
	for _, e := range events {
		if e.Kind() == domain.KindSlideChanged {
			changes = append(changes, e)
		}
	}
	if len(changes) < 10 || len(cues) != len(changes)+1 {
		t.Fatalf("%d chapters for %d slide changes", len(cues), len(changes))
	}
	if cues[0].from != 0 || cues[0].text != "Whiteboard 1" {
		t.Fatalf("first chapter %+v", cues[0])
	}
	for i, e := range changes {
		c := cues[i+1]
		sl := e.Payload.(*domain.SlideChanged).Slide
		want := fmt.Sprintf("Slide %d — Fractions", sl.Page+1)
		if sl.Deck == (domain.Slide{}).Deck {
			want = fmt.Sprintf("Whiteboard %d", sl.Page+1)
		}
		if c.text != want || c.from != e.Time.Sub(start).Truncate(time.Millisecond) || cues[i].to != c.from {
			t.Fatalf("chapter %d: %+v, want %q from %v", i+1, c, want, e.Time.Sub(start))
		}
	}

	cues = parseVTT(t, chat.Bytes())
	names := map[string]string{}
	i := 0
	for _, e := range events {
		if p, ok := e.Payload.(*domain.ParticipantJoined); ok {
			names[e.Actor] = p.Name
		}
		p, ok := e.Payload.(*domain.ChatPosted)
		if !ok {
			continue
		}
		c := cues[i]
		i++
		if want := names[e.Actor] + ": " + strings.ReplaceAll(p.Text, "\n", " "); unescape(c.text) != want {
			t.Fatalf("chat cue %q, want %q", c.text, want)
		}
		if c.from != e.Time.Sub(start).Truncate(time.Millisecond) || c.to > c.from+5*time.Second {
			t.Fatalf("chat cue %+v at %v", c, e.Time.Sub(start))
		}
	}
	if i != len(cues) || i < 100 {
		t.Fatalf("%d chat cues for %d messages", len(cues), i)
	}
}

// TestSVG checks that each board is well-formed XML with its visible objects.
func TestSVG(t *testing.T) {
	events := collect(t, generate(5, 4000, 6))
	final := fold(events)
	files := map[string]*bytes.Buffer{}
	var order []timeline.SlideBoard
	if _, err := timeline.WriteSVG(fromSlice(events), func(sb timeline.SlideBoard) (io.Writer, error) {
		order = append(order, sb)
		files[sb.Name] = &bytes.Buffer{}
		return files[sb.Name], nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(files) != len(final.Boards) || len(files) < 5 {
		t.Fatalf("%d SVGs for %d boards", len(files), len(final.Boards))
	}
	for _, sb := range order {
		b := final.Board(sb.Slide)
		counts := map[string]int{}
		dec := xml.NewDecoder(bytes.NewReader(files[sb.Name].Bytes()))
		var texts []string
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s is not well-formed: %v", sb.Name, err)
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				counts[tok.Name.Local]++
				if tok.Name.Local == "svg" {
					for _, a := range tok.Attr {
						if a.Name.Local == "viewBox" && a.Value != "0 0 1600 900" {
							t.Fatalf("viewBox %q", a.Value)
						}
					}
				}
			case xml.CharData:
				texts = append(texts, string(tok))
			}
		}
		want := map[string]int{}
		for _, o := range b.Visible() {
			switch {
			case o.Kind == domain.ObjectStroke:
				want["path"]++
			case o.Kind == domain.ObjectText:
				want["text"]++
			case o.Shape == domain.ShapeRectangle:
				want["rect"]++
			case o.Shape == domain.ShapeEllipse:
				want["ellipse"]++
			case o.Shape == domain.ShapeArrow:
				want["polygon"]++
				want["line"]++
			default:
				want["line"]++
			}
		}
		want["rect"]++ // the background
		for _, el := range []string{"path", "text", "rect", "ellipse", "line", "polygon"} {
			if counts[el] != want[el] {
				t.Fatalf("%s: %d <%s>, want %d", sb.Name, counts[el], el, want[el])
			}
		}
		if want["text"] > 0 && !strings.Contains(strings.Join(texts, ""), `<b>½ & "thirds"</b> --> ok`) {
			t.Fatalf("%s: the text did not survive escaping", sb.Name)
		}
	}
	if order[0].Name != "whiteboard-p001.svg" || !strings.HasPrefix(order[len(order)-1].Name, "deck01-fractions-p") {
		t.Fatalf("boards in order %v", order)
	}
}

// TestStateAt compares the state at every slide change with the live fold,
// from nothing and from the latest snapshot before it, by sequence and by
// time.
func TestStateAt(t *testing.T) {
	events := collect(t, generate(6, 3000, 4))
	live := domain.NewState()
	changes := 0
	snaps := map[int64][]byte{}
	for _, e := range events {
		live.Apply(e)
		if e.Seq%1000 == 0 {
			b, err := live.MarshalSnapshot()
			if err != nil {
				t.Fatal(err)
			}
			snaps[e.Seq] = b
		}
		if e.Kind() != domain.KindSlideChanged {
			continue
		}
		changes++
		want := live.Hash()
		snapSeq := e.Seq / 1000 * 1000
		var reads int64
		counting := func(after int64) func(func(domain.Event, error) bool) {
			return func(yield func(domain.Event, error) bool) {
				for _, e := range events[after:] {
					reads++
					if !yield(e, nil) {
						return
					}
				}
			}
		}
		for _, c := range []struct {
			name  string
			snap  []byte
			after int64
		}{{"no snapshot", nil, 0}, {"snapshot", snaps[snapSeq], snapSeq}} {
			if c.snap == nil && changes%3 != 0 {
				continue // from the start: every third change, to keep the test quick
			}
			reads = 0
			s, err := timeline.StateAt(c.snap, counting(c.after), timeline.AtSeq(e.Seq))
			if err != nil {
				t.Fatalf("%s at %d: %v", c.name, e.Seq, err)
			}
			if s.Hash() != want {
				t.Fatalf("%s: state at %d differs from the live fold", c.name, e.Seq)
			}
			if reads != e.Seq-c.after {
				t.Fatalf("%s at %d: read %d events, want %d", c.name, e.Seq, reads, e.Seq-c.after)
			}
			// By time: the same state, unless the next event is in the same microsecond.
			if int(e.Seq) < len(events) && events[e.Seq].Time.Equal(e.Time) {
				continue
			}
			s, err = timeline.StateAt(c.snap, counting(c.after), timeline.AtOffset(e.Time.Sub(events[0].Time)))
			if err != nil || s.Hash() != want {
				t.Fatalf("%s: state at offset of %d differs (%v)", c.name, e.Seq, err)
			}
		}
	}
	if _, err := timeline.StateAt(nil, fromSlice(events), timeline.AtSeq(int64(len(events)+1))); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("past the end: %v", err)
	}
	if _, err := timeline.StateAt(snaps[2000], fromSlice(events[2000:]), timeline.AtSeq(1500)); domain.ErrorCode(err) != domain.CodeInvalid {
		t.Fatalf("snapshot past the position: %v", err)
	}
	if changes < 20 {
		t.Fatalf("only %d slide changes", changes)
	}
	s, err := timeline.StateAt(snaps[2000], fromSlice(events[2000:]), timeline.AtOffset(1000*time.Hour))
	if err != nil || s.Hash() != live.Hash() {
		t.Fatalf("an offset past the end is the final state: %v", err)
	}
}

// TestSeqAt finds the sequence to seek from by time with few probes: to
// within a gap, or exactly.
func TestSeqAt(t *testing.T) {
	events := collect(t, generate(7, 20000, 2))
	start := events[0].Time
	for _, target := range []int{1, 2, 500, 1999, 5001, 10000, 15555, 19999, 20000} {
		e := events[target-1]
		probes := 0
		timeOf := func(_ context.Context, seq int64) (time.Time, error) { probes++; return events[seq-1].Time, nil }
		got, err := timeline.SeqAt(context.Background(), int64(len(events)), 1000, start, e.Time.Sub(start), timeOf)
		if err != nil {
			t.Fatal(err)
		}
		if got > int64(target) || events[got-1].Time.After(e.Time) || int64(target)-got > 1000 && int(got) < len(events) && !events[got].Time.After(e.Time) {
			t.Fatalf("seq at the time of %d: %d", target, got)
		}
		if probes > 8 {
			t.Errorf("seq at the time of %d took %d probes", target, probes)
		}
		// Every event has a time of its own here: exactly, the event.
		probes = 0
		if got, err = timeline.SeqAt(context.Background(), int64(len(events)), 0, start, e.Time.Sub(start), timeOf); err != nil || got != int64(target) {
			t.Fatalf("seq at the time of %d, exactly: %d, %v", target, got, err)
		}
		if probes > 16 {
			t.Errorf("seq at the time of %d, exactly, took %d probes", target, probes)
		}
	}
}

// TestSeqAtUneven finds the exact event however unevenly the events came,
// ties included, in about twice the binary logarithm of the log's length
// probes at most.
func TestSeqAtUneven(t *testing.T) {
	const n = 100_000
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(5, 9))
	patterns := map[string]func(i int) time.Duration{
		"steady": func(i int) time.Duration { return time.Duration(i) * 100 * time.Millisecond },
		"a pause of 2 h": func(i int) time.Duration {
			return time.Duration(i)*time.Millisecond + time.Duration(i/50_000)*2*time.Hour
		},
		"most in a second": func(i int) time.Duration {
			return time.Duration(max(i-99_990, 0))*time.Hour + time.Duration(i)*time.Microsecond
		},
		"ties of ten": func(i int) time.Duration { return time.Duration(i/10) * time.Second },
		"random gaps": nil,
	}
	for name, at := range patterns {
		times := make([]time.Time, n) // times[i] is event i+1's
		var d time.Duration
		for i := range times {
			if at != nil {
				d = at(i)
			} else if i > 0 {
				d += time.Duration(rng.ExpFloat64() * float64(time.Second))
			}
			times[i] = start.Add(d)
		}
		for _, k := range []int{1, 2, 10, 11, 49_999, 50_000, 50_001, 99_989, 99_990, 99_991, 99_999, n} {
			target := times[k-1].Sub(start)
			want := int64(sort.Search(n, func(i int) bool { return times[i].After(start.Add(target)) })) // the last at or before
			probes := 0
			got, err := timeline.SeqAt(context.Background(), n, 0, start, target,
				func(_ context.Context, seq int64) (time.Time, error) { probes++; return times[seq-1], nil })
			if err != nil || got != want {
				t.Fatalf("%s: seq at the time of %d: %d, %v; want %d", name, k, got, err, want)
			}
			if limit := 2*bits.Len(n) + 2; probes > limit {
				t.Errorf("%s: seq at the time of %d took %d probes, more than %d", name, k, probes, limit)
			}
		}
	}
}

// TestCSVGroups: the CSV timeline says every step of breakout groups in
// words, with the groups' names, and names a group's board; groups.csv has a
// row per step, per member of the groups formed; the SVG export names a
// group's board by its group.
func TestCSVGroups(t *testing.T) {
	lesson, err := timelinetest.GroupLesson()
	if err != nil {
		t.Fatal(err)
	}
	events, blue := lesson.Events, lesson.Blue
	var buf bytes.Buffer
	if _, err := timeline.WriteCSV(&buf, fromSlice(events)); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, row := range rows[6:] {
		got = append(got, row[4]+": "+row[7])
	}
	want := []string{
		"Ms Rivera: split the class into 2 groups: 'Blue' (Ana), 'Red' (Bob)",
		"Ana: drew a stroke on the board of group 'Blue'",
		"Ana: in group 'Blue': hello blue",
		"Bob: in group 'Red': =red alone",
		"Ms Rivera: joined group 'Red'",
		"Ms Rivera: moved Bob to group 'Blue'",
		"Ms Rivera: left the group they visited",
		"Ms Rivera: told every group: two minutes",
		"Ms Rivera: called everyone back in 30 s",
		"Ms Rivera: ended the groups",
		"Ms Rivera: showed the board of group 'Blue'",
		"Ms Rivera: ended the lesson",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// groups.csv: a row per step, naming the groups and whom each placed.
	buf.Reset()
	if n, err := timeline.WriteGroupsCSV(&buf, fromSlice(events)); err != nil || n != int64(len(events)) {
		t.Fatalf("groups.csv read %d events of %d: %v", n, len(events), err)
	}
	if rows, err = csv.NewReader(&buf).ReadAll(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != strings.Join(timeline.GroupColumns, ",") {
		t.Fatalf("header %s", got)
	}
	got = nil
	for _, row := range rows[1:] {
		got = append(got, strings.Join([]string{row[3], row[5], row[7], row[9], row[10]}, "|"))
	}
	want = []string{
		"groups.formed|Blue|Ms Rivera|Ana|",
		"groups.formed|Red|Ms Rivera|Bob|",
		"group.chat.posted|Blue|Ana||hello blue",
		"group.chat.posted|Red|Bob||'=red alone",
		"group.joined|Red|Ms Rivera|Ms Rivera|",
		"group.joined|Blue|Ms Rivera|Bob|",
		"group.left|Red|Ms Rivera|Ms Rivera|",
		"groups.messaged||Ms Rivera||two minutes",
		"groups.recalled||Ms Rivera||30",
		"groups.ended||Ms Rivera||",
		"group.board.shown|Blue|Ms Rivera||",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("groups.csv rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rows[3][4] != blue.String() || rows[3][2] != "8" {
		t.Fatalf("the chat line's row %q, want group %s at seq 8", rows[3], blue)
	}

	// The SVG export has the group's board, named and titled by its group,
	// over the slide it was opened on.
	var boards []timeline.SlideBoard
	var blueSVG bytes.Buffer
	if _, err := timeline.WriteSVG(fromSlice(events), func(sb timeline.SlideBoard) (io.Writer, error) {
		boards = append(boards, sb)
		if sb.Slide == domain.GroupBoard(blue) {
			return &blueSVG, nil
		}
		return io.Discard, nil
	}); err != nil {
		t.Fatal(err)
	}
	want = []string{"group-blue-" + blue.String()[:8] + ".svg|Board of group 'Blue'|" + (domain.Slide{}).Key()}
	got = nil
	for _, sb := range boards {
		got = append(got, sb.Name+"|"+sb.Title+"|"+sb.Under.Key())
	}
	if !slices.Equal(got, want) || !strings.Contains(blueSVG.String(), "<path") {
		t.Fatalf("boards %q, want %q; the blue board's SVG:\n%s", got, want, blueSVG.String())
	}
}

// TestSVGGroupRounds: in a lesson with two rounds of breakout groups, the
// SVG export names every round's group boards by their group and draws each
// over the slide its round was opened on, not only the latest round's.
func TestSVGGroupRounds(t *testing.T) {
	s := newScripted(t)
	teacher, student := domain.RoleTeacher, domain.RoleStudent
	s.at(0, 1, "teacher", teacher, &domain.ParticipantJoined{Name: "Ms Rivera"})
	s.at(0, 2, "ana", student, &domain.ParticipantJoined{Name: "Ana"})
	s.at(0, 3, "bob", student, &domain.ParticipantJoined{Name: "Bob"})
	s.at(0, 4, "teacher", teacher, &domain.LessonStarted{})
	draw := func(group uuid.UUID) *domain.StrokeDrawn {
		p := pen(0)
		p.Slide = domain.GroupBoard(group)
		return p
	}
	// The first round, over the whiteboard.
	blue, red := uuid.New(), uuid.New()
	s.at(1, 0, "teacher", teacher, &domain.GroupsFormed{Groups: []domain.GroupPlan{
		{ID: blue, Name: "Blue", Members: []string{"ana"}}, {ID: red, Name: "Red", Members: []string{"bob"}}}})
	s.at(1, 10, "ana", student, draw(blue))
	s.at(2, 0, "teacher", teacher, &domain.GroupsEnded{})
	// The second, over a deck's second page.
	deck, green := uuid.New(), uuid.New()
	s.at(3, 0, "teacher", teacher, &domain.DeckAdded{Deck: deck, Name: "Fractions", Pages: 3})
	s.at(3, 10, "teacher", teacher, &domain.SlideChanged{Slide: domain.Slide{Deck: deck, Page: 1}})
	s.at(4, 0, "teacher", teacher, &domain.GroupsFormed{Groups: []domain.GroupPlan{
		{ID: green, Name: "Green", Members: []string{"ana", "bob"}}}})
	s.at(4, 10, "bob", student, draw(green))
	s.at(5, 0, "teacher", teacher, &domain.GroupsEnded{})

	var got, over []string
	if _, err := timeline.WriteSVGOver(fromSlice(s.log), func(sb timeline.SlideBoard) (io.Writer, error) {
		got = append(got, sb.Name+"|"+sb.Title+"|"+sb.Under.Key())
		return io.Discard, nil
	}, func(sb timeline.SlideBoard) (string, error) {
		over = append(over, sb.Name)
		return sb.Name + ".png", nil
	}); err != nil {
		t.Fatal(err)
	}
	greenSVG := "group-green-" + green.String()[:8] + ".svg"
	want := []string{
		"group-blue-" + blue.String()[:8] + ".svg|Board of group 'Blue'|" + (domain.Slide{}).Key(),
		greenSVG + "|Board of group 'Green'|" + domain.Slide{Deck: deck, Page: 1}.Key(),
	}
	if !slices.Equal(got, want) || !slices.Equal(over, []string{greenSVG}) {
		t.Fatalf("boards %q over %q, want %q over %q", got, over, want, []string{greenSVG})
	}
}
