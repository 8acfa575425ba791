package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"classroom/cluster"
	"classroom/domain"
	"classroom/media/recorder"
	"classroom/media/sfu"
	"classroom/realtime/protocol"
)

// Limits of a room.
const (
	roomQueue     = 1024                   // requests waiting for the room's goroutine
	maxRoomBatch  = 512                    // requests decided together and appended in one call
	recentIDs     = 8192                   // event ids remembered to answer resends without the store
	resumeWindow  = 5000                   // a client this far behind or less is sent events, farther a snapshot
	joinerFold    = 1000                   // events after the snapshot a joiner is sent, at most; older, a fresh one is encoded
	maxFailedLoad = 3                      // consecutive failures to reload state before the room gives up
	reloadPause   = 500 * time.Millisecond // between two attempts to reload state
)

// Room is one live lesson on this server. Its goroutine (run) owns the
// lesson's state and sessions and is the only one that decides commands, so
// that each command is checked against the state every earlier one made.
// Commands arriving together are decided together, applied to the state in
// advance with the sequence numbers they should get, and appended in one
// call that stores each only at that number (eventstore.Store.AppendDecided);
// if the store refuses some (another server wrote to the same lesson, or
// they were decided on top of an event it refused) or gives other numbers
// (a resend matched an event this room had forgotten), the room reloads its
// state from the store instead of trusting its guess.
type Room struct {
	srv    *Server
	lesson uuid.UUID

	holders int // sessions using the room; guarded by srv.mu

	ready   chan struct{} // closed once loading ended, well or not
	loadErr error         // why loading failed; set before ready closes

	in   chan request  // *submit, *enter, *exit
	quit chan struct{} // closed by stop
	// stopped closes when the room's goroutine stops taking requests,
	// before it lets go of what it holds (its links, its lease, its
	// stage): from then on a request is answered that the room is gone,
	// and acquire opens a new room. done closes when run returns.
	stopped chan struct{}
	done    chan struct{}
	once    sync.Once

	peers atomic.Pointer[relayPeers] // the sessions, by board, for the ephemeral relay (ephemeral.go)
	// followers are the links of the nodes following this room's lesson
	// (nodes.go), for the ephemeral relay; followersMu orders their changes.
	followers   atomic.Pointer[[]*nodeLink]
	followersMu sync.Mutex

	// stage forwards the media of the teacher and of the student with the
	// floor; onStage is who the stage was last told that is.
	stage   *sfu.Stage
	onStage []string
	// relayWanted names the nodes that asked for the stage (relay.go).
	relayWanted chan string
	muted       map[string]sfu.Muted   // who the stage was last told is muted
	groups      map[string]string      // who the stage was last told is in which breakout group (groups.go)
	recallAt    time.Time              // when the groups' call back ends, zero when none counts down
	recallDue   <-chan time.Time       // fires at recallAt
	streams     map[string]domain.Role // participants with a live WHIP (teacher, on stage) or WHEP (viewer, present) stream (streams.go)
	over        chan struct{}          // closed when the lesson has ended, for its streams (streams.go)

	// Owned by run.
	recorder  *recorder.Recorder // the stage's, from its first recording
	state     *domain.State
	broadcast int64 // the last sequence sent to the sessions
	sessions  map[*session]struct{}
	lobby     map[*session]chan error // students waiting to be admitted: nil when they may enter, else why not
	pending   []decided               // decided, not yet handed to the store (pipeline.go)
	inflight  *commit                 // the batch the store is committing; nil when none
	refused   []refusal               // refused commands, answered once the store says they are not resends
	absent    <-chan time.Time        // when to record the leaves of the present with no session
	leaving   bool                    // leaveAbsent is storing leaves: it does not start again inside
	recent    map[uuid.UUID]int64
	snap      []byte // the latest snapshot encoded, for late joiners
	snapSeq   int64  // its sequence
	ring      []uuid.UUID
	ringAt    int
	sinceSnap int
	snapshots sync.WaitGroup
	saving    atomic.Bool
	deflater  protocol.Deflater // compresses what publish sends

	// The pipeline's spacing of appends (pipeline.go, appendSpacing).
	clock      func() time.Time // what it measures the spacing by: time.Now, or a test's
	lastAppend time.Time        // when the last batch was handed to the store
	lastBatch  int              // how many events it held
	spaced     <-chan time.Time // when pending may be handed to the store
	flushing   bool             // flush is storing everything pending, now

	// In a cluster (nodes.go), set by claim: the lease while the room
	// decides its lesson, or the link to the owner while it follows it.
	lease  cluster.Lease
	link   *nodeLink
	fenced bool // an append was refused as stale: the room stops deciding
	// Owned by run while following (following.go).
	forwarded map[uuid.UUID]*submit    // commands sent to the owner, by id
	held      []heldAck                // acks waiting for their event to be delivered
	joining   map[string]*enter        // joins sent to the owner, by session key
	waiting   map[string]chan error    // joins the owner holds in its lobby, by session key
	exiting   map[string]chan struct{} // leaves sent to the owner, by session key
	byKey     map[string]*session      // the sessions, by key
}

