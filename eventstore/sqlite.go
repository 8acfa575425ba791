package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"classroom/domain"
	"classroom/migrations"
)

// SQLiteFile is the name of the database file inside the data directory.
const SQLiteFile = "classroom.db"

// sqliteMaxParams bounds the parameters of one statement.
const sqliteMaxParams = 500

// SQLite is the embedded event store: one file in WAL mode under a data
// directory, for a single server process. Appends commit with
// synchronous=FULL, so an acknowledged event survives a crash of the process
// and of the machine.
type SQLite struct {
	db     *sql.DB
	snaps  *snapshotCodec
	log    *slog.Logger
	commit *committer
	notify *notifier
}

func sqliteDSN(dir string) string {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(ON)", "cache_size(-16384)", "secure_delete(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate") // writers queue on the lock instead of failing to upgrade
	return "file:" + filepath.Join(dir, SQLiteFile) + "?" + q.Encode()
}

func openSQLiteDB(dir string) (*sql.DB, error) {
	if dir == "" {
		return nil, errors.New("no data directory for the embedded store")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := sql.Open("sqlite", sqliteDSN(dir))
	if err != nil {
		return nil, fmt.Errorf("open embedded store: %w", err)
	}
	return db, nil
}

// OpenSQLite migrates the database file in dir (creating both when missing)
// and opens a store on it.
func OpenSQLite(ctx context.Context, dir string, log *slog.Logger) (*SQLite, error) {
	db, err := openSQLiteDB(dir)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	if _, err := migrate(ctx, goose.DialectSQLite3, db, migrations.SQLite()); err != nil {
		db.Close()
		return nil, err
	}
	snaps, err := newSnapshotCodec()
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &SQLite{db: db, snaps: snaps, log: log, notify: newNotifier()}
	s.commit = newCommitter(func() flushFunc { return s.flush }, 1, 4000)
	return s, nil
}

func migrateSQLite(ctx context.Context, dir string) ([]int64, error) {
	db, err := openSQLiteDB(dir)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return migrate(ctx, goose.DialectSQLite3, db, migrations.SQLite())
}

// Append implements Store.
func (s *SQLite) Append(ctx context.Context, events ...domain.Event) ([]int64, []error, error) {
	return s.commit.append(ctx, 0, false, events)
}

// AppendDecided implements Store.
func (s *SQLite) AppendDecided(ctx context.Context, events ...domain.Event) ([]int64, []error, error) {
	return s.commit.append(ctx, 0, true, events)
}

// flush commits one batch. Its first attempt does not look the batch's
// event ids up (see sequence): when the unique key on (lesson_id, event_id)
// or a refusal says the batch may hold a resend, it is flushed again at once
// with the lookup.
func (s *SQLite) flush(ctx context.Context, batch []*pending) error {
	err := s.flushOnce(ctx, batch, false)
	if err != nil && sqliteHoldsResend(err) {
		err = s.flushOnce(ctx, batch, true)
	}
	if err != nil {
		s.log.Error("event store flush failed", "events", len(batch), "err", err)
		return domain.Errorf(domain.CodeUnavailable, "the event store is unavailable")
	}
	return nil
}

// sqliteHoldsResend reports whether a flush without the lookup failed
// because it inserted an event its lesson holds already, or refused one that
// may be a resend.
func sqliteHoldsResend(err error) bool {
	var e *sqlite.Error
	return errors.Is(err, errNeedsLookup) ||
		errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE && strings.Contains(e.Error(), "events.event_id")
}

// flushOnce stores a batch in one transaction: it creates the lessons the
// batch opens, reads the batch's lessons, with lookup finds the events
// stored before, inserts the new ones and advances the lessons, then
// commits and wakes the lessons' waiters.
func (s *SQLite) flushOnce(ctx context.Context, batch []*pending, lookup bool) error {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the one writer
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	sq, err := sqliteFlush{tx}.sequence(ctx, batch, lookup)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	sq.publish(s.notify)
	return nil
}

// sqliteFlush is a flush's statements in an SQLite transaction. PostgreSQL
// takes the same steps in pipelined round trips of its own
// (Postgres.flushOnce, Postgres.flushKnown).
type sqliteFlush struct{ tx *sql.Tx }

// sequence runs a flush's steps in the transaction, in order, and returns
// the sequencer that numbered the batch; the caller commits. Without lookup
// it does not look the batch's events up: the insert then fails on the
// store's unique key when it holds a resend, and sequence returns
// errNeedsLookup when it refused an event, which may be a resend too; the
// caller flushes the batch again with lookup. It reads no leases: one
// process owns every lesson of the embedded store, which has no leases and
// takes no fenced appends.
func (f sqliteFlush) sequence(ctx context.Context, batch []*pending, lookup bool) (*sequencer, error) {
	for _, pe := range batch {
		pe.seq, pe.err = 0, nil
	}
	sq := newSequencer(len(batch))
	if err := f.createLessons(ctx, batch, sq); err != nil {
		return nil, err
	}
	if err := f.readLessons(ctx, batch, sq); err != nil {
		return nil, err
	}
	if lookup {
		if err := f.findStored(ctx, batch, sq); err != nil {
			return nil, err
		}
	}
	insert := sq.assign(batch)
	if !lookup && refusedAny(batch) {
		return nil, errNeedsLookup
	}
	if len(insert) > 0 {
		if err := f.insert(ctx, insert, sq); err != nil {
			return nil, err
		}
	}
	return sq, nil
}

// createLessons creates the lessons that lesson.created events open.
func (f sqliteFlush) createLessons(ctx context.Context, batch []*pending, sq *sequencer) error {
	for _, c := range newLessons(batch) {
		res, err := f.tx.ExecContext(ctx, `INSERT INTO lessons (id, title, created_at) VALUES (?, ?, ?)
			ON CONFLICT (id) DO NOTHING`,
			c.ev.Lesson.String(), c.ev.Payload.(*domain.LessonCreated).Title, c.ev.Time.UnixMicro())
		if err != nil {
			return fmt.Errorf("create lesson: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			sq.created[c.ev.Lesson] = true
		}
	}
	return nil
}

// readLessons reads the last sequences of the batch's lessons. The
// transaction is the only writer, so it needs no lock.
func (f sqliteFlush) readLessons(ctx context.Context, batch []*pending, sq *sequencer) error {
	err := inChunks(lessonIDs(batch), func(chunk []uuid.UUID) error {
		rows, err := f.tx.QueryContext(ctx, `SELECT id, last_seq FROM lessons WHERE id IN (`+marks(len(chunk))+`)`, uuidArgs(chunk)...)
		if err != nil {
			return err
		}
		var id string
		var last int64
		return eachRow(rows, []any{&id, &last}, func() { sq.last[uuid.MustParse(id)] = last })
	})
	if err != nil {
		return fmt.Errorf("read lessons: %w", err)
	}
	return nil
}

// findStored finds the batch's events stored before, lesson by lesson
// through the (lesson_id, event_id) index, so that a resend gets its
// original sequence.
func (f sqliteFlush) findStored(ctx context.Context, batch []*pending, sq *sequencer) error {
	byLesson := map[uuid.UUID][]uuid.UUID{}
	for _, pe := range batch {
		byLesson[pe.ev.Lesson] = append(byLesson[pe.ev.Lesson], pe.ev.ID)
	}
	for lesson, ids := range byLesson {
		err := lookupSQLite(ctx, f.tx, lesson, ids, func(id uuid.UUID, seq int64) { sq.known[eventKey{lesson, id}] = seq })
		if err != nil {
			return fmt.Errorf("find stored events: %w", err)
		}
	}
	return nil
}

// insert inserts the events the sequencer numbered and advances their
// lessons' last sequences (and end times).
func (f sqliteFlush) insert(ctx context.Context, insert []*pending, sq *sequencer) error {
	stmt, err := f.tx.PrepareContext(ctx, `INSERT INTO events
		(lesson_id, seq, event_id, version, kind, actor, role, at, data, points) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	defer stmt.Close()
	for _, pe := range insert {
		e := pe.ev
		if _, err := stmt.ExecContext(ctx, e.Lesson.String(), pe.seq, e.ID.String(), e.Version,
			string(e.Kind()), e.Actor, string(e.Role), e.Time.UnixMicro(), string(pe.data), pe.points); err != nil {
			return fmt.Errorf("insert event: %w", err)
		}
	}
	for id, end := range lessonEnds(insert) {
		var ended any
		if end != nil {
			ended = end.UnixMicro()
		}
		if _, err := f.tx.ExecContext(ctx, `UPDATE lessons SET last_seq = ?, ended_at = COALESCE(ended_at, ?) WHERE id = ?`,
			sq.last[id], ended, id.String()); err != nil {
			return fmt.Errorf("advance lesson: %w", err)
		}
	}
	return nil
}

// eachRow scans every row of rows into dest and calls fn after each; it
// closes rows.
func eachRow(rows *sql.Rows, dest []any, fn func()) error {
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		fn()
	}
	return rows.Err()
}

func inChunks(ids []uuid.UUID, fn func([]uuid.UUID) error) error {
	for len(ids) > 0 {
		n := min(len(ids), sqliteMaxParams)
		if err := fn(ids[:n]); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func uuidArgs(ids []uuid.UUID) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id.String()
	}
	return args
}

// Events implements Store.
func (s *SQLite) Events(ctx context.Context, lesson uuid.UUID, after int64) iter.Seq2[domain.Event, error] {
	return readPages(ctx, lesson, after, s.lastSeq, s.readRange)
}

func (s *SQLite) lastSeq(ctx context.Context, lesson uuid.UUID) (int64, error) {
	var last int64
	err := s.db.QueryRowContext(ctx, `SELECT last_seq FROM lessons WHERE id = ?`, lesson.String()).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, domain.Errorf(domain.CodeNotFound, "no lesson %s", lesson)
	}
	if err != nil {
		return 0, s.unavailable("read lesson", err)
	}
	return last, nil
}

// EventTime implements Store.
func (s *SQLite) EventTime(ctx context.Context, lesson uuid.UUID, seq int64) (time.Time, error) {
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT at FROM events WHERE lesson_id = ? AND seq = ?`, lesson.String(), seq).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, domain.Errorf(domain.CodeNotFound, "lesson %s has no event %d", lesson, seq)
	}
	if err != nil {
		return time.Time{}, s.unavailable("read an event's time", err)
	}
	return time.UnixMicro(at).UTC(), nil
}

// lastRecordingSQLite is LastRecordingKind's query, read through the
// events_recording index. It names the index: without statistics SQLite
// costs a search of the primary key by (lesson_id, seq) as it does one of
// the index, and picks the key, which reads the lesson back from its end
// until a recording event; and a query the index cannot serve (kinds that
// no longer match its predicate, no index) then fails instead of reading so.
const lastRecordingSQLite = `SELECT kind FROM events INDEXED BY events_recording WHERE lesson_id = ? AND kind IN ` + recordingKinds +
	` AND seq <= ? ORDER BY seq DESC LIMIT 1`

// LastRecordingKind implements Store.
func (s *SQLite) LastRecordingKind(ctx context.Context, lesson uuid.UUID, upto int64) (domain.Kind, error) {
	var kind string
	err := s.db.QueryRowContext(ctx, lastRecordingSQLite, lesson.String(), upto).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", s.unavailable("read the last recording event", err)
	}
	return domain.Kind(kind), nil
}

// Lookup implements Store.
func (s *SQLite) Lookup(ctx context.Context, lesson uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]int64, error) {
	found := make(map[uuid.UUID]int64)
	err := lookupSQLite(ctx, s.db, lesson, ids, func(id uuid.UUID, seq int64) { found[id] = seq })
	if err != nil {
		return nil, s.unavailable("look events up", err)
	}
	return found, nil
}

