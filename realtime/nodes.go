package realtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"classroom/cluster"
	"classroom/domain"
)

// Cluster makes a Server one node of several sharing a PostgreSQL store.
// Each lesson is decided by one node at a time, the holder of its lease: a
// room opened on another node follows the owner, forwarding its
// participants' joins, commands and leaves over a node link (nodelink.go)
// and delivering the lesson's events from the log.
type Cluster struct {
	Registry *cluster.Registry // this node, and where the others are
	Leases   *cluster.Leases
	// LinkKey signs and checks node links (cluster.LinkKey of the token key).
	LinkKey []byte
}

// fencedStore is the store a cluster's owners append to: an append carries
// the lease epoch and is refused once another node took the lesson over.
type fencedStore interface {
	AppendFenced(ctx context.Context, epoch int64, events ...domain.Event) ([]int64, []error, error)
}

// linkPath is where a node serves the links to the lessons it owns.
func linkPath(lesson uuid.UUID) string { return "/internal/lessons/" + lesson.String() + "/link" }

// claimRetry is how often a room that found its lesson's lease held by a
// node it cannot reach tries again.
const claimRetry = 200 * time.Millisecond

// errMoved ends a room's sessions when the room stops deciding or following
// its lesson (the lease was lost, the owner went away): they reconnect, and
// the room opened then finds the lesson's new owner.
var errMoved = domain.Errorf(domain.CodeUnavailable, "the lesson moved to another server; reconnect").Because(domain.ReasonFenced)

