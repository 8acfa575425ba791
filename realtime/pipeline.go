package realtime

import (
	"context"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
)

// The room's pipeline: the room decides the next batch while the store
// commits the one before it, against the state that includes the batch in
// flight. One batch is in flight at a time, so the log takes the room's
// batches in the order they were decided, and the room publishes them in
// that order. A batch's senders are answered only once it is stored. When a
// batch is not stored as decided (the store failed, refused an event, or
// gave other sequence numbers), what was decided on top of it is decided
// again against the state reloaded from the store, and so are the batch's
// own events that the store refused as decided on top of a refused one
// (each event is appended at the sequence it was decided at:
// eventstore.Store.AppendDecided): nothing decided against a state the log
// does not hold is stored or answered.
//
// What the room does outside the log (who is on the stage and muted, who
// is in which group's stage, who waits in the lobby, which streams end)
// follows the log too: publish acts on the state through the batch it
// sends, never on a decision still being stored, since that append may
// fail. The room's state holds what is decided on top of a batch in
// flight, and those effects read only its roster (domain.State.Roster): the
// first event decided on top that may change the roster copies it into the
// batch's commit. A board's stroke, a chat line, a slide change leave it as
// it was (domain.LeavesRoster), and take no copy.

// appendSpacing is the least time between the starts of two appends of a
// room: a stroke part that comes while its room stores a batch waits for
// that batch, and at most this long after its start. At 60 students
// drawing (1,260 parts a second) on SQLite, whose appends take 1–3 ms, it
// makes batches of about 7.5 events where they were 3–4.5: half the
// appends, events messages and data channel messages
// (docs/benchmarks.md). Only a batch of more than one event spaces the
// next: a sender who waits for each answer, alone in the room, is not
// slowed down.
const appendSpacing = 5 * time.Millisecond

// commit is a batch handed to the store: its events, decided in order on
// the state the batches before it left, with the commands refused among
// them (answered once it is stored, since it may be why they were refused).
type commit struct {
	pending []decided
	refused []refusal
	last    int64 // the sequence its last event should get
	// snap is the state through this batch, encoded when a snapshot was
	// due; it is saved once the batch is stored.
	snap []byte
	// through is the roster of the state through this batch, copied when
	// an event that may change it is decided on top of the batch before it
	// is stored; nil while none is, the room's state's roster being it.
	through *domain.State
	start   time.Time
	done    chan appended // the store's answer, once
}

// appended is the store's answer to an append.
type appended struct {
	seqs []int64
	errs []error
	err  error
}

// askers returns the commands a decided event answers: the one it was
// decided for and its resends that came meanwhile.
func (d decided) askers() []*submit {
	if d.origin == nil {
		return nil
	}
	return append([]*submit{d.origin}, d.resends...)
}

// decidedAs returns the decided event, pending or in flight, with the
// command id id.
func (r *Room) decidedAs(id uuid.UUID) *decided {
	for i := range r.pending {
		if r.pending[i].ev.ID == id {
			return &r.pending[i]
		}
	}
	if r.inflight != nil {
		for i := range r.inflight.pending {
			if r.inflight.pending[i].ev.ID == id {
				return &r.inflight.pending[i]
			}
		}
	}
	return nil
}

// top returns the sequence of the last event published or being stored.
func (r *Room) top() int64 {
	if r.inflight != nil {
		return r.inflight.last
	}
	return r.broadcast
}

// pipe hands the pending events to the store when no batch is in flight,
// without waiting for the commit: stored answers them when it ends. With
// nothing pending and nothing in flight, the refused commands are answered
// at once, having been decided against the stored state.
//
// After a batch of more than one event, the next append starts
// appendSpacing after it at the soonest (flush excepted): under load, what
// is decided meanwhile goes in the next batch, so a busy room stores and
// publishes fewer, larger batches (spaced arms the wake-up).
func (r *Room) pipe(ctx context.Context) {
	if r.inflight != nil || r.fenced || r.state == nil {
		return
	}
	if len(r.pending) == 0 {
		refused := r.refused
		r.refused = nil
		r.answerRefused(ctx, refused)
		return
	}
	now := r.clock()
	if wait := appendSpacing - now.Sub(r.lastAppend); wait > 0 && r.lastBatch > 1 && !r.flushing {
		if r.spaced == nil {
			r.spaced = time.After(wait)
		}
		return
	}
	r.spaced = nil
	c := &commit{pending: r.pending, refused: r.refused, start: time.Now(), done: make(chan appended, 1)}
	r.lastAppend, r.lastBatch = now, len(c.pending)
	r.pending, r.refused = nil, nil
	events := make([]domain.Event, len(c.pending))
	for i, d := range c.pending {
		events[i] = d.ev
	}
	c.last = events[len(events)-1].Seq
	if r.sinceSnap+len(events) >= r.srv.cfg.SnapshotEvery && !r.saving.Load() {
		// The state holds this batch and nothing after it: the snapshot
		// is of the log as it will be once the batch is stored.
		b, err := r.state.MarshalSnapshot()
		if err != nil {
			r.srv.log.Error("encode snapshot", "lesson", r.lesson, "err", err)
		}
		c.snap = b
	}
	r.inflight = c
	// The room owns this goroutine: it waits for its answer before it
	// stores anything else, and before it lets go of its lease (abandon).
	go func() {
		seqs, errs, err := r.append(ctx, events)
		c.done <- appended{seqs, errs, err}
	}()
}

