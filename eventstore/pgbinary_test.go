package eventstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"classroom/domain"
)

// TestBinaryParamsEncodeAsPgx checks that each array binaryParams builds is
// byte for byte what pgx sends for the same plain slice (NULLs included),
// empty arrays too, and that building a flush's parameters a second time
// allocates nothing: the reasons it exists.
func TestBinaryParamsEncodeAsPgx(t *testing.T) {
	m := pgtype.NewMap()
	for _, n := range []int{0, 1, 200} {
		var (
			texts  = make([]string, n)
			int8s  = make([]int64, n)
			int2s  = make([]int16, n)
			ids    = make([]pgtype.UUID, n)
			times  = make([]pgtype.Timestamptz, n)
			blobs  = make([][]byte, n)
			origin = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		)
		for i := range n {
			texts[i] = fmt.Sprintf(`{"text":"line %d é"}`, i)
			int8s[i], int2s[i] = int64(i)<<33-7, int16(i-100)
			ids[i] = pgtype.UUID{Bytes: uuid.New(), Valid: true}
			if i%4 != 1 {
				// Back to before 2000 and 1970, with nanoseconds that are cut.
				times[i] = pgtype.Timestamptz{Time: origin.Add(time.Duration(i) * -98765 * time.Second).Add(time.Duration(i) * 1001 * time.Nanosecond), Valid: true}
			}
			if i%3 != 0 {
				blobs[i] = []byte{1, byte(i), 2}
			}
		}
		if n > 4 { // the edges
			texts[2], blobs[2] = "", []byte{}
			int8s[3], int8s[4], int2s[3], int2s[4] = math.MinInt64, math.MaxInt64, math.MinInt16, math.MaxInt16
			times[3] = pgtype.Timestamptz{Time: time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC), Valid: true}
			times[4] = pgtype.Timestamptz{Time: time.Date(2026, 12, 7, 18, 0, 0, 1, time.FixedZone("", 5*3600+1800)), Valid: true}
		}
		var p binaryParams
		build := func() {
			p.reset()
			p.scalarText(notifyChannel)
			p.begin(oidText, n)
			for _, s := range texts {
				p.text(s)
			}
			p.begin(oidInt8, n)
			for _, v := range int8s {
				p.int8(v)
			}
			p.begin(oidInt2, n)
			for _, v := range int2s {
				p.int2(v)
			}
			p.begin(oidUUID, n)
			for _, id := range ids {
				p.uuid(id.Bytes)
			}
			p.begin(oidTimestamptz, n)
			for _, ts := range times {
				if ts.Valid {
					p.timestamptz(ts.Time)
				} else {
					p.null()
				}
			}
			p.begin(oidBytea, n)
			for _, b := range blobs {
				p.bytea(b)
			}
			p.begin(oidText, n)
			for _, s := range texts {
				p.textBytes([]byte(s))
			}
		}
		build()
		values, formats, results := p.params()
		if len(formats) != 1 || formats[0] != pgtype.BinaryFormatCode || len(results) != 1 || results[0] != pgtype.BinaryFormatCode {
			t.Fatalf("formats %v and %v, want one binary each", formats, results)
		}
		wants := []struct {
			name  string
			oid   uint32
			value any
		}{
			{"channel", pgtype.TextOID, notifyChannel},
			{"text", pgtype.TextArrayOID, texts},
			{"bigint", pgtype.Int8ArrayOID, int8s},
			{"smallint", pgtype.Int2ArrayOID, int2s},
			{"uuid", pgtype.UUIDArrayOID, ids},
			{"timestamptz", pgtype.TimestamptzArrayOID, times},
			{"bytea", pgtype.ByteaArrayOID, blobs},
			{"text from bytes", pgtype.TextArrayOID, texts},
		}
		if len(values) != len(wants) {
			t.Fatalf("%d elements: %d parameters, want %d", n, len(values), len(wants))
		}
		// What the known flush sent before, through pgx: the full flush's
		// columns (eventArrays), a nil bytea as NULL.
		plainIDs, plainTimes := make([]uuid.UUID, n), make([]time.Time, n)
		for i := range n {
			plainIDs[i], plainTimes[i] = ids[i].Bytes, times[i].Time
		}
		columns := map[string]any{"text": column[string](texts), "bigint": column[int64](int8s),
			"smallint": column[int16](int2s), "uuid": column[uuid.UUID](plainIDs), "bytea": column[[]byte](blobs)}
		for i, w := range wants {
			want, err := m.Encode(w.oid, pgtype.BinaryFormatCode, w.value, nil)
			if err != nil {
				t.Fatalf("%s: pgx: %v", w.name, err)
			}
			if !bytes.Equal(values[i], want) {
				t.Errorf("%d elements, %s: built\n%x\nwhere pgx sends\n%x", n, w.name, values[i], want)
			}
			if col, ok := columns[w.name]; ok {
				if old, err := m.Encode(w.oid, pgtype.BinaryFormatCode, col, nil); err != nil || !bytes.Equal(values[i], old) {
					t.Errorf("%d elements, %s: built\n%x\nwhere the column sends\n%x (%v)", n, w.name, values[i], old, err)
				}
			}
		}
		for i := range n { // the times without NULLs, as a column
			if !times[i].Valid {
				continue
			}
			var one binaryParams
			one.begin(oidTimestamptz, 1)
			one.timestamptz(times[i].Time)
			got, _, _ := one.params()
			old, err := m.Encode(pgtype.TimestamptzArrayOID, pgtype.BinaryFormatCode, column[time.Time](plainTimes[i:i+1]), nil)
			if err != nil || !bytes.Equal(got[0], old) {
				t.Errorf("%v: built %x, the column sends %x (%v)", times[i].Time, got[0], old, err)
			}
		}
		if allocs := testing.AllocsPerRun(10, func() { build(); p.params() }); allocs > 0 {
			t.Errorf("%d elements: building the parameters again allocates %.0f times, want none", n, allocs)
		}
	}
}