// lookupSQLite hands found the sequence of each event of ids that the
// lesson holds, read through the (lesson_id, event_id) index, in a
// transaction or not.
func lookupSQLite(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, lesson uuid.UUID, ids []uuid.UUID, found func(uuid.UUID, int64)) error {
	return inChunks(ids, func(chunk []uuid.UUID) error {
		rows, err := q.QueryContext(ctx, `SELECT event_id, seq FROM events WHERE lesson_id = ? AND event_id IN (`+
			marks(len(chunk))+`)`, append([]any{lesson.String()}, uuidArgs(chunk)...)...)
		if err != nil {
			return err
		}
		var id string
		var seq int64
		return eachRow(rows, []any{&id, &seq}, func() { found(uuid.MustParse(id), seq) })
	})
}

// readRange reads and decodes the events with after < seq <= upto: a
// bounded keyset range. Each row is decoded as it is read, from the
// driver's memory where it allows (sql.RawBytes).
func (s *SQLite) readRange(ctx context.Context, lesson uuid.UUID, after, upto int64) ([]domain.Event, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT seq, event_id, version, kind, actor, role, at, data, points
		FROM events WHERE lesson_id = ? AND seq > ? AND seq <= ? ORDER BY seq`, lesson.String(), after, upto)
	if err != nil {
		return nil, s.unavailable("read events", err)
	}
	defer rows.Close()
	events := make([]domain.Event, 0, upto-after)
	r := rawEvent{lesson: lesson}
	var (
		id, data, points sql.RawBytes
		at               int64
	)
	dest := []any{&r.seq, &id, &r.version, &r.kind, &r.actor, &r.role, &at, &data, &points}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, s.unavailable("read events", err)
		}
		if r.id, err = uuid.ParseBytes(id); err != nil {
			return nil, fmt.Errorf("event %d of lesson %s has a corrupt id: %w", r.seq, lesson, err)
		}
		r.at, r.data, r.points = time.UnixMicro(at), data, points
		e, err := r.event()
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.unavailable("read events", err)
	}
	return events, nil
}

// scanLesson reads a lessons row of lessonColumns.
func scanLesson(scan func(...any) error) (Lesson, error) {
	var (
		l          Lesson
		id         string
		created    int64
		ended      sql.NullInt64
		invitation sql.NullString
	)
	if err := scan(&id, &l.Title, &created, &ended, &l.LastSeq, &invitation); err != nil {
		return Lesson{}, err
	}
	var err error
	if l.ID, err = uuid.Parse(id); err != nil {
		return Lesson{}, fmt.Errorf("corrupt lesson id %q: %w", id, err)
	}
	if invitation.Valid {
		if l.Invitation, err = uuid.Parse(invitation.String); err != nil {
			return Lesson{}, fmt.Errorf("corrupt invitation id %q: %w", invitation.String, err)
		}
	}
	l.Created = time.UnixMicro(created).UTC()
	if ended.Valid {
		l.Ended = time.UnixMicro(ended.Int64).UTC()
	}
	return l, nil
}

// Lesson implements Store.
func (s *SQLite) Lesson(ctx context.Context, id uuid.UUID) (Lesson, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+lessonColumns+` FROM lessons WHERE id = ?`, id.String())
	l, err := scanLesson(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return Lesson{}, domain.Errorf(domain.CodeNotFound, "no lesson %s", id)
	}
	if err != nil {
		return Lesson{}, s.unavailable("read lesson", err)
	}
	return l, nil
}

// SetInvitation implements Store.
func (s *SQLite) SetInvitation(ctx context.Context, lesson, invitation uuid.UUID) error {
	if invitation == uuid.Nil {
		return domain.Errorf(domain.CodeInvalid, "no invitation id")
	}
	res, err := s.db.ExecContext(ctx, `UPDATE lessons SET invitation = ? WHERE id = ?`, invitation.String(), lesson.String())
	if err != nil {
		return s.unavailable("record the invitation", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.unavailable("record the invitation", err)
	} else if n == 0 {
		return domain.Errorf(domain.CodeNotFound, "no lesson %s", lesson)
	}
	return nil
}

// Lessons implements Store.
func (s *SQLite) Lessons(ctx context.Context, opts ListOptions) ([]Lesson, error) {
	var before any
	if !opts.Before.IsZero() {
		before = opts.Before.UnixMicro()
	}
	return s.queryLessons(ctx, `
		SELECT `+lessonColumns+` FROM lessons
		WHERE ?1 IS NULL OR created_at < ?1
		ORDER BY created_at DESC, id DESC LIMIT ?2`, before, opts.limit())
}

// queryLessons reads the lessons a query selects (lessonColumns).
func (s *SQLite) queryLessons(ctx context.Context, query string, args ...any) ([]Lesson, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.unavailable("list lessons", err)
	}
	defer rows.Close()
	var out []Lesson
	for rows.Next() {
		l, err := scanLesson(rows.Scan)
		if err != nil {
			return nil, s.unavailable("list lessons", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, s.unavailable("list lessons", err)
	}
	return out, nil
}

// SaveSnapshot implements Store.
func (s *SQLite) SaveSnapshot(ctx context.Context, snap Snapshot) error {
	if err := snap.check(); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `
		INSERT INTO snapshots (lesson_id, seq, state, created_at)
		SELECT id, ?2, ?3, ?4 FROM lessons WHERE id = ?1 AND last_seq >= ?2
		ON CONFLICT (lesson_id, seq) DO UPDATE SET state = excluded.state, created_at = excluded.created_at`,
		snap.Lesson.String(), snap.Seq, s.snaps.pack(snap.State), time.Now().UnixMicro())
	if err != nil {
		return s.unavailable("save snapshot", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		last, err := s.lastSeq(ctx, snap.Lesson)
		if err != nil {
			return err
		}
		return domain.Errorf(domain.CodeInvalid, "snapshot at %d is past the end of the log (%d)", snap.Seq, last)
	}
	return nil
}

// LatestSnapshot implements Store.
func (s *SQLite) LatestSnapshot(ctx context.Context, lesson uuid.UUID, atOrBefore int64) (Snapshot, error) {
	snap := Snapshot{Lesson: lesson}
	err := s.db.QueryRowContext(ctx, `
		SELECT seq, state FROM snapshots WHERE lesson_id = ?1 AND (?2 <= 0 OR seq <= ?2)
		ORDER BY seq DESC LIMIT 1`, lesson.String(), atOrBefore).Scan(&snap.Seq, &snap.State)
	if errors.Is(err, sql.ErrNoRows) {
		return Snapshot{}, domain.Errorf(domain.CodeNotFound, "no snapshot of lesson %s", lesson)
	}
	if err != nil {
		return Snapshot{}, s.unavailable("read snapshot", err)
	}
	if snap.State, err = s.snaps.unpack(snap.State); err != nil {
		return Snapshot{}, err
	}
	return snap, nil
}

// Wait implements Store. Only appends through this store wake it: the
// embedded database serves one process.
func (s *SQLite) Wait(ctx context.Context, lesson uuid.UUID, after int64) (int64, error) {
	return s.notify.wait(ctx, lesson, after, func(ctx context.Context) (int64, error) {
		return s.lastSeq(ctx, lesson)
	})
}

// Ping implements Store.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return s.unavailable("ping", err)
	}
	return nil
}

// Close implements Store.
func (s *SQLite) Close() error {
	s.commit.close()
	s.snaps.close()
	return s.db.Close()
}

func (s *SQLite) unavailable(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	s.log.Error("event store failure", "op", what, "err", err)
	return fmt.Errorf("%s: %w", what, domain.Errorf(domain.CodeUnavailable, "the event store is unavailable"))
}
