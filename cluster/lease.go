package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Lease is a node's right to decide a lesson until Expires. Epoch grows at
// every change of owner: the owner appends under it (the event store's
// fenced append), and an append under an older epoch is refused.
type Lease struct {
	Lesson  uuid.UUID
	Owner   string
	Epoch   int64
	Expires time.Time // the database's clock
}

// ErrLeaseLost is returned by Renew when another node took the lease over.
var ErrLeaseLost = errors.New("cluster: lesson lease lost to another node")

// Leases takes, renews and hands over lesson leases in PostgreSQL. Times are
// the database's, so nodes' clocks need not agree.
type Leases struct {
	pool *pgxpool.Pool
	ttl  time.Duration
}

// NewLeases returns leases lasting ttl from their last renewal.
func NewLeases(pool *pgxpool.Pool, ttl time.Duration) *Leases { return &Leases{pool: pool, ttl: ttl} }

// TTL is how long a lease lasts without renewal.
func (l *Leases) TTL() time.Duration { return l.ttl }

// Acquire makes node the owner of lesson when the lesson has no lease, or
// its lease expired or was released, under the next epoch. It returns the
// lease as it stands and whether node holds it. A node's own unexpired lease
// is not taken again (ok is true, with the same epoch).
func (l *Leases) Acquire(ctx context.Context, lesson uuid.UUID, node string) (Lease, bool, error) {
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
				WHERE l.expires_at <= now()
			RETURNING owner, epoch, expires_at`, lesson, node, l.ttl).Scan(&ls.Owner, &ls.Epoch, &ls.Expires)
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
	return ls, ls.Owner == node, nil
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