// TestFlushKnownStores stores batches through flushKnown alone, on a real
// PostgreSQL, and reads them back field by field: the statement takes the
// binary parameters as built (a chat line, a stroke with its points, the
// lesson's end), advances the lesson's row, and refuses the whole of a
// batch numbered from a stale record. (A flush falls back to the full one
// whenever flushKnown fails, so the conformance tests pass even when it
// never succeeds; this one does not.)
func TestFlushKnownStores(t *testing.T) {
	at := time.Date(2026, 12, 7, 17, 0, 0, 123456000, time.UTC)
	p, lesson := openWithLesson(t, at)
	ctx := context.Background()
	events := []domain.Event{
		{ID: uuid.New(), Lesson: lesson, Time: at.Add(time.Second), Actor: "s1", Role: domain.RoleStudent, Version: domain.EventVersion,
			Payload: &domain.ChatPosted{Text: "Is ½ bigger than ⅓?"}},
		{ID: uuid.New(), Lesson: lesson, Time: at.Add(2 * time.Second), Actor: "t1", Role: domain.RoleTeacher, Version: domain.EventVersion,
			Payload: &domain.StrokeDrawn{Object: uuid.New(), Tool: domain.ToolPen, Color: "#1e90ff", Width: 3,
				Points: []domain.Point{{X: 100.125, Y: 200.5, Pressure: 0.5}, {X: 101.125, Y: 201, T: 8, Pressure: 0.75}}}},
		{ID: uuid.New(), Lesson: lesson, Time: at.Add(time.Minute), Actor: "t1", Role: domain.RoleTeacher, Version: domain.EventVersion,
			Payload: &domain.LessonEnded{}},
	}
	batch := func(events []domain.Event) []*pending {
		var out []*pending
		for _, ev := range events {
			data, points, err := checkEvent(ev, false)
			if err != nil {
				t.Fatal(err)
			}
			ev.Time = ev.Time.UTC().Truncate(time.Microsecond)
			out = append(out, &pending{ev: ev, data: data, points: points})
		}
		return out
	}
	var params binaryParams
	stale := lastSeqs{lesson: 2}
	if stored, err := p.flushKnown(ctx, stale.sequence(batch(events)), &params); err != nil || stored {
		t.Fatalf("a batch numbered from a stale record: stored %v, %v; want nothing stored", stored, err)
	}
	known := lastSeqs{lesson: 1}
	kb := known.sequence(batch(events))
	if kb == nil {
		t.Fatal("the record did not number the batch")
	}
	if stored, err := p.flushKnown(ctx, kb, &params); err != nil || !stored {
		t.Fatalf("flushKnown: stored %v, %v", stored, err)
	}
	var got []domain.Event
	for ev, err := range p.Events(ctx, lesson, 1) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	if len(got) != len(events) {
		t.Fatalf("read %d events back, want %d", len(got), len(events))
	}
	for i, want := range events {
		want.Seq = int64(i + 2)
		want.Time = want.Time.UTC().Truncate(time.Microsecond)
		g := got[i]
		if g.Seq != want.Seq || g.ID != want.ID || g.Lesson != want.Lesson || !g.Time.Equal(want.Time) || g.Actor != want.Actor ||
			g.Role != want.Role || g.Version != want.Version || g.Kind() != want.Kind() {
			t.Errorf("event %d read back as %+v, want %+v", i, g, want)
		}
		gd, err1 := domain.EncodePayload(g.Payload)
		wd, err2 := domain.EncodePayload(want.Payload)
		if err1 != nil || err2 != nil || !bytes.Equal(gd, wd) {
			t.Errorf("event %d: payload %s, want %s (%v %v)", i, gd, wd, err1, err2)
		}
	}
	lessonRow, err := p.Lesson(ctx, lesson)
	if err != nil {
		t.Fatal(err)
	}
	if lessonRow.LastSeq != 4 || !lessonRow.Ended.Equal(events[2].Time) {
		t.Errorf("the lesson's row: last %d, ended %v; want 4 and %v", lessonRow.LastSeq, lessonRow.Ended, events[2].Time)
	}
}