// decided is an event decided but not yet stored, and who asked for it.
type decided struct {
	ev     domain.Event
	origin *submit  // nil for the room's own events (joins, leaves)
	joiner *session // for a join or a wait in the lobby: the session that must end if it is not stored
	// resends are the same command sent again before it was stored (a
	// client that reconnected): they are answered as origin is.
	resends []*submit
}

// refusal is a command the rules refused. It may be a resend of a command
// stored before, which this room does not remember (it was opened since, or
// forgot): the store is asked before the refusal is answered.
type refusal struct {
	req *submit
	err error
}

// submit asks the room to decide a participant's command.
type submit struct {
	s       *session
	id      uuid.UUID
	payload domain.Payload
	// limited is set when the command came over its session's rate: it is
	// refused (rate_limited) unless it is a resend of a stored command,
	// which is acknowledged as any resend is.
	limited bool
	raw     []byte // the client's message, forwarded to the owner by a follower
}

// enter registers a session; the reply says how it catches up.
type enter struct {
	s     *session
	after int64
	reply chan enterReply
}

type enterReply struct {
	plan catchUp
	err  error
	// wait, when set, says that the student waits in the lobby: it yields
	// nil once they may enter again, or why they may not.
	wait <-chan error
}

// catchUp is what a joining session is sent before live events: the state
// at From when snapshot is set, then the stored events after From up to Seq.
type catchUp struct {
	snapshot []byte
	from     int64
	seq      int64
}

// exit unregisters a session; done is closed once its leave is stored.
type exit struct {
	s    *session
	done chan struct{}
}

// request is what a session asks of the room's goroutine: submit, enter or
// exit. The set is closed (its methods are unexported): each request says
// how the room does it, and how it is answered while the room has no
// state because a reload failed.
type request interface {
	do(ctx context.Context, r *Room)
	whileReloading(r *Room, err error)
}

func (req *submit) do(_ context.Context, r *Room)  { r.decide(req) }
func (req *enter) do(ctx context.Context, r *Room) { r.enter(ctx, req) }
func (req *exit) do(ctx context.Context, r *Room)  { r.exit(ctx, req) }

// A command that comes while the room reloads may be a resend of one
// stored before: it gets no final answer, its session ends, and the client
// resends it once it has reconnected.
func (req *submit) whileReloading(*Room, error) {
	req.s.kill(domain.Errorf(domain.CodeUnavailable, "the lesson is reloading; reconnect"))
}
func (req *enter) whileReloading(_ *Room, err error) { req.reply <- enterReply{err: err} }
func (req *exit) whileReloading(r *Room, _ error) {
	delete(r.sessions, req.s)
	r.updatePeers()
	close(req.done)
}

func newRoom(srv *Server, lesson uuid.UUID) *Room {
	return &Room{srv: srv, lesson: lesson, stage: sfu.NewStage(srv.log.With("lesson", lesson)).WithBatcher(srv.engine.Batcher()), ready: make(chan struct{}), in: make(chan request, roomQueue), relayWanted: make(chan string, 64),
		quit: make(chan struct{}), stopped: make(chan struct{}), done: make(chan struct{}), sessions: map[*session]struct{}{}, lobby: map[*session]chan error{},
		recent: make(map[uuid.UUID]int64, recentIDs), ring: make([]uuid.UUID, recentIDs),
		forwarded: map[uuid.UUID]*submit{}, joining: map[string]*enter{}, waiting: map[string]chan error{}, exiting: map[string]chan struct{}{},
		byKey: map[string]*session{}, clock: time.Now}
}

// finished reports whether the room's goroutine has stopped taking
// requests.
func (r *Room) finished() bool {
	select {
	case <-r.stopped:
		return true
	default:
		return false
	}
}

// stop ends the room's goroutine.
func (r *Room) stop() { r.once.Do(func() { close(r.quit) }) }

// errRoomGone answers a request the room's goroutine no longer takes.
var errRoomGone = domain.Errorf(domain.CodeUnavailable, "the lesson is no longer live on this server; reconnect")

