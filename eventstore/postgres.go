package eventstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"classroom/domain"
	"classroom/migrations"
)

// notifyChannel is the PostgreSQL channel on which every flush announces the
// lessons it appended to, as "lesson:seq" pairs separated by spaces, or "*"
// when there were too many to fit in one notification.
const notifyChannel = "classroom_events"

// maxNotifyPayload keeps a notification under PostgreSQL's 8000-byte limit.
const maxNotifyPayload = 7000

// postgresLanes is how many flushes run at once. Each lane owns a share of
// the lessons, so concurrent flushes lock disjoint lesson rows; on a small
// machine, two keep both the database and this process busy instead of
// taking turns, and fewer lanes gather more events a flush, so that the
// commit's cost (a flush of the log to disk, a wake of each side) is shared
// by more events: with one round trip a flush (flushKnown), two lanes
// stored 103,000–106,000 small events/s on two cores where four stored
// 89,000–94,000, at less CPU per event (docs/benchmarks.md).
const postgresLanes = 2

// MaxSnapshotBytes bounds one stored snapshot.
const MaxSnapshotBytes = 64 << 20

// Postgres is the event store on PostgreSQL. Several server processes may
// share one database: sequence numbers stay gap-free because every flush
// locks the rows of the lessons it appends to, and each process hears the
// others' appends through LISTEN/NOTIFY.
type Postgres struct {
	pool   *pgxpool.Pool
	snaps  *snapshotCodec
	log    *slog.Logger
	commit *committer
	notify *notifier
	stmts  flushStatements

	stopListen context.CancelFunc
	listenDone chan struct{}
}

// OpenPostgres migrates the database at url and opens a store on it.
func OpenPostgres(ctx context.Context, url string, log *slog.Logger) (*Postgres, error) {
	if _, err := migratePostgres(ctx, url); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	// A process paused inside a flush (SIGSTOP, a frozen VM) would hold its
	// lessons' rows and leases locked, and so keep another node from taking
	// the lessons over: the database ends such a transaction.
	if _, ok := cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !ok {
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = "5000"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	snaps, err := newSnapshotCodec()
	if err != nil {
		pool.Close()
		return nil, err
	}
	p := &Postgres{pool: pool, snaps: snaps, log: log, notify: newNotifier(), stmts: newFlushStatements(),
		listenDone: make(chan struct{})}
	p.commit = newCommitter(p.laneFlush, postgresLanes, 4000)
	lctx, cancel := context.WithCancel(context.Background())
	p.stopListen = cancel
	go p.listen(lctx)
	return p, nil
}

func migratePostgres(ctx context.Context, url string) ([]int64, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("prepare migration lock: %w", err)
	}
	return migrate(ctx, goose.DialectPostgres, db, migrations.Postgres(), goose.WithSessionLocker(locker))
}

// Append implements Store.
func (p *Postgres) Append(ctx context.Context, events ...domain.Event) ([]int64, []error, error) {
	return p.commit.append(ctx, 0, false, events)
}

// AppendDecided implements Store.
func (p *Postgres) AppendDecided(ctx context.Context, events ...domain.Event) ([]int64, []error, error) {
	return p.commit.append(ctx, 0, true, events)
}

// AppendFenced appends events as AppendDecided does, for the owner of their
// lessons' lease at epoch (see package cluster): each event's Seq is the
// sequence its appender decided it at. In the same transaction as the
// insert, an event is refused (CodeUnavailable, domain.ReasonFenced, nothing
// stored) when its lesson's lease epoch is not epoch any more (another node
// took the lesson over) or its Seq is not the one the log gives next (the
// appender decided it on a stale state); an event decided on top of one of
// its lesson in the call that took no new sequence (refused, or a resend
// answered with its original one) is refused as stale (IsStale), as by
// AppendDecided, once its epoch is found current: no other node wrote, and
// its appender decides it again. A resend of a stored event is answered
// with its sequence, as by Append.
func (p *Postgres) AppendFenced(ctx context.Context, epoch int64, events ...domain.Event) ([]int64, []error, error) {
	if epoch <= 0 {
		return nil, nil, domain.Errorf(domain.CodeInvalid, "a lease epoch is positive, not %d", epoch)
	}
	return p.commit.append(ctx, epoch, true, events)
}

