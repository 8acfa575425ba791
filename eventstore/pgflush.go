package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"classroom/domain"
)

// eventIDKey is the unique constraint on (lesson_id, event_id): an insert
// that breaks it holds an event stored before, a resend.
const eventIDKey = "events_lesson_id_event_id_key"

// laneFlush returns the flush of one commit lane, with the lane's own
// record of its lessons' last sequences (see lastSeqs) and its own buffer
// for flushKnown's parameters, reused from one flush to the next.
func (p *Postgres) laneFlush() flushFunc {
	last := lastSeqs{}
	params := &binaryParams{}
	return func(ctx context.Context, batch []*pending) error { return p.flush(ctx, batch, last, params) }
}

// flush commits one batch. When the lane knows the last sequence of every
// lesson of the batch (last), it first tries the batch in one statement
// (flushKnown), which checks what the lane knows in the same statement;
// when that does not store the whole batch, or cannot be tried, the batch
// takes the full flush (flushFull). When a flush commits, last then holds
// what its transaction left; when the full flush fails too, last knows none
// of the batch's lessons.
func (p *Postgres) flush(ctx context.Context, batch []*pending, last lastSeqs, params *binaryParams) error {
	lookup := false
	if kb := last.sequence(batch); kb != nil {
		stored, err := p.flushKnown(ctx, kb, params)
		if err == nil && stored {
			last.keep(kb.sq)
			kb.sq.publish(p.notify)
			return nil
		}
		switch {
		case holdsResend(err):
			p.log.Debug("a resend in a batch numbered from the lane's record; the full flush answers it", "events", len(batch))
		case err != nil:
			p.log.Warn("a batch numbered from the lane's record failed; the full flush takes it", "events", len(batch), "err", err)
		}
		// A stale record, a resend, a lesson gone, or a failure: some of
		// the batch may be stored, which the lookup answers.
		lookup = true
	}
	last.forget(batch)
	sq, err := p.flushFull(ctx, batch, lookup)
	if err != nil {
		return err
	}
	last.keep(sq)
	return nil
}

// flushFull commits one batch, retrying when the transaction failed as a
// whole for a reason that may pass: a lost connection (the database
// restarted), a deadlock, or another process storing one of the same events
// first. A retry is always safe, even after a commit whose answer was lost,
// because events already stored are recognised by their ids.
//
// Without lookup, a first attempt does not look the batch's event ids up:
// the unique index on (lesson_id, event_id) finds a resend in the insert
// itself, which then fails, and the batch is flushed again at once with the
// lookup; so is a batch in which the sequencer refused an event, which may
// be a resend too. Resends and refusals are rare (a client reconnecting, a
// flush retried, a lesson taken over), so most batches save a probe per
// event.
func (p *Postgres) flushFull(ctx context.Context, batch []*pending, lookup bool) (*sequencer, error) {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			p.log.Warn("retrying event store flush", "attempt", attempt, "events", len(batch), "err", err)
			select {
			case <-time.After(time.Duration(attempt*attempt) * 100 * time.Millisecond):
			case <-ctx.Done():
				return nil, domain.Errorf(domain.CodeUnavailable, "the event store did not answer in time")
			}
		}
		var sq *sequencer
		if sq, err = p.flushOnce(ctx, batch, lookup); err == nil {
			return sq, nil
		}
		if ctx.Err() != nil {
			break
		}
		if !lookup && holdsResend(err) {
			lookup = true
			if sq, err = p.flushOnce(ctx, batch, lookup); err == nil {
				return sq, nil
			}
		}
		lookup = true // after a failure, the commit may have happened
	}
	p.log.Error("event store flush failed", "events", len(batch), "err", err)
	return nil, domain.Errorf(domain.CodeUnavailable, "the event store is unavailable")
}

// holdsResend reports whether a flush without the lookup failed because it
// inserted an event its lesson holds already, or refused one that may be.
func holdsResend(err error) bool {
	var pgErr *pgconn.PgError
	return errors.Is(err, errNeedsLookup) ||
		errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == eventIDKey
}