// send hands a request to the room's goroutine, failing when the room has
// stopped or ctx ends first. A request sent just as the room stops may be
// queued and never answered: who waits for its answer waits for stopped too.
func (r *Room) send(ctx context.Context, req request) error {
	select {
	case <-r.stopped:
		return errRoomGone
	default:
	}
	select {
	case r.in <- req:
		return nil
	case <-r.stopped:
		return errRoomGone
	case <-ctx.Done():
		return ctx.Err()
	}
}

// refuseQueued marks the room stopped once its goroutine has left its loop,
// and answers the requests queued meanwhile that the room is gone. Without
// it a session that resumed through this node while the room let go of
// what it held (its owner's link ended, its lease was lost) was handed the
// stopping room and waited for ever for the answer to its join.
// Only the room's goroutine calls it; a second call does nothing.
func (r *Room) refuseQueued() {
	if r.finished() {
		return
	}
	close(r.stopped)
	for {
		select {
		case req := <-r.in:
			req.whileReloading(r, errRoomGone)
		default:
			return
		}
	}
}

func (r *Room) run(ctx context.Context) {
	defer close(r.done)
	defer r.refuseQueued() // when the room stops before its loop
	defer r.snapshots.Wait()
	defer r.stage.Close()
	if err := r.claim(ctx); err != nil {
		r.loadErr = err
		close(r.ready)
		return
	}
	defer r.releaseLease() // once nothing more is appended
	var lost chan error    // the lease was lost
	if r.lease.Epoch > 0 {
		lost = make(chan error, 1)
		leaseCtx, stopLease := context.WithCancel(ctx)
		var keeper sync.WaitGroup
		keeper.Go(func() { r.keepLease(leaseCtx, lost) })
		defer keeper.Wait()
		defer stopLease()
	}
	var fromOwner chan linkMsg // the owner's answers, closed when the link ends
	if r.link != nil {
		fromOwner = make(chan linkMsg, 256)
		readCtx, stopRead := context.WithCancel(ctx)
		var reader sync.WaitGroup
		reader.Go(func() { r.readOwner(readCtx, fromOwner) })
		defer reader.Wait()
		defer r.link.close()
		defer stopRead()
	}
	state, err := r.load(ctx)
	if err != nil {
		r.loadErr = err
		close(r.ready)
		return
	}
	r.state, r.broadcast = state, state.Seq
	// The events since the latest stored snapshot count towards the next,
	// so that no point of the log is more than SnapshotEvery events past
	// one, across restarts and failovers too.
	r.sinceSnap = int(state.Seq - r.snapSeq)
	r.updateStage(r.state)
	r.resumeRecording(ctx)
	close(r.ready)

	if r.srv.cfg.Cluster != nil {
		pullCtx, stopPulling := context.WithCancel(ctx)
		var pulling sync.WaitGroup
		pulling.Go(func() { r.pullMedia(pullCtx) })
		defer pulling.Wait()
		defer stopPulling()
	}

	// Follow the log for appends by other servers sharing the database.
	followCtx, stopFollow := context.WithCancel(ctx)
	tail := make(chan int64, 1)
	var follower sync.WaitGroup
	from := r.broadcast // read here: the room's goroutine owns it from now on
	follower.Go(func() { r.follow(followCtx, from, tail) })
	defer follower.Wait()
	defer stopFollow()

	r.armAbsent()                // then the present who did not come back left
	r.leaveAbsent(ctx, true)     // an ended lesson's, at once: none can come back
	defer r.abandon(errRoomGone) // then no append is left in flight
	defer r.refuseQueued()       // first of all once the loop ends
	failures := 0
	var retry <-chan time.Time // while the state is lost: when to reload it next
	for {
		var committed <-chan appended // the store's answer to the batch in flight
		if r.inflight != nil {
			committed = r.inflight.done
		}
		in := r.in
		if len(r.pending) >= maxRoomBatch {
			in = nil // a full batch waits for the one in flight
		}
		select {
		case <-retry:
			retry = nil
			r.reload(ctx)
		case <-r.absent:
			r.absent = nil
			r.leaveAbsent(ctx, false)
		case <-r.recallDue:
			r.recallDue = nil
			r.recalled() // the groups end below
		case res := <-committed:
			r.stored(ctx, r.inflight, res)
		case <-r.spaced:
			r.spaced = nil
			r.pipe(ctx)
		case req := <-in:
			batch := []request{req}
		gather:
			for len(batch) < maxRoomBatch {
				select {
				case req := <-r.in:
					batch = append(batch, req)
				default:
					break gather
				}
			}
			for _, req := range batch {
				r.handle(ctx, req)
			}
			r.pipe(ctx) // decided on while the store commits
		case last := <-tail:
			// The room's own appends move the log too: only a sequence
			// past what it stores is another server's.
			if r.state != nil && last > r.top() {
				r.flush(ctx) // nothing is in flight after it
				if r.state != nil && last > r.broadcast {
					r.applyOthers(ctx)
					r.rejoin(ctx)
				}
			}
		case err := <-lost:
			r.srv.log.Warn("lesson taken over by another node", "lesson", r.lesson, "err", err)
			r.retire(errMoved)
			return
		case m, ok := <-fromOwner:
			if !ok {
				r.srv.log.Info("link to the lesson's owner ended", "lesson", r.lesson)
				r.retire(errMoved)
				return
			}
			r.fromOwner(ctx, m)
		case <-r.quit:
			return
		case <-ctx.Done():
			return
		}
		if r.fenced {
			r.srv.log.Warn("lesson decided by another node; handing its sessions over", "lesson", r.lesson)
			r.retire(errMoved)
			return
		}
		// Whatever woke the room: the countdown's timer, a call back of 0
		// seconds, a teacher arriving, a state loaded after the countdown.
		r.endRecalledGroups(ctx)
		switch {
		case r.state != nil:
			failures, retry = 0, nil
		case ctx.Err() != nil:
			return // the server is stopping
		case retry == nil: // a reload failed, in a flush or on retry
			if failures++; failures >= maxFailedLoad {
				r.srv.log.Error("lesson state lost; ending its sessions", "lesson", r.lesson)
				for s := range r.sessions {
					s.kill(domain.Errorf(domain.CodeUnavailable, "the lesson's state could not be loaded; reconnect"))
				}
				return
			}
			// Requests meanwhile are answered as reloading and trigger no
			// reload of their own: the attempts stay reloadPause apart.
			retry = time.After(reloadPause)
		}
	}
}

