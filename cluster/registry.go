package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Node is one server process as the registry knows it.
type Node struct {
	// ID names the node; unique among the nodes sharing the database.
	ID string
	// Addr is the node's internal base URL (for example
	// http://10.0.0.5:8444), on which other nodes reach it.
	Addr string
	// Public is the base URL participants reach the node by (its own
	// address, not a load balancer's), to which a full node sends them; empty
	// when it has none.
	Public string
	// Capacity is how much load the node takes; 0 means unbounded.
	Capacity int
	// Load is what the node counts against its capacity (subscribers or
	// participants), as it last reported.
	Load int
	// Draining is set while the node shuts down gracefully: it takes no new
	// lessons or participants.
	Draining bool
	// Seen is the database's time of the node's last heartbeat.
	Seen time.Time
}

// Options tune a Registry. Zero values take the defaults.
type Options struct {
	// Heartbeat is how often the node's row is renewed (default 1 s).
	Heartbeat time.Duration
	// Expiry is how long after its last heartbeat a node counts as dead
	// (default 5 s). It must be longer than Heartbeat.
	Expiry time.Duration
	// Logger receives the registry's logs; nil means slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Heartbeat <= 0 {
		o.Heartbeat = time.Second
	}
	if o.Expiry <= 0 {
		o.Expiry = 5 * time.Second
	}
	if o.Expiry <= o.Heartbeat {
		o.Expiry = 3 * o.Heartbeat
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// ErrUnknownNode is returned by Registry.Node for a node that is not
// registered or not alive.
var ErrUnknownNode = errors.New("cluster: no such live node")

// Registry is this node's entry in the node registry, kept alive by a
// heartbeat, and its view of the others. Its methods are safe for concurrent
// use.
type Registry struct {
	pool *pgxpool.Pool
	opts Options

	mu   sync.Mutex
	self Node

	stop context.CancelFunc
	done chan struct{}
	once sync.Once
}

// Join registers self (ID and Addr are required) and heartbeats it until ctx
// is done or Close is called. A row left by an earlier process with the same
// id is taken over.
func Join(ctx context.Context, pool *pgxpool.Pool, self Node, opts Options) (*Registry, error) {
	if self.ID == "" || len(self.ID) > 64 || strings.ContainsAny(self.ID, ": ") {
		return nil, fmt.Errorf("cluster: node id must be 1 to 64 characters without ':' or space, not %q", self.ID)
	}
	if self.Addr == "" {
		return nil, errors.New("cluster: node address is empty")
	}
	if self.Capacity < 0 || self.Load < 0 {
		return nil, errors.New("cluster: negative capacity or load")
	}
	r := &Registry{pool: pool, opts: opts.withDefaults(), self: self, done: make(chan struct{})}
	err := pool.QueryRow(ctx, `
		INSERT INTO nodes (id, addr, capacity, load, draining, public_url, started_at, seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, now(), now())
		ON CONFLICT (id) DO UPDATE SET addr = $2, capacity = $3, load = $4,
			draining = $5, public_url = $6, started_at = now(), seen_at = now()
		RETURNING seen_at`, self.ID, self.Addr, self.Capacity, self.Load, self.Draining, self.Public).Scan(&r.self.Seen)
	if err != nil {
		return nil, fmt.Errorf("cluster: register node %s: %w", self.ID, err)
	}
	hctx, cancel := context.WithCancel(ctx)
	r.stop = cancel
	go r.heartbeat(hctx)
	return r, nil
}

// heartbeat renews the node's row every Heartbeat until ctx is done. Close
// removes the row; a process that dies leaves it to expire.
func (r *Registry) heartbeat(ctx context.Context) {
	defer close(r.done)
	every(ctx, r.opts.Heartbeat, func() {
		if err := r.beat(ctx); err != nil && ctx.Err() == nil {
			r.opts.Logger.Warn("node heartbeat failed", "node", r.Self().ID, "err", err)
		}
	})
}

// beat writes the node's current load and draining flag and moves seen_at.
func (r *Registry) beat(ctx context.Context) error {
	r.mu.Lock()
	s := r.self
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, r.opts.Expiry) // later than that, the node is dead to the others anyway
	defer cancel()
	var seen time.Time
	err := r.pool.QueryRow(ctx, `
		INSERT INTO nodes (id, addr, capacity, load, draining, public_url, seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, now())
		ON CONFLICT (id) DO UPDATE SET load = $4, draining = $5, seen_at = now()
		RETURNING seen_at`, s.ID, s.Addr, s.Capacity, s.Load, s.Draining, s.Public).Scan(&seen)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.self.Seen = seen
	r.mu.Unlock()
	return nil
}

// Self returns this node as last registered.
func (r *Registry) Self() Node {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.self
}

// SetLoad records this node's load; the next heartbeat publishes it.
func (r *Registry) SetLoad(n int) {
	if n < 0 {
		n = 0
	}
	r.mu.Lock()
	r.self.Load = n
	r.mu.Unlock()
}

// SetDraining marks this node as draining (or not) and publishes it at once,
// so that other nodes stop sending it new work before it leaves.
func (r *Registry) SetDraining(ctx context.Context, draining bool) error {
	r.mu.Lock()
	r.self.Draining = draining
	r.mu.Unlock()
	return r.beat(ctx)
}

const nodeColumns = `id, addr, public_url, capacity, load, draining, seen_at`

func scanNode(row pgx.CollectableRow) (Node, error) {
	var n Node
	err := row.Scan(&n.ID, &n.Addr, &n.Public, &n.Capacity, &n.Load, &n.Draining, &n.Seen)
	return n, err
}

// Live returns the nodes seen within the expiry, this one included, ordered
// by id.
func (r *Registry) Live(ctx context.Context) ([]Node, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+nodeColumns+` FROM nodes
		WHERE seen_at > now() - $1::interval ORDER BY id`, r.opts.Expiry)
	if err != nil {
		return nil, fmt.Errorf("cluster: list nodes: %w", err)
	}
	nodes, err := pgx.CollectRows(rows, scanNode)
	if err != nil {
		return nil, fmt.Errorf("cluster: list nodes: %w", err)
	}
	return nodes, nil
}

// Node returns the live node id, or ErrUnknownNode.
func (r *Registry) Node(ctx context.Context, id string) (Node, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+nodeColumns+` FROM nodes
		WHERE id = $1 AND seen_at > now() - $2::interval`, id, r.opts.Expiry)
	if err != nil {
		return Node{}, fmt.Errorf("cluster: find node %s: %w", id, err)
	}
	n, err := pgx.CollectExactlyOneRow(rows, scanNode)
	if errors.Is(err, pgx.ErrNoRows) {
		return Node{}, fmt.Errorf("%w: %s", ErrUnknownNode, id)
	}
	if err != nil {
		return Node{}, fmt.Errorf("cluster: find node %s: %w", id, err)
	}
	return n, nil
}

// Close stops the heartbeat and removes this node's row, so that the others
// stop counting it at once instead of after the expiry. It is safe to call
// more than once.
func (r *Registry) Close(ctx context.Context) error {
	var err error
	r.once.Do(func() {
		r.stop()
		<-r.done
		_, err = r.pool.Exec(ctx, `DELETE FROM nodes WHERE id = $1`, r.self.ID)
		if err != nil {
			err = fmt.Errorf("cluster: unregister node %s: %w", r.self.ID, err)
		}
	})
	return err
}