// flush stores every pending event and waits for it: once it returns, the
// room's state is what the store holds (or nil, when it could not be
// reloaded), and every command decided so far is answered.
func (r *Room) flush(ctx context.Context) {
	was := r.flushing // a flush within a flush (stored may leave absent students)
	r.flushing = true
	defer func() { r.flushing = was }()
	r.pipe(ctx)
	for r.inflight != nil {
		c := r.inflight
		r.stored(ctx, c, <-c.done)
	}
}

// stored handles the store's answer to the batch in flight: it sends the
// events to everyone and answers their senders, then hands the next batch
// to the store.
//
// No command whose event may be in the log is given a final refusal: when
// the store fails as a whole (some events may have been stored), the
// sessions that sent them are ended with a retryable error, and their
// clients resend the commands, with the same ids, once reconnected.
func (r *Room) stored(ctx context.Context, c *commit, res appended) {
	r.inflight = nil
	if res.err == nil && r.staleDecider(res.errs) {
		// Nothing of this lesson was stored: another node decides it now.
		// The senders resend to it once reconnected; retire ends the
		// sessions of what was decided on top.
		r.fenced = true
		r.endAskers(c, errMoved, false)
		r.refused = append(c.refused, r.refused...)
		// The state holds this batch and what was decided on top, none of
		// which the log holds: nothing acts on it (a request handled
		// after a flush finds no state and is told the lesson moved).
		r.state = nil
		return
	}
	if res.err != nil {
		why := domain.Errorf(domain.CodeUnavailable, "the lesson's log did not answer; reconnect")
		r.endAskers(c, why, true)
		r.reload(ctx) // drop what was applied in advance
		r.dropUnstoredWaits(c, why)
		ended := r.state != nil && r.state.Status == domain.StatusEnded
		r.redecide(ctx, c.refused)
		// A join or leave of this batch may have been stored all the same:
		// look for the present with no session again, later.
		r.armAbsent()
		r.pipe(ctx)
		if ended {
			r.leaveAbsent(ctx, true)
		}
		return
	}
	events := make([]domain.Event, len(c.pending))
	asExpected, stored := true, 0
	for i, d := range c.pending {
		events[i] = d.ev
		if res.errs[i] != nil || res.seqs[i] != d.ev.Seq {
			asExpected = false
		} else {
			stored++
		}
	}
	// Only what this call stored: not the refused, not those refused as
	// stale (counted when decided again and stored), not a resend answered
	// with the seq it had.
	r.srv.metrics.appendedEvents(stored, time.Since(c.start).Seconds())
	for i, d := range c.pending {
		if d.joiner != nil && res.errs[i] != nil && !eventstore.IsStale(res.errs[i]) {
			// A participant whose join is not in the log would have every
			// command refused, and a student whose wait is not would be
			// told by the lobby that the teacher sent them away: end the
			// session before anything is published, so that it joins again.
			r.srv.log.Error("storing a join", "lesson", r.lesson, "participant", d.joiner.participant, "kind", d.ev.Kind(), "err", res.errs[i])
			r.drop(d.joiner, domain.Errorf(domain.CodeUnavailable, "your join could not be stored; reconnect"))
			r.armAbsent()
		}
	}
	ended := false // whether the log now says the lesson has ended
	if asExpected {
		through := c.through
		if through == nil {
			through = r.state // nothing decided on top of it changed its roster
		}
		r.publish(events, through)
		r.saveSnapshot(c)
		ended = through.Status == domain.StatusEnded
	} else {
		r.srv.log.Info("the store took a batch otherwise than decided; reloading", "lesson", r.lesson, "events", len(events))
		r.reload(ctx)
		ended = r.state != nil && r.state.Status == domain.StatusEnded
		// The events the store refused as decided on top of a refused one
		// (or on a state its log does not hold) are decided again first,
		// before what was decided on top of the batch.
		var stale []decided
		for i, d := range c.pending {
			if eventstore.IsStale(res.errs[i]) {
				stale = append(stale, d)
			}
		}
		r.pending = append(stale, r.pending...)
		r.redecide(ctx, c.refused)
	}
	for i, d := range c.pending {
		switch {
		case eventstore.IsStale(res.errs[i]):
			// Decided again above: answered once that is stored.
		case res.errs[i] != nil:
			for _, s := range d.askers() {
				s.s.replyError(s.id, res.errs[i])
			}
		default:
			for _, s := range d.askers() {
				s.s.replyAck(s.id, res.seqs[i])
			}
		}
	}
	r.pipe(ctx) // the next batch commits while the refusals are looked up
	if asExpected {
		r.answerRefused(ctx, c.refused)
	}
	if ended {
		// Not on the room's state: a lesson.ended decided on top of this
		// batch may not be stored, and the leaves of those still here
		// would be, decided again on the state reloaded.
		r.leaveAbsent(ctx, true)
	}
}