// follow reports the lesson's last sequence whenever the store says it grew
// past after.
func (r *Room) follow(ctx context.Context, after int64, tail chan int64) {
	for {
		last, err := r.srv.cfg.Store.Wait(ctx, r.lesson, after)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.srv.log.Warn("following the lesson log", "lesson", r.lesson, "err", err)
			select {
			case <-time.After(time.Second):
				continue
			case <-ctx.Done():
				return
			}
		}
		after = last
		select { // keep only the newest
		case <-tail:
		default:
		}
		tail <- last
	}
}

// load reads the lesson's state: the latest snapshot, then the events after it.
func (r *Room) load(ctx context.Context) (*domain.State, error) {
	store := r.srv.cfg.Store
	state := domain.NewState()
	snap, err := store.LatestSnapshot(ctx, r.lesson, 0)
	switch {
	case err == nil:
		if state, err = domain.RestoreSnapshot(snap.State); err != nil {
			r.srv.log.Error("unreadable snapshot; replaying the whole log", "lesson", r.lesson, "seq", snap.Seq, "err", err)
			state = domain.NewState()
		} else {
			r.snap, r.snapSeq = snap.State, snap.Seq
		}
	case domain.ErrorCode(err) != domain.CodeNotFound:
		return nil, err
	}
	for e, err := range store.Events(ctx, r.lesson, state.Seq) {
		if err != nil {
			return nil, err
		}
		state.Apply(e)
		r.remember(e.ID, e.Seq) // a resend of it is answered without the store
	}
	if state.Status == "" {
		return nil, domain.Errorf(domain.CodeNotFound, "no lesson %s", r.lesson)
	}
	return state, nil
}

// reload replaces the room's state with the store's and sends the sessions
// the events they have not had. On failure the state is left nil.
func (r *Room) reload(ctx context.Context) {
	state, err := r.load(ctx)
	if err != nil {
		if ctx.Err() == nil { // else the server is stopping: nothing is wrong
			r.srv.log.Error("reloading the lesson", "lesson", r.lesson, "err", err)
		}
		r.state = nil
		return
	}
	r.state = state
	var missed []domain.Event
	for e, err := range r.srv.cfg.Store.Events(ctx, r.lesson, r.broadcast) {
		if err != nil {
			r.state = nil
			return
		}
		if e.Seq > state.Seq {
			break
		}
		missed = append(missed, e)
	}
	r.publish(missed, r.state)
	r.updateStage(r.state)
}

