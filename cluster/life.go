package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// lifeLockClass is the first key of the advisory locks that say a node's
// incarnation is alive (pg_advisory_lock(lifeLockClass, hashtext(owner))):
// the second is the hash of the lease owner string. A collision with a live
// process only makes a dead owner look alive, so that its lease is taken at
// expiry as without the lock.
const lifeLockClass int32 = 0x636c6173 // "clas"

// lifeCheck is how often the life lock's connection is checked, and how
// long to wait before connecting again once it is lost.
const lifeCheck = time.Second

// lifeRelock is how long after a start of PostgreSQL (a restart drops every
// life lock) a missing life lock is not taken for a dead holder: time for
// the living nodes to reconnect and lock again.
const lifeRelock = 10 * time.Second

// Start takes this incarnation's life lock: a session-level advisory lock
// on a connection of its own, held until Close or ctx ends. PostgreSQL drops
// it when the connection closes, which the kernel does at once for a process
// that is killed, so that another node finds the lock gone and takes the
// incarnation's leases at once (Acquire) instead of at their expiry. A
// paused process keeps its connection and its lock: it is taken over at
// expiry, as is a process cut off from the database. Should the connection
// break while the process lives, Start's goroutine connects and locks again;
// meanwhile a node whose link to this one also broke may take its leases
// early, which fencing makes safe (the lease is lost, nothing stale stored).
func (l *Leases) Start(ctx context.Context, log *slog.Logger) error {
	conn, err := l.lock(ctx)
	if err != nil {
		return err
	}
	lctx, cancel := context.WithCancel(ctx)
	l.life = &life{stop: cancel, done: make(chan struct{})}
	go l.holdLife(lctx, conn, log)
	return nil
}

// Close releases the life lock (after the node handed its leases over).
// It is safe to call more than once, and without Start.
func (l *Leases) Close() {
	if l.life == nil {
		return
	}
	l.life.once.Do(func() {
		l.life.stop()
		<-l.life.done
	})
}

// life is the goroutine holding the life lock.
type life struct {
	stop context.CancelFunc
	done chan struct{}
	once sync.Once
}

// lock connects and takes the life lock.
func (l *Leases) lock(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, l.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("cluster: connect for the life lock: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, lifeLockClass, l.self); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("cluster: take the life lock of %s: %w", l.self, err)
	}
	return conn, nil
}

// holdLife checks the life lock's connection every lifeCheck and takes the
// lock again on a new one when it broke, until ctx ends; it then closes the
// connection, which releases the lock.
func (l *Leases) holdLife(ctx context.Context, conn *pgx.Conn, log *slog.Logger) {
	defer close(l.life.done)
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	every(ctx, lifeCheck, func() {
		if conn != nil {
			pctx, cancel := context.WithTimeout(ctx, lifeCheck)
			err := conn.Ping(pctx)
			cancel()
			if err == nil || ctx.Err() != nil {
				return
			}
			log.Warn("the node's life lock was lost; taking it again", "owner", l.self, "err", err)
			conn.Close(context.Background())
			conn = nil
		}
		var err error
		if conn, err = l.lock(ctx); err != nil && ctx.Err() == nil {
			log.Warn("taking the node's life lock again", "owner", l.self, "err", err)
		}
	})
}
