package eventstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/migrations"
)

// TestStrokesStoredBeforePointsColumn stores a lesson as the schema before
// migration 00008 holds it (a stroke's points in its JSON), migrates, and
// stores the same lesson again, which now keeps its strokes' points in
// their own column: both read back, export and replay to the same events
// as were appended.
func TestStrokesStoredBeforePointsColumn(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, eventstore.SQLiteFile)+"?_pragma=foreign_keys(ON)")
		if err != nil {
			t.Fatal(err)
		}
		d := dialect{db: db, goose: goose.DialectSQLite3, files: migrations.SQLite(),
			mark: func(int) string { return "?" },
			at:   func(t time.Time) any { return t.UnixMicro() },
			id:   func(id uuid.UUID) any { return id.String() }}
		d.storeBeforePointsColumn(t)
		s, err := eventstore.OpenSQLite(context.Background(), dir, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		d.checkPointsColumn(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		schemaURL, db := ownSchema(t, "points_column")
		d := dialect{db: db, goose: goose.DialectPostgres, files: migrations.Postgres(),
			mark: func(i int) string { return fmt.Sprintf("$%d", i) },
			at:   func(t time.Time) any { return t },
			id:   func(id uuid.UUID) any { return id }}
		d.storeBeforePointsColumn(t)
		s, err := eventstore.OpenPostgres(context.Background(), schemaURL, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		d.checkPointsColumn(t, s)
	})
}

// ownSchema returns the URL of a PostgreSQL schema of its own, made for t
// under the test database and dropped when t ends, and a database/sql
// handle on it: its migrations start from nothing.
func ownSchema(t *testing.T, prefix string) (string, *sql.DB) {
	t.Helper()
	base := databaseURL(t)
	schema := prefix + "_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	admin, err := pgx.Connect(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	if _, err := admin.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") }) //nolint:errcheck // best effort
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { db.Close() })
	return u.String(), db
}