// flushOnce stores a batch in one transaction of two round trips. The first
// begins it, creates the lessons the batch opens, locks the batch's lessons'
// rows (and reads their leases, and with lookup the events stored before);
// the sequencer then numbers the batch; the second inserts the events,
// advances the lessons, queues one notification and commits. Then it wakes
// the lessons' waiters and returns the sequencer that numbered the batch.
func (p *Postgres) flushOnce(ctx context.Context, batch []*pending, lookup bool) (*sequencer, error) {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire a connection: %w", err)
	}
	defer conn.Release()
	for _, pe := range batch {
		pe.seq, pe.err = 0, nil
	}
	sq := newSequencer(len(batch))
	if err := conn.SendBatch(ctx, lockBatch(batch, sq, lookup)).Close(); err != nil {
		return nil, rollback(conn, fmt.Errorf("lock lessons: %w", err))
	}
	insert := sq.assign(batch)
	if !lookup && refusedAny(batch) {
		return nil, rollback(conn, errNeedsLookup)
	}
	if err := conn.SendBatch(ctx, insertBatch(p.stmts.insert, insert, sq)).Close(); err != nil {
		return nil, rollback(conn, fmt.Errorf("insert events: %w", err))
	}
	sq.publish(p.notify)
	return sq, nil
}

// rollback ends a failed flush's transaction on conn and returns err. When
// the rollback itself fails, the pool drops the connection on release, as
// it does every connection left inside a transaction.
func rollback(conn *pgxpool.Conn, err error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn.Exec(ctx, "ROLLBACK") //nolint:errcheck // see above
	return err
}

// lockBatch is a flush's first round trip: it begins the transaction,
// creates the lessons that lesson.created events open (a lesson that exists
// already is not created again; the sequencer then refuses its creation
// unless the very same event was stored before), locks the batch's lessons'
// rows in a fixed order, so that two flushes never deadlock on them, and
// reads their last sequences. For fenced events it reads their lessons'
// lease epochs with a share lock that a takeover (an update of the lease)
// waits on until the transaction ends: an epoch read here stays the
// lesson's until the commit. With lookup it reads the sequences of the
// batch's events stored before, so that a resend gets its original one.
func lockBatch(batch []*pending, sq *sequencer, lookup bool) *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	if creates := newLessons(batch); len(creates) > 0 {
		ids := make([]pgtype.UUID, len(creates))
		titles := make([]string, len(creates))
		times := make([]time.Time, len(creates))
		for i, c := range creates {
			ids[i], times[i] = pgUUID(c.ev.Lesson), c.ev.Time
			titles[i] = c.ev.Payload.(*domain.LessonCreated).Title
		}
		b.Queue(`
			INSERT INTO lessons (id, title, created_at)
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[])
			ON CONFLICT (id) DO NOTHING
			RETURNING id`, ids, titles, times).Query(func(rows pgx.Rows) error {
			var id pgtype.UUID
			_, err := pgx.ForEachRow(rows, []any{&id}, func() error { sq.created[id.Bytes] = true; return nil })
			return err
		})
	}
	b.Queue(`SELECT id, last_seq FROM lessons WHERE id = ANY($1) ORDER BY id FOR UPDATE`, pgUUIDs(lessonIDs(batch))).
		Query(scanPerLesson(sq.last))
	if fenced := fencedLessons(batch); len(fenced) > 0 {
		b.Queue(`SELECT lesson_id, epoch FROM lesson_leases WHERE lesson_id = ANY($1) ORDER BY lesson_id FOR SHARE`,
			pgUUIDs(fenced)).Query(scanPerLesson(sq.epochs))
	}
	if lookup {
		lessonsOf := make([]pgtype.UUID, len(batch))
		eventIDs := make([]pgtype.UUID, len(batch))
		for i, pe := range batch {
			lessonsOf[i], eventIDs[i] = pgUUID(pe.ev.Lesson), pgUUID(pe.ev.ID)
		}
		b.Queue(`
			SELECT e.lesson_id, e.event_id, e.seq FROM events e
			JOIN unnest($1::uuid[], $2::uuid[]) AS b(lesson_id, event_id) USING (lesson_id, event_id)`,
			lessonsOf, eventIDs).Query(func(rows pgx.Rows) error {
			var lesson, id pgtype.UUID
			var seq int64
			_, err := pgx.ForEachRow(rows, []any{&lesson, &id, &seq}, func() error {
				sq.known[eventKey{lesson.Bytes, id.Bytes}] = seq
				return nil
			})
			return err
		})
	}
	return b
}

