package realtime

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"classroom/cluster"
	"classroom/media/relay"
)

// Media across nodes: a node with a lesson's room pulls the lesson's stage
// from every other live node (Config.Nodes) that has the lesson, over one
// relay each (see media/relay), so that the tracks published anywhere are
// publications of its own stage, forwarded to its participants and recorded
// by its recorder. Which nodes have the lesson needs no table: a room asks
// every live node when it opens (a node without the lesson answers 404),
// and a node asked learns that the asker has the lesson and asks it back
// (pullMedia). A relay to a node whose stage has nothing on it costs one
// idle connection.

// RelayRoute is the route, under a node's internal address, of a lesson's
// relay (see ServeRelay); RelayPath is one lesson's.
const RelayRoute = "/internal/lessons/{id}/relay"

// RelayPath is the path of lesson's relay.
func RelayPath(lesson uuid.UUID) string {
	return strings.Replace(RelayRoute, "{id}", lesson.String(), 1)
}

// relayRetry is how long a broken relay waits before it is opened again,
// and a room that could not read the registry before it reads it again.
const relayRetry = time.Second

// nodeRequest checks a request another node made about lesson {id} and
// returns the node and the lesson; when it answers the request itself (not
// a cluster node: 404; not signed with the node key: 401; not a lesson id:
// 400), ok is false.
func (s *Server) nodeRequest(w http.ResponseWriter, r *http.Request) (node string, lesson uuid.UUID, ok bool) {
	c := s.cfg.Cluster
	if c == nil {
		http.Error(w, "not a cluster node", http.StatusNotFound)
		return "", uuid.Nil, false
	}
	node, err := cluster.VerifyRequest(r, c.LinkKey, time.Now())
	if err != nil {
		http.Error(w, "node request not authenticated", http.StatusUnauthorized)
		return "", uuid.Nil, false
	}
	lesson, err = uuid.Parse(r.PathValue("id"))
	if err != nil {
		http.Error(w, "not a lesson id", http.StatusBadRequest)
		return "", uuid.Nil, false
	}
	return node, lesson, true
}

// ServeRelay upgrades GET RelayPath(id) from another node to a relay of
// the lesson's stage on this node (see media/relay.Serve), while the
// lesson's room is open here; 404 when it is not.
func (s *Server) ServeRelay(w http.ResponseWriter, r *http.Request) {
	node, lesson, ok := s.nodeRequest(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	room, ok := s.rooms[lesson]
	if s.closed || !ok {
		s.mu.Unlock()
		http.Error(w, "the lesson is not live on this node", http.StatusNotFound)
		return
	}
	s.sessions.Add(1)
	s.mu.Unlock()
	defer s.sessions.Done()
	select {
	case <-room.ready:
	case <-r.Context().Done():
		return
	}
	if room.loadErr != nil || room.finished() {
		http.Error(w, "the lesson is not live on this node", http.StatusNotFound)
		return
	}
	room.wantRelay(node)
	up := websocket.Upgrader{} // a node, not a page: no origin to check
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	// The relay lasts while the room does, and ends with the server's
	// sessions: it is not one of the room's holders, or two nodes' relays
	// would keep each other's rooms open for ever.
	ctx, cancel := context.WithCancel(s.sessionsCtx)
	defer cancel()
	go func() {
		select {
		case <-room.stopped: // a room that stops relays nothing new
			cancel()
		case <-ctx.Done():
		}
	}()
	err = relay.Serve(ctx, conn, room.stage, s.relayAPI, node)
	s.log.Info("relay to a node ended", "lesson", lesson, "node", node, "err", err)
}

// pullMedia relays to this room's stage the lesson's stage on every other
// node that has it, until ctx ends. When the room opens it asks every live
// node once; afterwards it asks a node when that node asks it (ServeRelay):
// the node opened the lesson's room later. So no node polls the others, and
// whichever of two nodes opens the lesson second reaches the first (the
// room is listed before it dials). A relay that breaks while its node still
// has the lesson is opened again every relayRetry.
func (r *Room) pullMedia(ctx context.Context) {
	self := r.srv.cfg.Cluster.Registry.Self().ID
	var wg sync.WaitGroup
	defer wg.Wait()
	pulling := map[string]bool{}
	// again names the nodes that asked while their pull was still running:
	// it may be one that found no room there and is about to end, so it
	// starts again when it ends.
	again := map[string]bool{}
	ended := make(chan string)
	// start pulls from the live nodes among ids (all when nil) not pulled
	// from yet; false when the registry could not be read.
	start := func(ids map[string]bool) bool {
		peers, err := r.srv.cfg.Cluster.Registry.Live(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.srv.log.Warn("relay: list the nodes", "lesson", r.lesson, "err", err)
			}
			return false
		}
		for _, n := range peers {
			if n.ID == self || n.Draining || pulling[n.ID] || (ids != nil && !ids[n.ID]) {
				continue
			}
			pulling[n.ID] = true
			wg.Go(func() {
				r.keepPulling(ctx, n)
				select {
				case ended <- n.ID:
				case <-ctx.Done():
				}
			})
		}
		return true
	}
	var retry <-chan time.Time // while the first look at the registry failed
	if !start(nil) {
		retry = time.After(relayRetry)
	}
	for {
		select {
		case <-retry:
			retry = nil
			if !start(nil) {
				retry = time.After(relayRetry)
			}
		case id := <-r.relayWanted:
			if pulling[id] {
				again[id] = true
			} else {
				start(map[string]bool{id: true})
			}
		case id := <-ended:
			delete(pulling, id)
			if again[id] {
				delete(again, id)
				start(map[string]bool{id: true})
			}
		case <-ctx.Done():
			return
		}
	}
}

// keepPulling relays node n's stage of the lesson until n has no room of
// the lesson, n is no longer live, or ctx ends.
func (r *Room) keepPulling(ctx context.Context, n cluster.Node) {
	for {
		err := r.pullFrom(ctx, n)
		if errors.Is(err, errNotLive) || ctx.Err() != nil {
			return
		}
		r.srv.log.Info("relay from a node ended", "lesson", r.lesson, "node", n.ID, "err", err)
		select {
		case <-time.After(relayRetry):
		case <-ctx.Done():
			return
		}
		if _, err := r.srv.cfg.Cluster.Registry.Node(ctx, n.ID); err != nil {
			return
		}
	}
}

// wantRelay tells the room that node asked for its stage: that node has the
// lesson too, so the room relays that node's stage as well.
func (r *Room) wantRelay(node string) {
	select {
	case r.relayWanted <- node:
	default:
		// 64 asks already wait (not seen in any test): this one is lost,
		// and that node's stage reaches this room only once it asks again.
	}
}

// errNotLive is a node's answer that it has no room of the lesson.
var errNotLive = errors.New("the lesson is not live on that node")

// pullFrom relays node n's stage of the lesson to this room's stage until
// the relay or ctx ends.
func (r *Room) pullFrom(ctx context.Context, n cluster.Node) error {
	u := strings.TrimSuffix(n.Addr, "/") + RelayPath(r.lesson)
	if rest, ok := strings.CutPrefix(u, "http"); ok {
		u = "ws" + rest // http: to ws:, https: to wss:
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	c := r.srv.cfg.Cluster
	cluster.SignRequest(req, c.LinkKey, c.Registry.Self().ID, time.Now())
	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err := dialer.DialContext(ctx, u, req.Header)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return errNotLive
	}
	if err != nil {
		return err
	}
	r.srv.log.Info("relay from a node", "lesson", r.lesson, "node", n.ID)
	return relay.Pull(ctx, conn, r.stage, r.srv.relayAPI)
}