// TestPointsColumnDownWaitsForWriters: undoing migration 00008 on
// PostgreSQL while a writer's transaction is storing a stroke's points
// apart must not drop them. The down migration checks that no event holds
// points and then drops the column; a check that does not hold writers off
// sees nothing of a transaction that has not committed, and the drop then
// takes the points it commits. With the table locked against writers first,
// the check waits for the writer, sees its points and refuses.
func TestPointsColumnDownWaitsForWriters(t *testing.T) {
	ctx := context.Background()
	schemaURL, db := ownSchema(t, "points_down")
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Postgres())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	lesson := uuid.New()
	if _, err := db.ExecContext(ctx, `INSERT INTO lessons (id, title, created_at, last_seq) VALUES ($1, 'Down', now(), 1)`, lesson); err != nil {
		t.Fatal(err)
	}
	writer, err := pgx.Connect(ctx, schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close(ctx)
	tx, err := writer.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // committed below
	if _, err := tx.Exec(ctx, `INSERT INTO events (lesson_id, seq, event_id, version, kind, actor, role, at, data, points)
		VALUES ($1, 1, $2, 1, 'stroke.drawn', 'student-1', 'student', now(), '{"points":null}', '\x01')`, lesson, uuid.New()); err != nil {
		t.Fatal(err)
	}
	down := make(chan error, 1)
	go func() {
		_, err := p.DownTo(ctx, 7)
		down <- err
	}()
	// The down migration waits on the writer's lock of the table: with the
	// fix at its LOCK, without it at the DROP after the check passed.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var waiting int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'events'::regclass`).
			Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-down:
			t.Fatalf("the down migration ended (%v) while a writer's transaction held the events table", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the down migration never waited for the writer")
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-down; err == nil {
		t.Fatal("migration 00008 was undone over a stroke's points that a writer committed meanwhile")
	}
	var kept int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE points IS NOT NULL`).Scan(&kept); err != nil {
		t.Fatalf("the points column is gone: %v", err)
	}
	if kept != 1 {
		t.Fatalf("%d events hold points apart, want the writer's 1", kept)
	}
}

// beforeLesson is the lesson storeBeforePointsColumn stores in the old
// schema; lessonEvents returns its events for a lesson id.
var beforeLesson = uuid.MustParse("0b5e0b5e-0000-4000-8000-000000000001")

func lessonEvents(lesson uuid.UUID) []domain.Event {
	created, err := domain.NewLesson(lesson, uuid.MustParse("0b5e0b5e-0000-4000-8000-0000000000c0"), "Before and after", t0)
	if err != nil {
		panic(err)
	}
	events := []domain.Event{created}
	object := uuid.MustParse("0b5e0b5e-0000-4000-8000-0000000000a0")
	for part := range 3 {
		p := &domain.StrokeDrawn{Object: object, Part: part}
		if part == 0 {
			p.Tool, p.Color, p.Width = domain.ToolPen, "#1e90ff", 2.5
		}
		for i := range 30 {
			p.Points = append(p.Points, domain.Point{X: 812.3 + float64(part*30+i)*1.7, Y: 455.1 - float64(i)*0.1,
				T: int64(part*300 + i*8), Pressure: 0.42})
		}
		if part == 2 { // values only the raw columns hold
			p.Points[3].X = math.Copysign(0, -1)
			p.Points[4].Y = 0.1 + 0.2
			p.Points[5].Pressure = 1.0 / 3
		}
		events = append(events, event(lesson, "student-1", p))
	}
	events = append(events, chat(lesson, "Is this the same lesson?"))
	for i := range events {
		events[i].ID = uuid.NewSHA1(uuid.NameSpaceOID, []byte{byte(i)})
		events[i].Time = t0.Add(time.Duration(i) * time.Second)
	}
	return events
}

// dialect is how a test speaks to one database directly: mark is the
// parameter mark of the i-th argument (from 1); at and id convert a time
// and an id to the database's columns.
type dialect struct {
	db    *sql.DB
	goose goose.Dialect
	files fs.FS
	mark  func(i int) string
	at    func(time.Time) any
	id    func(uuid.UUID) any
}

func (d dialect) params(n int) string {
	marks := make([]string, n)
	for i := range marks {
		marks[i] = d.mark(i + 1)
	}
	return strings.Join(marks, ", ")
}

// storeBeforePointsColumn migrates the database up to migration 00007 and
// inserts beforeLesson as the store did then: each payload's whole JSON in
// data.
func (d dialect) storeBeforePointsColumn(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	p, err := goose.NewProvider(d.goose, d.db, d.files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 7); err != nil {
		t.Fatal(err)
	}
	events := lessonEvents(beforeLesson)
	if _, err := d.db.ExecContext(ctx, `INSERT INTO lessons (id, title, created_at, last_seq) VALUES (`+d.params(4)+`)`,
		d.id(beforeLesson), "Before and after", d.at(events[0].Time), len(events)); err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		data, err := domain.EncodePayload(e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.db.ExecContext(ctx, `INSERT INTO events (lesson_id, seq, event_id, version, kind, actor, role, at, data)
			VALUES (`+d.params(9)+`)`, d.id(beforeLesson), i+1, d.id(e.ID), e.Version, string(e.Kind()), e.Actor,
			string(e.Role), d.at(e.Time), string(data)); err != nil {
			t.Fatal(err)
		}
	}
}

// checkPointsColumn appends beforeLesson's events again as another lesson,
// through s (migrated), and checks that both lessons read back as appended,
// that only the second holds points apart, and that both fold
// to the same state.
func (d dialect) checkPointsColumn(t *testing.T, s eventstore.Store) {
	t.Helper()
	after := uuid.MustParse("0a17e000-0000-4000-8000-000000000002")
	appended := lessonEvents(after)
	mustAppend(t, s, appended...)
	apart := func(lesson uuid.UUID) int {
		var n int
		if err := d.db.QueryRow(`SELECT count(*) FROM events WHERE points IS NOT NULL AND lesson_id = `+d.mark(1),
			d.id(lesson)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := apart(beforeLesson); n != 0 {
		t.Fatalf("the lesson stored before the migration has %d events with points apart", n)
	}
	if n := apart(after); n != 3 {
		t.Fatalf("the lesson stored after the migration has %d strokes with points apart, want 3", n)
	}
	var states [2][]byte
	for i, lesson := range []uuid.UUID{beforeLesson, after} {
		got := readAll(t, s, lesson, 0)
		if len(got) != len(appended) {
			t.Fatalf("lesson %s: read %d events, want %d", lesson, len(got), len(appended))
		}
		state := domain.NewState()
		for j, e := range got {
			e.Lesson = after // the same lesson, stored twice
			want := appended[j]
			want.Seq = int64(j + 1)
			if !bytes.Equal(encode(t, e), encode(t, want)) {
				t.Fatalf("lesson %s, event %d read back as\n%s\nwant\n%s", lesson, j+1, encode(t, e), encode(t, want))
			}
			state.Apply(e)
		}
		b, err := state.MarshalSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		states[i] = b
	}
	if !bytes.Equal(states[0], states[1]) {
		t.Fatalf("the lessons stored before and after the migration fold to\n%s\nand\n%s", states[0], states[1])
	}
}

// TestNewerSchemaRefused: a database that a newer build migrated past this
// build's last migration is not opened: this build would misread what the
// newer one stores, as a build before 00008 reads a stroke stored since as
// having no points.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := eventstore.OpenSQLite(ctx, dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, eventstore.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var last int64
	if err := db.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, last+1); err != nil {
		t.Fatal(err)
	}
	if s, err := eventstore.OpenSQLite(ctx, dir, quietLogger()); err == nil || !strings.Contains(err.Error(), "newer than this build") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("a database migrated to version %d opens with a build whose last migration is %d: %v", last+1, last, err)
	}
}

// TestEventsStatisticsTargets: after migrating, every column of events has
// a statistics target of 10 or less, and data and points none (migration
// 00009): ANALYZE samples 300 rows for each unit of the table's largest
// target, so a single column left at the server's default of 100 (a column
// added later without a target, say) brings back the sample of 30,000 rows
// whose analyze stalled appends. Undoing 00009 gives the columns the
// server's default back.
func TestEventsStatisticsTargets(t *testing.T) {
	ctx := context.Background()
	schemaURL, db := ownSchema(t, "statistics")
	s, err := eventstore.OpenPostgres(ctx, schemaURL, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	targets := func() map[string]int {
		t.Helper()
		rows, err := db.QueryContext(ctx, `SELECT attname, coalesce(attstattarget, -1) FROM pg_attribute
			WHERE attrelid = 'events'::regclass AND attnum > 0 AND NOT attisdropped`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]int{}
		for rows.Next() {
			var name string
			var target int
			if err := rows.Scan(&name, &target); err != nil {
				t.Fatal(err)
			}
			got[name] = target
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := targets()
	if len(got) == 0 {
		t.Fatal("events has no columns")
	}
	for name, target := range got {
		want := "0..10"
		ok := target >= 0 && target <= 10
		if name == "data" || name == "points" {
			want, ok = "0", target == 0
		}
		if !ok {
			t.Errorf("events.%s: statistics target %d, want %s", name, target, want)
		}
	}
	if _, err := db.ExecContext(ctx, `ANALYZE events`); err != nil {
		t.Fatal(err)
	}

	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Postgres())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	for name, target := range targets() {
		if target != -1 {
			t.Errorf("after undoing 00009, events.%s: statistics target %d, want -1 (the server's default)", name, target)
		}
	}
}