// claim makes the room its lesson's owner, taking the lease, or a follower
// of the owner, linked to it. A killed owner's lease is taken at once (its
// life lock is gone, cluster.Leases.Start); while the lease is held by a node
// that is alive but does not answer (paused, cut off), it tries again until
// the lease expires and it can take it. Without a cluster the room owns its
// lesson.
func (r *Room) claim(ctx context.Context) error {
	c := r.srv.cfg.Cluster
	if c == nil {
		return nil
	}
	for {
		lease, ok, err := c.Leases.Acquire(ctx, r.lesson)
		switch {
		case err != nil:
			r.srv.log.Warn("claiming a lesson", "lesson", r.lesson, "err", err)
		case ok:
			r.lease = lease
			return nil
		default:
			link, err := r.dialOwner(ctx, lease.Node())
			if err == nil {
				r.link = link
				return nil
			}
			r.srv.log.Debug("lesson owner not reachable", "lesson", r.lesson, "owner", lease.Owner, "err", err)
		}
		select {
		case <-time.After(claimRetry):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// dialOwner opens a link to the node that owns the lesson.
func (r *Room) dialOwner(ctx context.Context, owner string) (*nodeLink, error) {
	c := r.srv.cfg.Cluster
	node, err := c.Registry.Node(ctx, owner)
	if err != nil {
		return nil, err
	}
	if node.Draining {
		return nil, fmt.Errorf("node %s is draining", owner)
	}
	u := strings.Replace(strings.TrimSuffix(node.Addr, "/"), "http", "ws", 1) + linkPath(r.lesson)
	h := http.Header{}
	h.Set("Authorization", cluster.Bearer(c.LinkKey, c.Registry.Self().ID, http.MethodGet, linkPath(r.lesson), time.Now()))
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	ws, resp, err := websocket.DefaultDialer.DialContext(dctx, u, h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: %w (%s)", u, err, resp.Status)
		}
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	return newNodeLink(ws), nil
}

// keepLease renews the room's lease every third of its time to live until
// ctx ends, and reports on lost when another node took it over.
func (r *Room) keepLease(ctx context.Context, lost chan<- error) {
	c := r.srv.cfg.Cluster
	t := time.NewTicker(c.Leases.TTL() / 3)
	defer t.Stop()
	lease := r.lease
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		next, err := c.Leases.Renew(ctx, lease)
		switch {
		case errors.Is(err, cluster.ErrLeaseLost):
			lost <- err
			return
		case err != nil:
			if ctx.Err() == nil {
				r.srv.log.Warn("renewing a lesson lease", "lesson", r.lesson, "err", err)
			}
		default:
			lease = next
		}
	}
}

// releaseLease hands the lesson over at once when the room stops while it
// still owns it (its last participant left, the node drains).
func (r *Room) releaseLease() {
	c := r.srv.cfg.Cluster
	if c == nil || r.lease.Epoch == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Leases.Release(ctx, r.lease); err != nil {
		r.srv.log.Warn("releasing a lesson lease", "lesson", r.lesson, "err", err)
	}
}

// ServeLink serves GET /internal/lessons/{id}/link: a node link from a
// follower of a lesson this node owns. It answers 401 to a request not
// signed with the node key, and refuses the link (409) when this node does
// not own the lesson, so that the follower looks for the owner again.
func (s *Server) ServeLink(w http.ResponseWriter, r *http.Request) {
	from, lesson, ok := s.nodeRequest(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "the server is shutting down", http.StatusServiceUnavailable)
		return
	}
	s.sessions.Add(1)
	s.mu.Unlock()
	defer s.sessions.Done()
	ctx, cancel := context.WithCancel(s.sessionsCtx)
	defer cancel()
	room, err := s.acquireOwned(ctx, lesson)
	if err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	defer s.release(room)
	up := websocket.Upgrader{HandshakeTimeout: 10 * time.Second}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	link := newNodeLink(ws)
	defer link.close()
	defer link.closeOn(ctx)()
	room.addFollower(link)
	defer room.removeFollower(link)
	// A room that stops deciding (its lease lost) ends its links: the
	// followers then look for the lesson's new owner.
	served := make(chan struct{})
	defer close(served)
	go func() {
		select {
		case <-room.stopped:
			link.close()
		case <-served:
		}
	}()
	follower := &followerLink{srv: s, room: room, link: link, from: from, ctx: ctx, sessions: map[string]*session{}}
	follower.serve()
}

// acquireOwned is acquire for a lesson this node must own.
func (s *Server) acquireOwned(ctx context.Context, lesson uuid.UUID) (*Room, error) {
	room, err := s.acquire(ctx, lesson)
	if err != nil {
		return nil, err
	}
	if room.link != nil {
		s.release(room)
		return nil, errors.New("this node does not own the lesson")
	}
	return room, nil
}

// followerLink is the owner's end of a node link: the sessions the follower
// forwards are sessions of the owner's room, answered over the link.
type followerLink struct {
	srv      *Server
	room     *Room
	link     *nodeLink
	from     string
	ctx      context.Context
	sessions map[string]*session // by the follower's key; owned by serve
}

// serve reads the follower's messages until the link ends, then takes the
// follower's sessions out of the room without recording their leaves: the
// follower's node may be gone, and its participants come back through
// another; the room records the leaves of those who do not (armAbsent).
func (f *followerLink) serve() {
	defer func() {
		var gone []*session
		for _, s := range f.sessions {
			s.cancel()
			gone = append(gone, s)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		f.room.send(ctx, &vanish{sessions: gone})
	}()
	for {
		m, err := f.link.read()
		if err != nil {
			return
		}
		switch m.Type {
		case linkJoin:
			f.join(m)
		case linkCommand:
			f.command(m)
		case linkLeave:
			f.leave(m)
		case linkEphemeral:
			f.room.relayLinked(m, f.link)
		}
	}
}

func (f *followerLink) join(m linkMsg) {
	if old := f.sessions[m.Key]; old != nil {
		return // the same join twice
	}
	s := newRemoteSession(f.ctx, f.srv, f.room, f.link, m)
	f.sessions[m.Key] = s
	reply := make(chan enterReply, 1)
	if err := f.room.send(f.ctx, &enter{s: s, reply: reply}); err != nil {
		f.link.send(linkMsg{Type: linkJoined, Key: m.Key}.withErr(err))
		delete(f.sessions, m.Key)
		return
	}
	go func() {
		select {
		case res := <-reply:
			msg := linkMsg{Type: linkJoined, Key: m.Key, Waiting: res.wait != nil}
			if res.err != nil {
				msg = msg.withErr(res.err)
			}
			f.link.send(msg)
			if res.wait != nil {
				f.answerLobby(m.Key, res.wait)
			}
		case <-f.room.stopped: // the join may have been queued as the room stopped
			f.link.send(linkMsg{Type: linkJoined, Key: m.Key}.withErr(errRoomGone))
		case <-f.ctx.Done():
		}
	}()
}

// answerLobby passes the lobby's answer to a waiting student's join on to
// their node. The follower then leaves this join (the lesson holds no
// presence for it) and, when admitted, joins again.
func (f *followerLink) answerLobby(key string, wait <-chan error) {
	select {
	case err := <-wait:
		msg := linkMsg{Type: linkLobby, Key: key}
		if err != nil {
			msg = msg.withErr(err)
		}
		f.link.send(msg)
	case <-f.room.stopped:
	case <-f.ctx.Done():
	}
}

func (f *followerLink) command(m linkMsg) {
	s := f.sessions[m.Key]
	if s == nil {
		f.link.send(linkMsg{Type: linkKill, Key: m.Key}.withErr(domain.Errorf(domain.CodeUnavailable, "your session is not known to the lesson's server; reconnect")))
		return
	}
	id, payload, err := decodeClientCommand(m.Command)
	if err != nil {
		s.replyError(id, err)
		return
	}
	if err := f.room.send(f.ctx, &submit{s: s, id: id, payload: payload, limited: m.Limited, raw: m.Command}); err != nil {
		s.kill(err)
	}
}

func (f *followerLink) leave(m linkMsg) {
	s := f.sessions[m.Key]
	if s == nil {
		f.link.send(linkMsg{Type: linkLeft, Key: m.Key})
		return
	}
	delete(f.sessions, m.Key)
	done := make(chan struct{})
	if f.room.send(f.ctx, &exit{s: s, done: done}) != nil {
		f.link.send(linkMsg{Type: linkLeft, Key: m.Key})
		return
	}
	go func() {
		select {
		case <-done:
		case <-f.room.stopped:
		case <-f.ctx.Done():
			return
		}
		s.cancel()
		f.link.send(linkMsg{Type: linkLeft, Key: m.Key})
	}()
}

// newRemoteSession is a session of the owner's room for a participant
// served by a follower node: the room answers it over the link.
func newRemoteSession(ctx context.Context, srv *Server, room *Room, link *nodeLink, m linkMsg) *session {
	s := &session{srv: srv, lesson: room.lesson, room: room, participant: m.Participant, role: m.Role, name: m.Name,
		remote: link, linkKey: m.Key}
	s.ctx, s.cancel = context.WithCancel(ctx)
	return s
}

// vanish takes sessions out of the room without recording their leaves:
// their node link ended. The participants who do not come back within
// AbsentAfter get their leave recorded then.
type vanish struct{ sessions []*session }

func (req *vanish) do(_ context.Context, r *Room) { req.whileReloading(r, nil) }
func (req *vanish) whileReloading(r *Room, _ error) {
	for _, s := range req.sessions {
		delete(r.sessions, s)
	}
	r.updatePeers()
	r.armAbsent()
}

// addFollower counts a follower's link among those the owner's room relays
// ephemeral messages to.
func (r *Room) addFollower(l *nodeLink) {
	r.followersMu.Lock()
	defer r.followersMu.Unlock()
	var links []*nodeLink
	if old := r.followers.Load(); old != nil {
		links = slices.Clone(*old)
	}
	links = append(links, l)
	r.followers.Store(&links)
}

// removeFollower undoes addFollower.
func (r *Room) removeFollower(l *nodeLink) {
	r.followersMu.Lock()
	defer r.followersMu.Unlock()
	if old := r.followers.Load(); old != nil {
		links := slices.DeleteFunc(slices.Clone(*old), func(x *nodeLink) bool { return x == l })
		r.followers.Store(&links)
	}
}
