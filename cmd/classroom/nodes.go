package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"classroom/cluster"
	"classroom/realtime"
)

// joinNodes registers this node in the registry of the nodes sharing the
// PostgreSQL database, when -internal-url says how the others reach it;
// nil, nil when it does not (one node, or the embedded store). close
// leaves the registry.
func (c *config) joinNodes(ctx context.Context, tokenKey []byte, log *slog.Logger) (nodes *registryNodes, close func(), err error) {
	if c.internalURL == "" {
		return nil, func() {}, nil
	}
	if c.databaseURL == "" {
		return nil, nil, errors.New("-internal-url needs -database-url: nodes meet in PostgreSQL")
	}
	id := c.nodeID
	if id == "" {
		id = strings.TrimPrefix(strings.TrimPrefix(c.internalURL, "http://"), "https://")
		id = strings.NewReplacer(":", "-", "/", "").Replace(id)
	}
	pool, err := pgxpool.New(ctx, c.databaseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("node registry: %w", err)
	}
	reg, err := cluster.Join(ctx, pool, cluster.Node{ID: id, Addr: c.internalURL, Capacity: c.maxSubscribers}, cluster.Options{Logger: log})
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	log.Info("joined the nodes", "node", id, "internal_url", c.internalURL)
	return &registryNodes{reg: reg, key: cluster.LinkKey(tokenKey), self: id}, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		reg.Close(ctx)
		pool.Close()
	}, nil
}

// registryNodes are realtime's view of the node registry.
type registryNodes struct {
	reg  *cluster.Registry
	key  []byte
	self string
}

func (n *registryNodes) Self() string { return n.self }

func (n *registryNodes) SetLoad(load int) { n.reg.SetLoad(load) }

func (n *registryNodes) Peers(ctx context.Context) ([]realtime.Node, error) {
	live, err := n.reg.Live(ctx)
	var out []realtime.Node
	for _, l := range live {
		if l.ID != n.self {
			out = append(out, realtime.Node{ID: l.ID, Addr: l.Addr, Capacity: l.Capacity, Load: l.Load, Draining: l.Draining})
		}
	}
	return out, err
}

func (n *registryNodes) Sign(r *http.Request) { cluster.SignRequest(r, n.key, n.self, time.Now()) }

func (n *registryNodes) Verify(r *http.Request) (string, error) {
	return cluster.VerifyRequest(r, n.key, time.Now())
}
