package eventstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"classroom/domain"
)

// lastSeqs is a commit lane's record of the last sequence of each lesson
// it appended to, as the lane's last committed flush of the lesson left it.
// It is a hint, never trusted on its own: flushKnown stores a lesson's
// events only where the lesson's row still holds the recorded sequence,
// checked under the row's lock in the very statement that inserts them. A
// lesson's events come through one lane of one node while that node holds
// the lesson's lease, so the record is nearly always right there; after
// another node took the lesson over (or any other writer appended to it, or
// the lesson was deleted and made again) the row disagrees, nothing of the
// lesson is stored by that statement, and the batch takes the full flush,
// which reads the lesson afresh.
type lastSeqs map[uuid.UUID]int64

// maxLastSeqs bounds a lane's record; it starts afresh when full.
const maxLastSeqs = 10000

// knownBatch is a batch numbered from a lane's record.
type knownBatch struct {
	sq     *sequencer          // what numbered it; sq.last the lessons' last sequences after it
	prev   map[uuid.UUID]int64 // the lessons' last sequences before it, as recorded
	insert []*pending          // the events to insert
}

// sequence numbers batch from the record, as the full flush would from the
// database if the record is right; nil when the record cannot number it alone: a lesson it does
// not know, a lesson's creation, one lesson's events under different lease
// epochs (or fenced and not), or an event the sequencer refuses (which only
// the full flush may refuse, and answer if it is a resend). A fenced
// event's epoch is taken as its lesson's: flushKnown checks it.
func (ls lastSeqs) sequence(batch []*pending) *knownBatch {
	// No record of the events stored before (known): a second copy of an
	// event in the batch, which only a resend makes, is not recognised
	// here; the insert's unique key on the event's id refuses the
	// statement, and the full flush answers the copy with its sequence.
	sq := &sequencer{last: map[uuid.UUID]int64{}, epochs: map[uuid.UUID]int64{}}
	for _, pe := range batch {
		pe.seq, pe.err = 0, nil
		if pe.ev.Kind() == domain.KindLessonCreated {
			return nil
		}
		if epoch, seen := sq.epochs[pe.ev.Lesson]; seen {
			if epoch != pe.fence {
				return nil
			}
			continue
		}
		last, ok := ls[pe.ev.Lesson]
		if !ok {
			return nil
		}
		sq.last[pe.ev.Lesson], sq.epochs[pe.ev.Lesson] = last, pe.fence
	}
	prev := make(map[uuid.UUID]int64, len(sq.last))
	for id, last := range sq.last {
		prev[id] = last
	}
	insert := sq.assign(batch)
	if refusedAny(batch) {
		return nil
	}
	return &knownBatch{sq: sq, prev: prev, insert: insert}
}

// keep records the last sequences a committed flush left.
func (ls lastSeqs) keep(sq *sequencer) {
	if len(ls)+len(sq.last) > maxLastSeqs {
		clear(ls)
	}
	for id, last := range sq.last {
		if last > 0 {
			ls[id] = last
		}
	}
}

// forget drops what the lane knew of the batch's lessons.
func (ls lastSeqs) forget(batch []*pending) {
	for _, pe := range batch {
		delete(ls, pe.ev.Lesson)
	}
}

// flushKnown stores a batch numbered from the lane's record (lastSeqs) in
// one statement, its own transaction, in one round trip (two on a
// connection's first, which prepares it): for each lesson,
// it advances the lesson's row from the recorded sequence to the batch's
// last (and its end time), and only where the row held the recorded one,
// the lease epoch the batch's events were decided under is the lesson's
// (read with a share lock that a takeover waits on until the commit, as the
// full flush does), and the lesson exists; it inserts the events of the
// lessons it advanced and notifies the other processes of them. It reports
// whether every lesson was advanced, that is whether the whole batch is
// stored; when not, the events of the lessons it advanced are, and the
// others are not. An error means nothing is stored, except when the
// connection failed after the statement was sent: then the outcome is not
// known, which the full flush's lookup of the events' ids settles.
//
// The lesson's row, locked by the update until the commit, stays what makes
// sequences gap-free: every writer of a lesson, this statement or the full
// flush, holds it while it inserts, and advances it in the same
// transaction.
func (p *Postgres) flushKnown(ctx context.Context, kb *knownBatch, params *binaryParams) (bool, error) {
	ends := lessonEnds(kb.insert)
	ids := make([]uuid.UUID, 0, len(ends))
	for id := range ends {
		ids = append(ids, id)
	}
	// The lessons go in sorted, in the hope that the update locks their
	// rows in that order, as the full flush does; the plan decides, and a
	// deadlock between two flushes fails this statement, which the full
	// flush then retries.
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	knownParams(params, kb, ids, ends)
	values, formats, results := params.params()

	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("acquire a connection: %w", err)
	}
	defer conn.Release()
	// Prepared once a connection (pgx keeps its description by name: the
	// connection's first flush takes a round trip more); executed with the
	// parameters as built, which pgx would otherwise encode again.
	sd, err := conn.Conn().Prepare(ctx, knownFlushName, p.stmts.known)
	if err != nil {
		return false, fmt.Errorf("prepare the insert of events: %w", err)
	}
	res := conn.Conn().PgConn().ExecStatement(ctx, sd, values, formats, results).Read()
	if res.Err != nil {
		if pgErr, ok := errors.AsType[*pgconn.PgError](res.Err); ok && pgErr.Code == "26000" {
			// The server lost the statement (DEALLOCATE, DISCARD ALL, a
			// pooler): forget it, so that the connection's next flush
			// prepares it again.
			conn.Conn().Deallocate(ctx, knownFlushName) //nolint:errcheck // this flush fails anyway
		}
		return false, fmt.Errorf("insert events: %w", res.Err)
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) == 0 || len(res.Rows[0][0]) != 8 {
		return false, fmt.Errorf("insert events: an answer of %d rows, not the count of lessons advanced", len(res.Rows))
	}
	advanced := int64(binary.BigEndian.Uint64(res.Rows[0][0]))
	return advanced == int64(len(ids)), nil
}