// pgUUID converts an id for pgx, which encodes pgtype.UUID directly; a
// uuid.UUID would go through driver.Valuer and a string on every row.
func pgUUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }

func pgUUIDs(ids []uuid.UUID) []pgtype.UUID {
	out := make([]pgtype.UUID, len(ids))
	for i, id := range ids {
		out[i] = pgUUID(id)
	}
	return out
}

// lessonEnds returns, for each lesson the inserted events touch, the time of
// its lesson.ended event, or nil when it has none.
func lessonEnds(insert []*pending) map[uuid.UUID]*time.Time {
	ends := map[uuid.UUID]*time.Time{}
	for _, pe := range insert {
		if pe.ev.Kind() == domain.KindLessonEnded {
			if ends[pe.ev.Lesson] == nil {
				t := pe.ev.Time
				ends[pe.ev.Lesson] = &t
			}
		} else if _, ok := ends[pe.ev.Lesson]; !ok {
			ends[pe.ev.Lesson] = nil
		}
	}
	return ends
}

func notifyPayload(lessons []pgtype.UUID, last []int64) string {
	var b strings.Builder
	for i, id := range lessons {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(uuid.UUID(id.Bytes).String())
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(last[i], 10))
		if b.Len() > maxNotifyPayload {
			return "*"
		}
	}
	return b.String()
}

// listen follows the other processes' appends until ctx ends. After every
// (re)connection it makes the notifier forget what it knew, since
// notifications sent while it was away are lost.
func (p *Postgres) listen(ctx context.Context) {
	defer close(p.listenDone)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := p.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		p.log.Warn("event notifications interrupted; reconnecting", "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (p *Postgres) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, p.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	p.notify.forget()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload == "*" {
			p.notify.forget()
			continue
		}
		for _, f := range strings.Fields(n.Payload) {
			idText, seqText, ok := strings.Cut(f, ":")
			id, err1 := uuid.Parse(idText)
			seq, err2 := strconv.ParseInt(seqText, 10, 64)
			if !ok || err1 != nil || err2 != nil {
				p.log.Warn("malformed event notification", "payload", f)
				continue
			}
			p.notify.publish(id, seq)
		}
	}
}

// Events implements Store.
func (p *Postgres) Events(ctx context.Context, lesson uuid.UUID, after int64) iter.Seq2[domain.Event, error] {
	return readPages(ctx, lesson, after, p.lastSeq, p.readRange)
}

func (p *Postgres) lastSeq(ctx context.Context, lesson uuid.UUID) (int64, error) {
	var last int64
	err := p.pool.QueryRow(ctx, `SELECT last_seq FROM lessons WHERE id = $1`, pgUUID(lesson)).Scan(&last)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, domain.Errorf(domain.CodeNotFound, "no lesson %s", lesson)
	}
	if err != nil {
		return 0, p.unavailable("read lesson", err)
	}
	return last, nil
}

// EventTime implements Store.
func (p *Postgres) EventTime(ctx context.Context, lesson uuid.UUID, seq int64) (time.Time, error) {
	var at time.Time
	err := p.pool.QueryRow(ctx, `SELECT at FROM events WHERE lesson_id = $1 AND seq = $2`, pgUUID(lesson), seq).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, domain.Errorf(domain.CodeNotFound, "lesson %s has no event %d", lesson, seq)
	}
	if err != nil {
		return time.Time{}, p.unavailable("read an event's time", err)
	}
	return at.UTC(), nil
}

// lastRecordingPG is LastRecordingKind's query, read through the
// events_recording index: its kinds are literals, not parameters, so that
// a generic plan proves the index's predicate too.
const lastRecordingPG = `SELECT kind FROM events WHERE lesson_id = $1 AND kind IN ` + recordingKinds +
	` AND seq <= $2 ORDER BY seq DESC LIMIT 1`