// TestFlushKnownPreparesAgain: when the server has lost flushKnown's
// prepared statement (DEALLOCATE ALL, DISCARD ALL, a pooler), the flush
// that finds out fails (the full flush takes its batch), and the
// connection's next one prepares it again instead of failing the same way
// until the connection is retired.
func TestFlushKnownPreparesAgain(t *testing.T) {
	at := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	p, lesson := openWithLesson(t, at)
	ctx := context.Background()
	var params binaryParams
	last := int64(1)
	flush := func() (bool, error) {
		ev := domain.Event{ID: uuid.New(), Lesson: lesson, Time: at, Actor: "s1", Role: domain.RoleStudent,
			Version: domain.EventVersion, Payload: &domain.ChatPosted{Text: "0.5 = ½"}}
		data, points, err := checkEvent(ev, false)
		if err != nil {
			t.Fatal(err)
		}
		record := lastSeqs{lesson: last}
		stored, err := p.flushKnown(ctx, record.sequence([]*pending{{ev: ev, data: data, points: points}}), &params)
		if stored {
			last++
		}
		return stored, err
	}
	if stored, err := flush(); !stored || err != nil {
		t.Fatalf("the first flush: stored %v, %v", stored, err)
	}
	// Every connection the next flush may take has the statement prepared,
	// as pgx knows, and the server then loses it.
	for _, c := range p.pool.AcquireAllIdle(ctx) {
		if _, err := c.Conn().Prepare(ctx, knownFlushName, p.stmts.known); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "DEALLOCATE ALL"); err != nil {
			t.Fatal(err)
		}
		c.Release()
	}
	if stored, err := flush(); stored || err == nil {
		t.Fatalf("the flush after DEALLOCATE ALL: stored %v, %v; want the statement's loss", stored, err)
	}
	for i := range 2 {
		if stored, err := flush(); !stored || err != nil {
			t.Fatalf("flush %d after the loss: stored %v, %v", i+1, stored, err)
		}
	}
	if l, err := p.Lesson(ctx, lesson); err != nil || l.LastSeq != 4 {
		t.Fatalf("the lesson: %+v, %v; want last seq 4", l, err)
	}
}

// TestBinaryParamsKeepsBounded: a lane keeps its buffer between flushes,
// but not one a burst grew past maxKeptParams.
func TestBinaryParamsKeepsBounded(t *testing.T) {
	var p binaryParams
	build := func(size int) {
		p.reset()
		p.begin(oidBytea, 1)
		p.bytea(make([]byte, size))
	}
	build(1 << 20)
	kept := cap(p.buf)
	build(1 << 10)
	if cap(p.buf) != kept {
		t.Errorf("a 1 MiB buffer was not kept: capacity %d, then %d", kept, cap(p.buf))
	}
	build(maxKeptParams + 1)
	p.reset()
	if cap(p.buf) > maxKeptParams {
		t.Errorf("a buffer of %d bytes kept, over the bound of %d", cap(p.buf), maxKeptParams)
	}
}

// openWithLesson opens the store on DATABASE_URL, closed when t ends, and
// creates a lesson at at in it.
func openWithLesson(t *testing.T, at time.Time) (*Postgres, uuid.UUID) {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal("DATABASE_URL is not set: run the tests through scripts/test, which starts a throwaway PostgreSQL, or point DATABASE_URL at one")
	}
	ctx := context.Background()
	p, err := OpenPostgres(ctx, url, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	lesson := uuid.New()
	if _, errs, err := p.Append(ctx, domain.Event{ID: uuid.New(), Lesson: lesson, Time: at, Actor: "t1", Role: domain.RoleTeacher,
		Version: domain.EventVersion, Payload: &domain.LessonCreated{Title: "Fractions"}}); err != nil || errs[0] != nil {
		t.Fatalf("create the lesson: %v %v", err, errs)
	}
	return p, lesson
}