// applyOthers applies and sends the events other servers appended.
func (r *Room) applyOthers(ctx context.Context) {
	var events []domain.Event
	for e, err := range r.srv.cfg.Store.Events(ctx, r.lesson, r.broadcast) {
		if err != nil {
			r.srv.log.Warn("reading appends of other servers", "lesson", r.lesson, "err", err)
			break
		}
		r.state.Apply(e)
		events = append(events, e)
	}
	r.publish(events, r.state) // nothing is decided on top: the room flushed
}

func (r *Room) handle(ctx context.Context, req request) {
	if err := r.unsettled(); err != nil {
		req.whileReloading(r, err)
		return
	}
	req.do(ctx, r)
}

// unsettled says why the room has no state to decide on, nil when it has
// one: another node decides the lesson now (fenced), or the state is being
// reloaded. After a flush, a request checks it again before it reads the
// state: the flush may have ended either way.
func (r *Room) unsettled() error {
	switch {
	case r.fenced:
		return errMoved
	case r.state == nil:
		return domain.Errorf(domain.CodeUnavailable, "the lesson is reloading; try again")
	}
	return nil
}

// decide checks a command against the state as the commands before it left
// it, and applies it in advance with the sequence it should get.
func (r *Room) decide(req *submit) {
	if seq, ok := r.recent[req.id]; ok {
		req.s.replyAck(req.id, seq) // a resend of a stored command
		return
	}
	if d := r.decidedAs(req.id); d != nil {
		// The same command again before it is stored: answered with it.
		d.resends = append(d.resends, req)
		return
	}
	if r.link != nil {
		r.forward(req)
		return
	}
	if req.limited {
		// Not remembered: answered once the store says it is no resend
		// (answerRefused), so that a stored command never gets a final
		// refusal.
		r.refused = append(r.refused, refusal{req: req, err: domain.Errorf(domain.CodeRateLimited, "too many commands; slow down")})
		return
	}
	ev, err := domain.Decide(r.state, domain.Command{ID: req.id, Actor: req.s.participant, Role: req.s.role,
		Payload: req.payload}, r.srv.now())
	if err == nil {
		err = r.checkDeck(ev) // a deck must be uploaded before it is added
	}
	if err != nil {
		r.refused = append(r.refused, refusal{req: req, err: err})
		return
	}
	r.queue(ev, req)
}

// queue applies a decided event to the state with its expected sequence.
func (r *Room) queue(ev domain.Event, origin *submit) {
	if c := r.inflight; c != nil && c.through == nil && !domain.LeavesRoster(ev.Kind()) {
		c.through = r.state.Roster() // the roster through the batch in flight
		c.through.Seq = c.last       // not through what left it as it was on top
	}
	ev.Seq = r.state.Seq + 1
	r.state.Apply(ev)
	r.pending = append(r.pending, decided{ev: ev, origin: origin})
}

func (r *Room) enter(ctx context.Context, req *enter) {
	r.flush(ctx) // so that the state is what the store holds
	if err := r.unsettled(); err != nil {
		req.reply <- enterReply{err: err}
		return
	}
	s := req.s
	if req.after > r.broadcast {
		r.applyOthers(ctx) // the client may come from a node further on
	}
	if req.after > r.broadcast {
		req.reply <- enterReply{err: domain.Errorf(domain.CodeInvalid, "last_seq %d is past the end of the lesson (%d)", req.after, r.broadcast)}
		return
	}
	if r.link != nil {
		r.forwardJoin(req)
		return
	}
	ev, err := domain.Decide(r.state, domain.Command{ID: uuid.New(), Actor: s.participant, Role: s.role,
		Payload: &domain.ParticipantJoined{Name: s.name}}, r.srv.now())
	if domain.ErrorReason(err) == domain.ReasonWaiting {
		r.wait(req)
		return
	}
	if err != nil {
		req.reply <- enterReply{err: err}
		return
	}
	var plan catchUp
	if s.remote == nil { // a follower node catches its sessions up itself
		if plan, err = r.catchUp(req.after); err != nil {
			req.reply <- enterReply{err: err}
			return
		}
	}
	for other := range r.sessions {
		if other.participant == s.participant {
			other.kill(domain.Errorf(domain.CodeConflict, "you joined from somewhere else").Because(domain.ReasonJoinedElsewhere))
			delete(r.sessions, other)
		}
	}
	r.sessions[s] = struct{}{}
	r.updatePeers()
	req.reply <- enterReply{plan: plan}
	r.queue(ev, nil)
	r.pending[len(r.pending)-1].joiner = s
}

