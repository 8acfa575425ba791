package retention_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/retention"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// lessonRows counts, in every table of the database that has a lesson_id
// column (and the lessons table by its id), the rows of the lesson, by table.
type lessonRows func(t *testing.T, lesson uuid.UUID) map[string]int

// stored is a store under test with a way to look into its tables.
type stored struct {
	store eventstore.Store
	rows  lessonRows
	dir   string // the embedded store's data directory; "" for PostgreSQL
}

func openSQLite(t *testing.T) stored {
	dir := t.TempDir()
	s, err := eventstore.OpenSQLite(context.Background(), dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, eventstore.SQLiteFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rows := func(t *testing.T, lesson uuid.UUID) map[string]int {
		t.Helper()
		return countRows(t, lesson, func() ([][2]string, error) {
			r, err := db.Query(`SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
				WHERE m.type = 'table' AND (p.name = 'lesson_id' OR (m.name = 'lessons' AND p.name = 'id'))`)
			if err != nil {
				return nil, err
			}
			defer r.Close()
			var out [][2]string
			for r.Next() {
				var c [2]string
				if err := r.Scan(&c[0], &c[1]); err != nil {
					return nil, err
				}
				out = append(out, c)
			}
			return out, r.Err()
		}, func(table, column string) (n int, err error) {
			err = db.QueryRow(`SELECT count(*) FROM `+table+` WHERE `+column+` = ?`, lesson.String()).Scan(&n)
			return n, err
		})
	}
	return stored{store: s, rows: rows, dir: dir}
}

func openPostgres(t *testing.T) stored {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal("DATABASE_URL is not set: run the tests through scripts/test, or point DATABASE_URL at a PostgreSQL")
	}
	ctx := context.Background()
	s, err := eventstore.OpenPostgres(ctx, url, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	rows := func(t *testing.T, lesson uuid.UUID) map[string]int {
		t.Helper()
		return countRows(t, lesson, func() ([][2]string, error) {
			r, err := conn.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
				WHERE table_schema = current_schema() AND (column_name = 'lesson_id' OR (table_name = 'lessons' AND column_name = 'id'))`)
			if err != nil {
				return nil, err
			}
			return pgx.CollectRows(r, func(row pgx.CollectableRow) ([2]string, error) {
				var c [2]string
				err := row.Scan(&c[0], &c[1])
				return c, err
			})
		}, func(table, column string) (n int, err error) {
			err = conn.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE `+column+`::text = $1`, lesson.String()).Scan(&n)
			return n, err
		})
	}
	return stored{store: s, rows: rows}
}

// countRows counts a lesson's rows in every table the columns query names
// (table, lesson column) with count.
func countRows(t *testing.T, lesson uuid.UUID, columns func() ([][2]string, error), count func(table, column string) (int, error)) map[string]int {
	t.Helper()
	cols, err := columns()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, c := range cols {
		n, err := count(c[0], c[1])
		if err != nil {
			t.Fatalf("count the rows of lesson %s in %s: %v", lesson, c[0], err)
		}
		out[c[0]] = n
	}
	return out
}

// addLesson stores a lesson with a chat line carrying marker, a snapshot and
// a deck, ends it at ended (unless zero), and writes two recording files.
func addLesson(t *testing.T, s eventstore.Store, recordings, marker string, ended time.Time) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	start := ended.Add(-time.Hour)
	if ended.IsZero() {
		start = time.Now()
	}
	st := domain.NewState()
	var log []domain.Event
	add := func(e domain.Event) {
		e.Seq = int64(len(log)) + 1
		st.Apply(e)
		log = append(log, e)
	}
	created, err := domain.NewLesson(id, uuid.New(), "Lesson "+marker, start)
	if err != nil {
		t.Fatal(err)
	}
	add(created)
	do := func(at time.Duration, actor string, role domain.Role, p domain.Payload) {
		e, err := domain.Decide(st, domain.Command{ID: uuid.New(), Actor: actor, Role: role, Payload: p}, start.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		add(e)
	}
	do(time.Second, "teacher", domain.RoleTeacher, &domain.ParticipantJoined{Name: "Ms " + marker})
	do(2*time.Second, "teacher", domain.RoleTeacher, &domain.ChatPosted{Text: "secret " + marker})
	if _, errs, err := s.Append(ctx, log...); err != nil || errs[len(errs)-1] != nil {
		t.Fatalf("append: %v %v", err, errs)
	}
	snap, err := st.MarshalSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSnapshot(ctx, eventstore.Snapshot{Lesson: id, Seq: st.Seq, State: snap}); err != nil {
		t.Fatal(err)
	}
	png := append([]byte("\x89PNG\r\n\x1a\n"), []byte(marker)...)
	if err := s.(eventstore.Decks).PutDeck(ctx, id, uuid.New(), "deck "+marker, []eventstore.Page{{ContentType: "image/png", Data: png}}); err != nil {
		t.Fatal(err)
	}
	if !ended.IsZero() {
		log = log[:0]
		do(time.Hour, "teacher", domain.RoleTeacher, &domain.LessonEnded{})
		log[0].Seq = st.Seq
		if _, errs, err := s.Append(ctx, log...); err != nil || errs[0] != nil {
			t.Fatalf("append the end: %v %v", err, errs)
		}
	}
	dir := filepath.Join(recordings, id.String())
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"1-teacher-camera.webm", "1.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(marker), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// checkGone fails unless no table holds a row of lesson and recordings has
// no file of it; checkKept fails unless every table that held some of a
// lesson's rows still does and its recordings are there.
func checkGone(t *testing.T, s stored, recordings string, lesson uuid.UUID) {
	t.Helper()
	rows := s.rows(t, lesson)
	if len(rows) < 5 {
		t.Fatalf("only %d tables with lesson rows found: %v", len(rows), rows)
	}
	for table, n := range rows {
		if n != 0 {
			t.Errorf("table %s holds %d rows of the deleted lesson", table, n)
		}
	}
	entries, err := os.ReadDir(recordings)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), lesson.String()) {
			t.Errorf("the recordings directory holds %s of the deleted lesson", e.Name())
		}
	}
}