// knownFlushName names flushKnown's statement on each connection.
const knownFlushName = "classroom_flush_known"

// knownParams builds flushKnown's parameters into params, in knownFlush's
// order and PostgreSQL's binary format: the notification channel, the
// lessons (ids sorted) and the events of kb (as eventArrays holds them).
func knownParams(params *binaryParams, kb *knownBatch, ids []uuid.UUID, ends map[uuid.UUID]*time.Time) {
	params.reset()
	params.scalarText(notifyChannel)
	n := len(ids)
	params.begin(oidUUID, n)
	for _, id := range ids {
		params.uuid(id)
	}
	params.begin(oidInt8, n)
	for _, id := range ids {
		params.int8(kb.prev[id])
	}
	params.begin(oidInt8, n)
	for _, id := range ids {
		params.int8(kb.sq.last[id])
	}
	params.begin(oidTimestamptz, n)
	for _, id := range ids {
		if end := ends[id]; end != nil {
			params.timestamptz(*end)
		} else {
			params.null()
		}
	}
	params.begin(oidInt8, n)
	for _, id := range ids {
		params.int8(kb.sq.epochs[id])
	}
	eventParams(params, kb.insert)
}

// eventParams appends the events' columns to params, as eventArrays
// returns them: lesson, seq, id, version, kind, actor, role, time, data
// (JSON as text) and points (bytea, NULL for an event without).
func eventParams(params *binaryParams, insert []*pending) {
	n := len(insert)
	params.begin(oidUUID, n)
	for _, pe := range insert {
		params.uuid(pe.ev.Lesson)
	}
	params.begin(oidInt8, n)
	for _, pe := range insert {
		params.int8(pe.seq)
	}
	params.begin(oidUUID, n)
	for _, pe := range insert {
		params.uuid(pe.ev.ID)
	}
	params.begin(oidInt2, n)
	for _, pe := range insert {
		params.int2(int16(pe.ev.Version))
	}
	params.begin(oidText, n)
	for _, pe := range insert {
		params.text(string(pe.ev.Kind()))
	}
	params.begin(oidText, n)
	for _, pe := range insert {
		params.text(pe.ev.Actor)
	}
	params.begin(oidText, n)
	for _, pe := range insert {
		params.text(string(pe.ev.Role))
	}
	params.begin(oidTimestamptz, n)
	for _, pe := range insert {
		params.timestamptz(pe.ev.Time)
	}
	params.begin(oidText, n)
	for _, pe := range insert {
		params.textBytes(pe.data)
	}
	params.begin(oidBytea, n)
	for _, pe := range insert {
		params.bytea(pe.points)
	}
}

// flushStatements are the texts of a flush's statements whose shape does
// not change from one flush to the next, built once when the store opens.
type flushStatements struct {
	insert string // the full flush's insert: insertEvents from $1
	known  string // flushKnown's statement: knownFlush
}

func newFlushStatements() flushStatements {
	return flushStatements{insert: insertEvents(1, ""), known: knownFlush()}
}

// knownFlush returns flushKnown's statement. $1 is the notification channel;
// $2–$6 the lessons, in order: id, the recorded last sequence, the batch's
// last, the end time (null when the batch does not end it) and the lease
// epoch (0 for unfenced events); from $7 on, the events (eventArrays). A
// lease epoch is never 0, so unfenced lessons lock no lease.
func knownFlush() string {
	return `
	WITH fence AS (
		SELECT l.lesson_id FROM lesson_leases l
		JOIN unnest($2::uuid[], $6::bigint[]) AS f(id, epoch) ON l.lesson_id = f.id AND l.epoch = f.epoch
		FOR SHARE OF l),
	advanced AS (
		UPDATE lessons SET last_seq = v.last, ended_at = COALESCE(lessons.ended_at, v.ended)
		FROM unnest($2::uuid[], $3::bigint[], $4::bigint[], $5::timestamptz[], $6::bigint[]) AS v(id, prev, last, ended, epoch)
		WHERE lessons.id = v.id AND lessons.last_seq = v.prev AND (v.epoch = 0 OR v.id IN (SELECT lesson_id FROM fence))
		RETURNING lessons.id, lessons.last_seq),
	inserted AS (` + insertEvents(7, "u.l IN (SELECT id FROM advanced)") + `)
	SELECT n, CASE WHEN n > 0 THEN pg_notify($1, CASE WHEN length(payload) > ` + fmt.Sprint(maxNotifyPayload) + ` THEN '*' ELSE payload END) END
	FROM (SELECT count(*) AS n, string_agg(id::text || ':' || last_seq, ' ') AS payload FROM advanced) AS a`
}