// catchUp plans what a session joining after seq after is sent before live
// events.
func (r *Room) catchUp(after int64) (catchUp, error) {
	plan := catchUp{from: after, seq: r.broadcast}
	if after == 0 || r.broadcast-after > resumeWindow {
		// A snapshot, then the events after it. The latest snapshot is
		// reused while at most joinerFold events are after it: encoding a
		// large lesson's state for every joiner would stall the room, and
		// a snapshot as old as the stored ones can be (the server's
		// SnapshotEvery) would leave the joiner that many events to read
		// and fold.
		if r.snap == nil || r.broadcast-r.snapSeq > joinerFold {
			b, err := r.state.MarshalSnapshot()
			if err != nil {
				r.snap = nil
				return catchUp{}, fmt.Errorf("snapshot for a late joiner: %w", err)
			}
			r.snap, r.snapSeq = b, r.broadcast
		}
		plan.snapshot, plan.from = r.snap, r.snapSeq
	}
	return plan, nil
}

func (r *Room) exit(ctx context.Context, req *exit) {
	if r.link != nil {
		r.forwardLeave(req)
		return
	}
	defer close(req.done)
	if _, waited := r.lobby[req.s]; waited {
		delete(r.lobby, req.s)
		r.leaveLobby(ctx, req.s)
		return
	}
	if _, ok := r.sessions[req.s]; !ok {
		return // replaced by a newer session of the same participant
	}
	delete(r.sessions, req.s)
	r.updatePeers()
	if r.srv.draining.Load() {
		return // the participant reconnects through another node
	}
	ev, err := domain.Decide(r.state, domain.Command{ID: uuid.New(), Actor: req.s.participant, Role: req.s.role,
		Payload: &domain.ParticipantLeft{}}, r.srv.now())
	if err != nil {
		return // not present any more
	}
	r.queue(ev, nil)
	r.flush(ctx)
}

// append stores events, each decided on top of the one before it at its
// Seq (eventstore.Store.AppendDecided), fenced by the room's lease when it
// has one: the store refuses as stale an event decided on top of one it
// refused, and stored hands it to redecide.
func (r *Room) append(ctx context.Context, events []domain.Event) ([]int64, []error, error) {
	if r.lease.Epoch > 0 {
		return r.srv.cfg.Store.(fencedStore).AppendFenced(ctx, r.lease.Epoch, events...)
	}
	if r.srv.cfg.Cluster != nil {
		// Only the lease's holder stores a lesson's decisions: a room that
		// follows never does, whatever asked it to.
		r.srv.log.Error("a room without the lesson's lease tried to store events", "lesson", r.lesson, "events", len(events))
		errs := make([]error, len(events))
		for i := range errs {
			errs[i] = domain.Errorf(domain.CodeUnavailable, "this server does not decide the lesson; reconnect")
		}
		return make([]int64, len(events)), errs, nil
	}
	return r.srv.cfg.Store.AppendDecided(ctx, events...)
}

// staleDecider reports whether the store refused an append as fenced.
func (r *Room) staleDecider(errs []error) bool {
	for _, err := range errs {
		if domain.ErrorReason(err) == domain.ReasonFenced {
			return true
		}
	}
	return false
}

// retire ends every session of a room that no longer decides or follows its
// lesson, and every request waiting for an answer, with why (retryable):
// the clients reconnect, and the room opened then finds the lesson's owner.
func (r *Room) retire(why error) {
	r.abandon(why)
	for s := range r.sessions {
		s.kill(why)
	}
	for _, d := range r.pending {
		for _, s := range d.askers() {
			s.s.kill(why)
		}
	}
	r.pending = nil
	for _, f := range r.refused {
		f.req.s.kill(why)
	}
	r.refused = nil
	r.abandonForwarded(why)
}