func checkKept(t *testing.T, s stored, recordings string, lesson uuid.UUID) {
	t.Helper()
	for _, table := range []string{"lessons", "events", "snapshots", "decks", "deck_pages"} {
		if n := s.rows(t, lesson)[table]; n == 0 {
			t.Errorf("table %s lost the rows of a lesson not deleted", table)
		}
	}
	if _, err := os.Stat(filepath.Join(recordings, lesson.String(), "1.json")); err != nil {
		t.Errorf("the recordings of a lesson not deleted: %v", err)
	}
}

// TestDeleteAndRetention: the teacher's deletion and the retention leave no
// row in any table and no file of the lesson, on both stores, and touch no
// other lesson; a lesson not ended is refused with nothing removed. In the
// embedded store's files, not even the deleted lesson's chat is left.
func TestDeleteAndRetention(t *testing.T) {
	for name, open := range map[string]func(*testing.T) stored{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			recordings, videos := t.TempDir(), t.TempDir()
			files := retention.Files{Recordings: recordings, Videos: videos}
			now := time.Now().UTC()
			marker := "m" + strings.ReplaceAll(uuid.NewString(), "-", "")
			deleted := addLesson(t, s.store, recordings, marker, now.Add(-time.Hour))
			kept := addLesson(t, s.store, recordings, "kept", now.Add(-time.Hour))
			live := addLesson(t, s.store, recordings, "live", time.Time{})

			if err := retention.Delete(ctx, s.store, files, live); domain.ErrorCode(err) != domain.CodeConflict {
				t.Fatalf("deleting a live lesson: %v, want conflict", err)
			}
			checkKept(t, s, recordings, live)
			if err := retention.Delete(ctx, s.store, files, uuid.New()); domain.ErrorCode(err) != domain.CodeNotFound {
				t.Fatalf("deleting no lesson: %v, want not found", err)
			}

			// A rendered video, and one queued, beside the lessons'.
			for _, f := range []string{deleted.String() + ".mp4", deleted.String() + ".queued", kept.String() + ".mp4"} {
				if err := os.WriteFile(filepath.Join(videos, f), []byte("video"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := retention.Delete(ctx, s.store, files, deleted); err != nil {
				t.Fatal(err)
			}
			if left, _ := filepath.Glob(filepath.Join(videos, deleted.String()+"*")); len(left) != 0 {
				t.Errorf("the deleted lesson's video files are left: %v", left)
			}
			if _, err := os.Stat(filepath.Join(videos, kept.String()+".mp4")); err != nil {
				t.Errorf("the video of a lesson not deleted: %v", err)
			}
			checkGone(t, s, recordings, deleted)
			checkKept(t, s, recordings, kept)
			if _, err := s.store.Lesson(ctx, deleted); domain.ErrorCode(err) != domain.CodeNotFound {
				t.Fatalf("the deleted lesson: %v, want not found", err)
			}
			if s.dir != "" {
				// Overwritten, not left in free pages or the write-ahead log.
				files, _ := filepath.Glob(filepath.Join(s.dir, "*"))
				for _, f := range files {
					b, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					if bytes.Contains(b, []byte(marker)) {
						t.Errorf("%s still holds the deleted lesson's text", filepath.Base(f))
					}
				}
			}

			// Retention: lessons that ended before the cut-off go, the
			// others stay. The cut-off is long past, so that the lessons
			// of other tests sharing the database are never in its reach.
			ancient := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
			old := addLesson(t, s.store, recordings, "old", ancient)
			n, err := retention.Expire(ctx, s.store, files, ancient.Add(90*24*time.Hour))
			if err != nil || n < 1 {
				t.Fatalf("expire: %d, %v", n, err)
			}
			checkGone(t, s, recordings, old)
			checkKept(t, s, recordings, kept)
			checkKept(t, s, recordings, live)
		})
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "0": 0, "90d": 90 * 24 * time.Hour, "1d": 24 * time.Hour, "36h": 36 * time.Hour} {
		if got, err := retention.Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"d", "-1d", "0d", "1.5d", "90 days", "10m", "forever", "99999d"} {
		if _, err := retention.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

// TestKeep: the retention loop deletes at once what is past the period, and
// returns when its context ends.
func TestKeep(t *testing.T) {
	s := openSQLite(t)
	recordings := t.TempDir()
	now := time.Now().UTC()
	old := addLesson(t, s.store, recordings, "old", now.Add(-91*24*time.Hour))
	recent := addLesson(t, s.store, recordings, "recent", now.Add(-89*24*time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		retention.Keep(ctx, quiet(), s.store, retention.Files{Recordings: recordings}, 90*24*time.Hour, func() time.Time { return now })
	}()
	deadline := time.Now().Add(10 * time.Second)
	for s.rows(t, old)["lessons"] != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the retention loop did not delete the old lesson")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the retention loop goes on after its context ended")
	}
	checkGone(t, s, recordings, old)
	checkKept(t, s, recordings, recent)
}