// endAskers ends the sessions waiting for the answers of a batch whose
// fate is unknown or which another node refused, with why (retryable),
// and those whose join it holds. With keepWaiting, the students whose
// arrival in the lobby it holds stay: the arrival may be stored, and
// dropUnstoredWaits decides once the state is reloaded.
func (r *Room) endAskers(c *commit, why error, keepWaiting bool) {
	for _, d := range c.pending {
		for _, s := range d.askers() {
			s.s.kill(why)
		}
		if _, waiting := r.lobby[d.joiner]; d.joiner != nil && !(keepWaiting && waiting) {
			r.drop(d.joiner, why)
		}
	}
}

// dropUnstoredWaits ends, with why, the lobby sessions of the students
// whose arrival a batch of unknown fate held and the state reloaded does
// not have waiting: the teacher's list (the log) does not show them.
// Those it has waiting wait on.
func (r *Room) dropUnstoredWaits(c *commit, why error) {
	for _, d := range c.pending {
		if _, waiting := r.lobby[d.joiner]; !waiting {
			continue
		}
		if r.state == nil || !r.state.IsWaiting(d.joiner.participant) {
			r.drop(d.joiner, why)
		}
	}
}

// redecide decides again, against the state reloaded from the store, what
// was decided on top of a batch the store did not take as decided: the
// pending events and the refusals, the batch's own (refused) first. With no
// state, their sessions end as any request's does while the room reloads.
func (r *Room) redecide(ctx context.Context, refused []refusal) {
	pending := r.pending
	refused = append(refused, r.refused...)
	r.pending, r.refused = nil, nil
	for _, d := range pending {
		if d.origin != nil {
			for _, s := range d.askers() {
				if s.s.ctx.Err() == nil { // an ended session's client resends it
					r.handle(ctx, s)
				}
			}
			continue
		}
		// The room's own event (a join, a leave): decided again, or
		// dropped when the log no longer allows it.
		var (
			ev  domain.Event
			err error = domain.Errorf(domain.CodeUnavailable, "the lesson is reloading; reconnect")
		)
		if r.state != nil {
			ev, err = domain.Decide(r.state, domain.Command{ID: d.ev.ID, Actor: d.ev.Actor, Role: d.ev.Role, Payload: d.ev.Payload}, r.srv.now())
		}
		_, waiting := r.lobby[d.joiner]
		switch {
		case err == nil:
			r.queue(ev, nil)
			r.pending[len(r.pending)-1].joiner = d.joiner
		case waiting && r.state != nil && r.state.IsWaiting(d.joiner.participant):
			// The arrival was stored after all: they wait on.
		case d.joiner != nil:
			r.drop(d.joiner, domain.Errorf(domain.CodeUnavailable, "your join could not be stored; reconnect"))
		}
	}
	for _, f := range refused {
		if f.req.s.ctx.Err() == nil {
			r.handle(ctx, f.req)
		}
	}
}

// abandon waits for the batch in flight, if any, and ends the sessions
// waiting for its answers with why: the room stops, and their clients
// resend once reconnected (a stored command is acknowledged then with its
// sequence). Nothing is appended after it returns.
func (r *Room) abandon(why error) {
	c := r.inflight
	if c == nil {
		return
	}
	<-c.done
	r.inflight = nil
	r.endAskers(c, why, false)
	for _, f := range c.refused {
		f.req.s.kill(why)
	}
}

// saveSnapshot stores the snapshot a stored batch carries, in the
// background, one at a time.
func (r *Room) saveSnapshot(c *commit) {
	if c.snap == nil || !r.saving.CompareAndSwap(false, true) {
		return
	}
	r.sinceSnap = 0
	seq, b := c.last, c.snap
	r.snap, r.snapSeq = b, seq // later than a joiner's: enter flushes before catchUp
	r.snapshots.Go(func() {
		defer r.saving.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.srv.cfg.Store.SaveSnapshot(ctx, eventstore.Snapshot{Lesson: r.lesson, Seq: seq, State: b}); err != nil {
			r.srv.log.Warn("save snapshot", "lesson", r.lesson, "seq", seq, "err", err)
		}
	})
}