// leaveAbsent records the leave of the participants the state lists as
// present who have no session here: ghosts of a server killed before it
// stored their leaves, or of a failed store. When the lesson has ended
// (ended, which the caller says only when the log holds the end), it
// records the leave of everyone still present, so that an ended lesson
// lists no one as present for ever.
func (r *Room) leaveAbsent(ctx context.Context, ended bool) {
	if r.link != nil {
		return // the owner records them
	}
	if r.state == nil || r.leaving || (ended && r.state.Status != domain.StatusEnded) {
		return
	}
	here := map[string]bool{}
	for s := range r.sessions {
		here[s.participant] = true
	}
	for id, role := range r.streams {
		if role == domain.RoleViewer {
			here[id] = true // watching, without a session
		}
	}
	ids := make([]string, 0, len(r.state.Participants))
	for id, p := range r.state.Participants {
		if p.Present && (ended || !here[id]) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids) // the same log for the same state
	for _, id := range ids {
		p := r.state.Participants[id]
		left := &domain.ParticipantLeft{}
		if !here[id] {
			left.Reason = domain.LeftAbsent
		}
		ev, err := domain.Decide(r.state, domain.Command{ID: uuid.New(), Actor: id, Role: p.Role, Payload: left}, r.srv.now())
		if err != nil {
			r.srv.log.Error("recording the leave of an absent participant", "lesson", r.lesson, "participant", id, "err", err)
			continue
		}
		r.queue(ev, nil)
	}
	if len(ids) > 0 {
		// Its flush would call it again: once is enough; a leave the store
		// refused is tried again at the next flush, not in a loop.
		r.leaving = true
		r.flush(ctx)
		r.leaving = false
	}
}

// armAbsent schedules leaveAbsent for the present who have no session here
// and do not come back within AbsentAfter.
func (r *Room) armAbsent() {
	if r.link != nil {
		return // the owner records them
	}
	r.absent = time.After(r.srv.cfg.AbsentAfter)
}

// rejoin records again the join of participants with a session here whom
// another server sharing the log recorded as gone (it found them present
// with no session of its own).
func (r *Room) rejoin(ctx context.Context) {
	if r.link != nil {
		return // the owner records them
	}
	queued := false
	for s := range r.sessions {
		if p, ok := r.state.Participants[s.participant]; ok && p.Present {
			continue
		}
		ev, err := domain.Decide(r.state, domain.Command{ID: uuid.New(), Actor: s.participant, Role: s.role,
			Payload: &domain.ParticipantJoined{Name: s.name}}, r.srv.now())
		if err != nil {
			continue // the lesson has ended
		}
		r.queue(ev, nil)
		r.pending[len(r.pending)-1].joiner = s
		queued = true
	}
	if queued {
		r.flush(ctx)
	}
}

// drop ends a session the room can no longer serve, and forgets it.
func (r *Room) drop(s *session, why error) {
	s.kill(why)
	if _, ok := r.sessions[s]; ok {
		delete(r.sessions, s)
		r.updatePeers()
	}
	if answer, ok := r.lobby[s]; ok { // a student waiting to be let in
		answer <- why // read by the session, or by a follower node's link
		delete(r.lobby, s)
	}
}

// answerRefused answers the commands the rules refused: a command the log
// holds (a resend this room did not remember, which the rules refuse because
// the state holds its effect already) with an ack of its original sequence,
// any other with its refusal. One read of the store for all of them, and none
// when nothing was refused: an accepted command never waits for it.
func (r *Room) answerRefused(ctx context.Context, refused []refusal) {
	if len(refused) == 0 {
		return
	}
	ids := make([]uuid.UUID, len(refused))
	for i, f := range refused {
		ids[i] = f.req.id
	}
	stored, err := r.srv.cfg.Store.Lookup(ctx, r.lesson, ids)
	for _, f := range refused {
		switch seq, ok := stored[f.req.id]; {
		case err != nil:
			// Whether it is a resend is unknown: no final answer.
			f.req.s.kill(domain.Errorf(domain.CodeUnavailable, "the lesson's log did not answer; reconnect"))
		case ok:
			r.remember(f.req.id, seq)
			f.req.s.replyAck(f.req.id, seq)
		default:
			f.req.s.replyError(f.req.id, f.err)
		}
	}
}

// publish sends committed events, in order, to every session, encoded once,
// and acts on them outside the log: through holds the roster of the state
// through events (pipeline.go), whatever the room has decided on top of
// them since; those effects read nothing else of it.
func (r *Room) publish(events []domain.Event, through *domain.State) {
	if len(events) == 0 {
		return
	}
	// Only an anonymous answer (from the students but its author) and a
	// group's chat line (from those outside the group) are hidden from
	// anyone: most batches hold neither, and go to everyone as they are.
	// Sessions shown the same events share their messages, encoded once
	// and compressed once for all who take them.
	hides := slices.ContainsFunc(events, func(e domain.Event) bool { return domain.HiddenFrom(e, "", domain.RoleStudent) })
	shared := map[string]*audience{"": {text: encodeEvents(events, r.srv.log)}}
	for s := range r.sessions {
		shown, key := events, ""
		if hides {
			if sh := forParticipant(events, s.participant, s.role); len(sh) < len(events) {
				shown, key = sh, "shown"+seqsOf(sh) // never "", even when nothing is shown
			}
		}
		a := shared[key]
		if a == nil {
			a = &audience{text: encodeEvents(shown, r.srv.log)}
			shared[key] = a
		}
		if a.packed == nil {
			a.packed = r.pack(s, a.text)
		}
		s.deliverEvents(a.text, a.packed)
	}
	for _, e := range events {
		r.remember(e.ID, e.Seq)
	}
	r.broadcast = events[len(events)-1].Seq
	r.pushEvents(events)
	r.releaseHeld()
	r.sinceSnap += len(events)
	r.removeSessions(events)
	r.answerLobby(through)
	r.updateStage(through)
	r.recordEvents(events)
}