// LastRecordingKind implements Store.
func (p *Postgres) LastRecordingKind(ctx context.Context, lesson uuid.UUID, upto int64) (domain.Kind, error) {
	var kind string
	err := p.pool.QueryRow(ctx, lastRecordingPG, pgUUID(lesson), upto).Scan(&kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", p.unavailable("read the last recording event", err)
	}
	return domain.Kind(kind), nil
}

// Lookup implements Store.
func (p *Postgres) Lookup(ctx context.Context, lesson uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]int64, error) {
	found := make(map[uuid.UUID]int64)
	if len(ids) == 0 {
		return found, nil
	}
	rows, err := p.pool.Query(ctx, `SELECT event_id, seq FROM events WHERE lesson_id = $1 AND event_id = ANY($2)`,
		pgUUID(lesson), pgUUIDs(ids))
	if err != nil {
		return nil, p.unavailable("look events up", err)
	}
	var id pgtype.UUID
	var seq int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &seq}, func() error { found[id.Bytes] = seq; return nil }); err != nil {
		return nil, p.unavailable("look events up", err)
	}
	return found, nil
}

// readRange reads and decodes the events with after < seq <= upto: a
// bounded keyset range. Each row is decoded as it arrives, from the
// driver's memory, so that a payload's bytes are not copied first.
func (p *Postgres) readRange(ctx context.Context, lesson uuid.UUID, after, upto int64) ([]domain.Event, error) {
	rows, err := p.pool.Query(ctx, `
		SELECT seq, event_id, version, kind, actor, role, at, data, points
		FROM events WHERE lesson_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq`, pgUUID(lesson), after, upto)
	if err != nil {
		return nil, p.unavailable("read events", err)
	}
	defer rows.Close()
	events := make([]domain.Event, 0, upto-after)
	r := rawEvent{lesson: lesson}
	var (
		id           pgtype.UUID
		data, points pgtype.DriverBytes
	)
	dest := []any{&r.seq, &id, &r.version, &r.kind, &r.actor, &r.role, &r.at, &data, &points}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, p.unavailable("read events", err)
		}
		r.id, r.data, r.points = id.Bytes, data, points
		e, err := r.event()
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, p.unavailable("read events", err)
	}
	return events, nil
}

// Lesson implements Store.
func (p *Postgres) Lesson(ctx context.Context, id uuid.UUID) (Lesson, error) {
	l, err := scanPGLesson(p.pool.QueryRow(ctx, `SELECT `+lessonColumns+` FROM lessons WHERE id = $1`, id).Scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return Lesson{}, domain.Errorf(domain.CodeNotFound, "no lesson %s", id)
	}
	if err != nil {
		return Lesson{}, p.unavailable("read lesson", err)
	}
	return l, nil
}

// scanPGLesson reads a lessons row of lessonColumns.
func scanPGLesson(scan func(...any) error) (Lesson, error) {
	var l Lesson
	var ended *time.Time
	var invitation pgtype.UUID
	if err := scan(&l.ID, &l.Title, &l.Created, &ended, &l.LastSeq, &invitation); err != nil {
		return Lesson{}, err
	}
	if invitation.Valid {
		l.Invitation = invitation.Bytes
	}
	return l.utc(ended), nil
}