// scanPerLesson reads rows of a lesson id and a number into into.
func scanPerLesson(into map[uuid.UUID]int64) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		var id pgtype.UUID
		var n int64
		_, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { into[id.Bytes] = n; return nil })
		return err
	}
}

// insertBatch is a flush's second round trip: it inserts the events the
// sequencer numbered in one statement (stmt, insertEvents from $1), advances their lessons' last
// sequences (and end times), queues one notification (NOTIFY takes a
// database-wide lock at commit, so one per flush, whatever the number of
// events) and commits.
func insertBatch(stmt string, insert []*pending, sq *sequencer) *pgx.Batch {
	b := &pgx.Batch{}
	if len(insert) > 0 {
		b.Queue(stmt, eventArrays(insert)...)
		ends := lessonEnds(insert)
		upd := make([]pgtype.UUID, 0, len(ends))
		last := make([]int64, 0, len(ends))
		ended := make([]*time.Time, 0, len(ends))
		for id, end := range ends {
			upd, last, ended = append(upd, pgUUID(id)), append(last, sq.last[id]), append(ended, end)
		}
		b.Queue(`
			UPDATE lessons SET last_seq = v.seq, ended_at = COALESCE(lessons.ended_at, v.ended)
			FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[]) AS v(id, seq, ended)
			WHERE lessons.id = v.id`, upd, last, ended)
		b.Queue(`SELECT pg_notify($1, $2)`, notifyChannel, notifyPayload(upd, last))
	}
	b.Queue("COMMIT").Exec(func(tag pgconn.CommandTag) error {
		if tag.String() != "COMMIT" {
			return errors.New("the transaction was rolled back")
		}
		return nil
	})
	return b
}

// eventArrays returns the columns of the events to insert, one array each,
// as insertEvents takes them (see column for how they are encoded).
func eventArrays(insert []*pending) []any {
	n := len(insert)
	var (
		lessons, ids         = make(column[uuid.UUID], n), make(column[uuid.UUID], n)
		seqs                 = make(column[int64], n)
		versions             = make(column[int16], n)
		kinds, actors, roles = make(column[string], n), make(column[string], n), make(column[string], n)
		times                = make(column[time.Time], n)
		data                 = make(column[string], n)
		points               = make(column[[]byte], n)
	)
	for i, pe := range insert {
		e := pe.ev
		lessons[i], seqs[i], ids[i], versions[i] = e.Lesson, pe.seq, e.ID, int16(e.Version)
		kinds[i], actors[i], roles[i], times[i], data[i] = string(e.Kind()), e.Actor, string(e.Role), e.Time, string(pe.data)
		points[i] = pe.points
	}
	return []any{lessons, seqs, ids, versions, kinds, actors, roles, times, data, points}
}

// insertEvents is the statement that inserts the events of eventArrays,
// passed as its parameters from $first on, in one INSERT … SELECT
// unnest(…); where, when not empty, is a condition on the rows' columns
// (u.l is the event's lesson) that keeps those to insert.
func insertEvents(first int, where string) string {
	var b strings.Builder
	b.WriteString(`
		INSERT INTO events (lesson_id, seq, event_id, version, kind, actor, role, at, data, points)
		SELECT l, s, i, v, k, a, r, t, d::json, p
		FROM unnest(`)
	for i, array := range []string{"uuid", "bigint", "uuid", "smallint", "text", "text", "text", "timestamptz", "text", "bytea"} {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d::%s[]", first+i, array)
	}
	b.WriteString(") AS u(l, s, i, v, k, a, r, t, d, p)")
	if where != "" {
		b.WriteString(" WHERE " + where)
	}
	return b.String()
}