// audience is the events messages of a batch for the sessions shown the
// same events of it: as text, and compressed once one of them takes that.
type audience struct {
	text, packed [][]byte
}

// seqsOf names a subset of a batch by its events' sequence numbers.
func seqsOf(events []domain.Event) string {
	b := make([]byte, 0, 8*len(events))
	for _, e := range events {
		b = strconv.AppendInt(append(b, ' '), e.Seq, 10)
	}
	return string(b)
}

// pack compresses events messages for s, when s takes compressed ones
// (session.deliverEvents); nil otherwise.
func (r *Room) pack(s *session, msgs [][]byte) [][]byte {
	if !s.compress || s.remote != nil {
		return nil
	}
	return packEvents(&r.deflater, msgs)
}

// updateStage tells the stage, as st says (the state as stored), whose
// media everyone receives (the teachers present, and the student who has
// the floor), whose microphone or camera the teacher muted, which reaches
// no one, and who is in which breakout group's stage.
func (r *Room) updateStage(st *domain.State) {
	if st == nil {
		return
	}
	var on []string
	for id, p := range st.Participants {
		if p.Present && (p.Role == domain.RoleTeacher || id == st.Floor) {
			on = append(on, id)
		}
	}
	for id, role := range r.streams {
		if role == domain.RoleTeacher && st.Status != domain.StatusEnded && !slices.Contains(on, id) {
			on = append(on, id)
		}
	}
	r.endStreams(st)
	slices.Sort(on)
	if !slices.Equal(on, r.onStage) {
		r.onStage = on
		r.stage.SetOnStage(on...)
	}
	muted := map[string]sfu.Muted{}
	for id, p := range st.Participants {
		if p.AudioMuted || p.VideoMuted {
			muted[id] = sfu.Muted{Audio: p.AudioMuted, Video: p.VideoMuted}
		}
	}
	if !maps.Equal(muted, r.muted) {
		r.muted = muted
		r.stage.SetMuted(muted)
	}
	r.updateGroups(st)
}

func (r *Room) remember(id uuid.UUID, seq int64) {
	if _, ok := r.recent[id]; ok {
		r.recent[id] = seq
		return
	}
	if old := r.ring[r.ringAt]; old != uuid.Nil {
		delete(r.recent, old)
	}
	r.ring[r.ringAt] = id
	r.ringAt = (r.ringAt + 1) % len(r.ring)
	r.recent[id] = seq
}

// forParticipant returns the events a participant may be sent: all but a
// student's answers to anonymous polls, which reach the teacher and their
// author only (domain.HiddenFrom). It returns events itself when nothing is
// left out.
func forParticipant(events []domain.Event, participant string, role domain.Role) []domain.Event {
	i := slices.IndexFunc(events, func(e domain.Event) bool { return domain.HiddenFrom(e, participant, role) })
	if i < 0 {
		return events
	}
	shown := slices.Clone(events[:i])
	for _, e := range events[i:] {
		if !domain.HiddenFrom(e, participant, role) {
			shown = append(shown, e)
		}
	}
	return shown
}

// encodeEvents packs events into "events" messages of about
// protocol.MaxChunkBytes; an event larger than that goes alone.
func encodeEvents(events []domain.Event, log interface{ Error(string, ...any) }) [][]byte {
	var (
		out  [][]byte
		cur  []json.RawMessage
		size int
	)
	emit := func() {
		if len(cur) == 0 {
			return
		}
		b, err := json.Marshal(protocol.Message{Type: protocol.TypeEvents, Events: cur})
		if err != nil {
			log.Error("encode events message", "err", err)
		} else {
			out = append(out, b)
		}
		cur, size = nil, 0
	}
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			log.Error("encode event", "seq", e.Seq, "err", err)
			continue
		}
		if size+len(b) > protocol.MaxChunkBytes {
			emit()
		}
		cur = append(cur, b)
		size += len(b) + 1
	}
	emit()
	return out
}
