package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"classroom/cluster"
	"classroom/eventstore"
	"classroom/realtime"
)

// node is this server as one of the nodes sharing a PostgreSQL database:
// its entry in the registry and its internal listener for node links.
type node struct {
	registry *cluster.Registry
	leases   *cluster.Leases
	linkKey  []byte
	ln       net.Listener
	srv      *http.Server
}

// joinCluster listens on -node-addr and registers this node.
func (c *config) joinCluster(pg *eventstore.Postgres, tokenKey []byte, log *slog.Logger) (*node, error) {
	id := c.nodeID
	if id == "" {
		id = c.defaultNodeID()
	}
	ln, err := net.Listen("tcp", c.nodeAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for other nodes: %w", err)
	}
	addr := c.nodeAdvertise
	if addr == "" {
		host, port, _ := net.SplitHostPort(ln.Addr().String())
		if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
			if host, err = os.Hostname(); err != nil {
				ln.Close()
				return nil, fmt.Errorf("name this node for the others (set -node-advertise): %w", err)
			}
		}
		addr = "http://" + net.JoinHostPort(host, port)
	}
	reg, err := cluster.Join(context.Background(), pg.Pool(), cluster.Node{ID: id, Addr: addr, Public: c.nodePublicURL, Capacity: c.maxSubscribers}, cluster.Options{Logger: log})
	if err != nil {
		ln.Close()
		return nil, err
	}
	leases := cluster.NewLeases(pg.Pool(), c.leaseTTL, id)
	if err := leases.Start(context.Background(), log); err != nil {
		reg.Close(context.Background())
		ln.Close()
		return nil, err
	}
	log.Info("joined the nodes sharing the database", "node", id, "addr", addr, "lease_ttl", c.leaseTTL)
	return &node{registry: reg, leases: leases, linkKey: cluster.LinkKey(tokenKey), ln: ln}, nil
}

// defaultNodeID names the node after its host and HTTP port, which no
// other running process shares, so that a restarted node is the same node
// and takes its lessons back at once; a random name when the host has none.
func (c *config) defaultNodeID() string {
	host, err := os.Hostname()
	_, port, perr := net.SplitHostPort(c.addr)
	if err != nil || perr != nil || host == "" || strings.ContainsAny(host, ": /") {
		b := make([]byte, 6)
		rand.Read(b)
		return "node-" + hex.EncodeToString(b)
	}
	id := host + "-" + port
	if len(id) > 64 {
		id = id[len(id)-64:]
	}
	return id
}

// cluster is what the live server needs of the node; nil without one.
func (n *node) cluster() *realtime.Cluster {
	if n == nil {
		return nil
	}
	return &realtime.Cluster{Registry: n.registry, Leases: n.leases, LinkKey: n.linkKey}
}

// serve answers other nodes' links on the internal listener.
func (n *node) serve(live *realtime.Server, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /internal/lessons/{id}/link", live.ServeLink)
	mux.HandleFunc("GET "+realtime.RelayRoute, live.ServeRelay)
	n.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := n.srv.Serve(n.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("node links", "err", err)
		}
	}()
}

// drain tells the other nodes that this one is going away, so that they
// stop linking to it while it hands its lessons over.
func (n *node) drain(log *slog.Logger) {
	if n == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := n.registry.SetDraining(ctx, true); err != nil {
		log.Warn("announce the drain", "err", err)
	}
}

// leave stops serving links, removes the node from the registry and
// releases its life lock.
func (n *node) leave(log *slog.Logger) {
	defer n.leases.Close()
	if n.srv != nil {
		n.srv.Close()
	} else {
		n.ln.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := n.registry.Close(ctx); err != nil {
		log.Warn("leave the node registry", "err", err)
	}
}
