package realtime

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"classroom/cluster"
	"classroom/domain"
	"classroom/realtime/protocol"
)

// Capacity: a node given Config.MaxSubscribers serves at most that many
// participants' connections at once (each one subscriber of its lessons'
// media). A participant who comes when it is full is refused with reason
// node_full and the signaling URL of the live node with the most room
// (Config.Cluster's registry, whose loads are at most a heartbeat old, and
// which lists a node's public URL), which the
// clients follow; a lesson so spreads over nodes, its stage relayed to each
// (relay.go). The node that takes the participant counts exactly, so that a
// stale load can send a participant on again but never overfill a node.

// redirectWait bounds the look-up of a node with room.
const redirectWait = 2 * time.Second

// admitLoad counts a new participant's connection against the node's
// capacity, and returns the release to call when it ends; when the node is
// full, it returns a refusal instead, naming a node with room if any.
func (s *Server) admitLoad(ctx context.Context, lesson uuid.UUID) (release func(), refusal *protocol.Signal) {
	max := int64(s.cfg.MaxSubscribers)
	if n := s.load.Add(1); max > 0 && n > max {
		s.load.Add(-1)
		sig := errorSignal(domain.Errorf(domain.CodeUnavailable, "this server serves as many participants as it may").Because(domain.ReasonNodeFull))
		sig.Redirect = s.roomier(ctx, lesson)
		if sig.Redirect == "" {
			sig.Reason = ""
			sig.Message = "every server serves as many participants as it may"
		}
		return nil, &sig
	}
	s.publishLoad()
	return func() {
		s.load.Add(-1)
		s.publishLoad()
	}, nil
}

func (s *Server) publishLoad() {
	if s.cfg.Cluster != nil {
		s.cfg.Cluster.Registry.SetLoad(int(s.load.Load()))
	}
}

// roomier returns the signaling URL of lesson on the live node with the
// most room, or "" when none has any.
func (s *Server) roomier(ctx context.Context, lesson uuid.UUID) string {
	c := s.cfg.Cluster
	if c == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, redirectWait)
	defer cancel()
	peers, err := c.Registry.Live(ctx)
	if err != nil {
		s.log.Warn("capacity: list the nodes", "err", err)
	}
	var best *cluster.Node
	bestRoom := 0
	for i, n := range peers {
		if n.ID == c.Registry.Self().ID || n.Draining || n.Public == "" {
			continue
		}
		room := n.Capacity - n.Load
		if n.Capacity == 0 {
			room = 1 << 30 // unbounded
		}
		if room > bestRoom {
			best, bestRoom = &peers[i], room
		}
	}
	if best == nil {
		return ""
	}
	u := strings.TrimSuffix(best.Public, "/") + "/api/lessons/" + lesson.String() + "/ws"
	if rest, ok := strings.CutPrefix(u, "http"); ok {
		u = "ws" + rest
	}
	return u
}

// refuseFull answers a participant a full node does not take.
func (s *Server) refuseFull(w http.ResponseWriter, r *http.Request, sig *protocol.Signal) {
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	refuseSignal(conn, *sig)
}