// SetInvitation implements Store.
func (p *Postgres) SetInvitation(ctx context.Context, lesson, invitation uuid.UUID) error {
	if invitation == uuid.Nil {
		return domain.Errorf(domain.CodeInvalid, "no invitation id")
	}
	tag, err := p.pool.Exec(ctx, `UPDATE lessons SET invitation = $2 WHERE id = $1`, pgUUID(lesson), pgUUID(invitation))
	if err != nil {
		return p.unavailable("record the invitation", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Errorf(domain.CodeNotFound, "no lesson %s", lesson)
	}
	return nil
}

// Lessons implements Store.
func (p *Postgres) Lessons(ctx context.Context, opts ListOptions) ([]Lesson, error) {
	var before *time.Time
	if !opts.Before.IsZero() {
		before = &opts.Before
	}
	return p.queryLessons(ctx, `
		SELECT `+lessonColumns+` FROM lessons
		WHERE $1::timestamptz IS NULL OR created_at < $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, before, opts.limit())
}

// queryLessons reads the lessons a query selects (lessonColumns).
func (p *Postgres) queryLessons(ctx context.Context, query string, args ...any) ([]Lesson, error) {
	rows, err := p.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, p.unavailable("list lessons", err)
	}
	defer rows.Close()
	var out []Lesson
	for rows.Next() {
		l, err := scanPGLesson(rows.Scan)
		if err != nil {
			return nil, p.unavailable("list lessons", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, p.unavailable("list lessons", err)
	}
	return out, nil
}

// SaveSnapshot implements Store.
func (p *Postgres) SaveSnapshot(ctx context.Context, s Snapshot) error {
	if err := s.check(); err != nil {
		return err
	}
	tag, err := p.pool.Exec(ctx, `
		INSERT INTO snapshots (lesson_id, seq, state)
		SELECT id, $2, $3 FROM lessons WHERE id = $1 AND last_seq >= $2
		ON CONFLICT (lesson_id, seq) DO UPDATE SET state = EXCLUDED.state, created_at = now()`,
		s.Lesson, s.Seq, p.snaps.pack(s.State))
	if err != nil {
		return p.unavailable("save snapshot", err)
	}
	if tag.RowsAffected() == 0 {
		return p.snapshotRefused(ctx, s)
	}
	return nil
}

func (p *Postgres) snapshotRefused(ctx context.Context, s Snapshot) error {
	last, err := p.lastSeq(ctx, s.Lesson)
	if err != nil {
		return err
	}
	return domain.Errorf(domain.CodeInvalid, "snapshot at %d is past the end of the log (%d)", s.Seq, last)
}

// LatestSnapshot implements Store.
func (p *Postgres) LatestSnapshot(ctx context.Context, lesson uuid.UUID, atOrBefore int64) (Snapshot, error) {
	s := Snapshot{Lesson: lesson}
	err := p.pool.QueryRow(ctx, `
		SELECT seq, state FROM snapshots WHERE lesson_id = $1 AND ($2 <= 0 OR seq <= $2)
		ORDER BY seq DESC LIMIT 1`, lesson, atOrBefore).Scan(&s.Seq, &s.State)
	if errors.Is(err, pgx.ErrNoRows) {
		return Snapshot{}, domain.Errorf(domain.CodeNotFound, "no snapshot of lesson %s", lesson)
	}
	if err != nil {
		return Snapshot{}, p.unavailable("read snapshot", err)
	}
	if s.State, err = p.snaps.unpack(s.State); err != nil {
		return Snapshot{}, err
	}
	return s, nil
}

// Wait implements Store.
func (p *Postgres) Wait(ctx context.Context, lesson uuid.UUID, after int64) (int64, error) {
	return p.notify.wait(ctx, lesson, after, func(ctx context.Context) (int64, error) {
		return p.lastSeq(ctx, lesson)
	})
}

// Ping implements Store.
func (p *Postgres) Ping(ctx context.Context) error {
	if err := p.pool.Ping(ctx); err != nil {
		return p.unavailable("ping", err)
	}
	return nil
}

// Close implements Store.
func (p *Postgres) Close() error {
	p.commit.close()
	p.stopListen()
	<-p.listenDone
	p.pool.Close()
	p.snaps.close()
	return nil
}

// unavailable logs a database failure and returns an error that says no more
// than that to the caller. Context errors pass through unchanged.
func (p *Postgres) unavailable(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "22P02" {
		return domain.Errorf(domain.CodeInvalid, "%s: malformed value", what)
	}
	p.log.Error("event store failure", "op", what, "err", err)
	return fmt.Errorf("%s: %w", what, domain.Errorf(domain.CodeUnavailable, "the event store is unavailable"))
}

// Pool returns the store's connection pool, for the coordination of server
// nodes sharing the database (package cluster). Closing the store closes it.
func (p *Postgres) Pool() *pgxpool.Pool { return p.pool }
