package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Lease is a node's right to decide a lesson until Expires. Epoch grows at
// every change of owner: the owner appends under it (the event store's
// fenced append), and an append under an older epoch is refused.
type Lease struct {
	Lesson uuid.UUID
	// Owner is the holder: its node id and, after a slash, the holding
	// process's incarnation (see NewLeases).
	Owner   string
	Epoch   int64
	Expires time.Time // the database's clock
}

// Node returns the id of the node that holds the lease.
func (ls Lease) Node() string {
	node, _, _ := strings.Cut(ls.Owner, "/")
	return node
}

// ErrLeaseLost is returned by Renew when another node took the lease over.
var ErrLeaseLost = errors.New("cluster: lesson lease lost to another node")

// Leases takes, renews and hands over lesson leases in PostgreSQL. Times are
// the database's, so nodes' clocks need not agree.
type Leases struct {
	pool *pgxpool.Pool
	ttl  time.Duration
	self string // node/incarnation
	life *life  // the life lock's holder, from Start
}

// NewLeases returns the leases node takes, lasting ttl from their last
// renewal. Each call is a new incarnation of the node: a process restarted
// under the same node id takes over the leases its former self held at once
// (under the next epoch) instead of waiting for them to expire, since a node
// id names one running process.
func NewLeases(pool *pgxpool.Pool, ttl time.Duration, node string) *Leases {
	return &Leases{pool: pool, ttl: ttl, self: node + "/" + uuid.NewString()[:8]}
}

// TTL is how long a lease lasts without renewal.
func (l *Leases) TTL() time.Duration { return l.ttl }

// Acquire makes this node the owner of lesson when the lesson has no lease,
// or its lease expired, was released, is held by a former incarnation of
// this node or by a process that is dead, under the next epoch. A holder is
// dead when its life lock (Start) is gone from PostgreSQL; not within
// lifeRelock of a start of PostgreSQL, which dropped every node's lock (the
// living take theirs again within lifeCheck of reconnecting): leases then
// last until their expiry. It returns the lease as it stands and
// whether this node holds it. The node's own unexpired lease is not taken
// again (ok is true, with the same epoch).
func (l *Leases) Acquire(ctx context.Context, lesson uuid.UUID) (Lease, bool, error) {
	ls := Lease{Lesson: lesson}
	// A takeover waits on the share lock of an append in flight; a short
	// lock timeout keeps it from waiting on a paused appender: it tries
	// again later.
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '1s'`); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
			INSERT INTO lesson_leases AS l (lesson_id, owner, epoch, expires_at)
			VALUES ($1, $2, 1, now() + $3::interval)
			ON CONFLICT (lesson_id) DO UPDATE SET owner = $2, epoch = l.epoch + 1, expires_at = now() + $3::interval
				WHERE l.expires_at <= now() OR (split_part(l.owner, '/', 1) = split_part($2, '/', 1) AND l.owner <> $2)
					OR (l.owner <> $2 AND pg_postmaster_start_time() < now() - $5::interval AND NOT EXISTS (
						SELECT FROM pg_locks WHERE locktype = 'advisory'
							AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND classid = $4::int4::oid
							AND objid = hashtext(l.owner)::oid AND objsubid = 2 AND granted))
			RETURNING owner, epoch, expires_at`, lesson, l.self, l.ttl, lifeLockClass, lifeRelock).Scan(&ls.Owner, &ls.Epoch, &ls.Expires)
	})
	if err == nil {
		return ls, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Lease{}, false, fmt.Errorf("cluster: acquire lease of %s: %w", lesson, err)
	}
	// Held by someone, perhaps this node.
	if err := l.pool.QueryRow(ctx, `SELECT owner, epoch, expires_at FROM lesson_leases WHERE lesson_id = $1`, lesson).
		Scan(&ls.Owner, &ls.Epoch, &ls.Expires); err != nil {
		return Lease{}, false, fmt.Errorf("cluster: read lease of %s: %w", lesson, err)
	}
	return ls, ls.Owner == l.self, nil
}

// Renew moves the lease's expiry ttl past now. It fails with ErrLeaseLost
// when the lease has another owner or epoch; an expired lease that nobody
// took is renewed (nobody appended under another epoch meanwhile).
func (l *Leases) Renew(ctx context.Context, ls Lease) (Lease, error) {
	err := l.pool.QueryRow(ctx, `
		UPDATE lesson_leases SET expires_at = now() + $4::interval
		WHERE lesson_id = $1 AND owner = $2 AND epoch = $3
		RETURNING expires_at`, ls.Lesson, ls.Owner, ls.Epoch, l.ttl).Scan(&ls.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return ls, fmt.Errorf("%w: %s at epoch %d", ErrLeaseLost, ls.Lesson, ls.Epoch)
	}
	if err != nil {
		return ls, fmt.Errorf("cluster: renew lease of %s: %w", ls.Lesson, err)
	}
	return ls, nil
}

// Release hands the lease over at once (a draining node): it expires now,
// so that the next node to ask takes it without waiting. Releasing a lease
// lost already does nothing.
func (l *Leases) Release(ctx context.Context, ls Lease) error {
	_, err := l.pool.Exec(ctx, `UPDATE lesson_leases SET expires_at = now()
		WHERE lesson_id = $1 AND owner = $2 AND epoch = $3`, ls.Lesson, ls.Owner, ls.Epoch)
	if err != nil {
		return fmt.Errorf("cluster: release lease of %s: %w", ls.Lesson, err)
	}
	return nil
}
