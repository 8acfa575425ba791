package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/realtime/protocol"
)

// catchUpBatch is how many stored events a catch-up reads before it sends them.
const catchUpBatch = 500

// delivery is what one participant's events channel carries to the client,
// in order: the catch-up the room planned when the session entered (a
// snapshot, then the stored events after it, then "live"), then the live
// messages the room queues (events, acks, refusals). One writer (run) sends
// them, pacing itself on the channel's buffered amount: above highWater it
// waits until the channel drains below lowWater, so a slow client costs the
// server bounded memory. The live queue is bounded too (liveQueue): a
// client that falls that far behind is dropped and catches up when it
// reconnects.
type delivery struct {
	srv         *Server
	lesson      uuid.UUID
	participant string      // whom it delivers to, and as what: some events
	role        domain.Role // reach only some (forParticipant)
	compress    bool        // the client takes compressed events messages
	log         *slog.Logger
	fail        func(error) // ends the session, saying why

	events *webrtc.DataChannel
	live   chan outgoing // to the writer
	opened chan struct{} // the events channel is open
	low    chan struct{} // the events channel drained below lowWater
}

// outgoing is a live message for the events channel: JSON text, or a
// compressed events message, sent binary (protocol.Deflater).
type outgoing struct {
	b      []byte
	binary bool
}

func newDelivery(srv *Server, lesson uuid.UUID, participant string, role domain.Role, compress bool, log *slog.Logger, fail func(error)) *delivery {
	return &delivery{srv: srv, lesson: lesson, participant: participant, role: role, compress: compress, log: log, fail: fail,
		live: make(chan outgoing, liveQueue), opened: make(chan struct{}), low: make(chan struct{}, 1)}
}

// attach makes events the channel delivered on.
func (d *delivery) attach(events *webrtc.DataChannel) {
	d.events = events
	events.SetBufferedAmountLowThreshold(lowWater)
	events.OnBufferedAmountLow(func() {
		select {
		case d.low <- struct{}{}:
		default:
		}
	})
	events.OnOpen(func() { close(d.opened) })
}

// enqueue queues a live message for the writer. It reports false, and
// queues nothing, when the client is liveQueue messages behind.
func (d *delivery) enqueue(m outgoing) bool {
	select {
	case d.live <- m:
		return true
	default:
		return false
	}
}

// run sends the catch-up once the channel opens, then live messages, until
// ctx ends or the channel fails.
func (d *delivery) run(ctx context.Context, plan catchUp) {
	select {
	case <-d.opened:
	case <-ctx.Done():
		return
	}
	d.log.Debug("events channel open")
	if err := d.sendCatchUp(ctx, plan); err != nil {
		if ctx.Err() == nil {
			d.log.Warn("catch-up failed", "err", err)
			d.fail(domain.Errorf(domain.CodeUnavailable, "could not send the lesson's history; reconnect"))
		}
		return
	}
	for {
		select {
		case m := <-d.live:
			if err := d.send(ctx, m.b, !m.binary); err != nil {
				return
			}
			if m.binary {
				d.srv.metrics.sentCompressed()
			}
		case <-ctx.Done():
			return
		}
	}
}

func (d *delivery) sendText(ctx context.Context, b []byte) error { return d.send(ctx, b, true) }

// send sends one message on the events channel, as text or binary, once
// the channel's buffer is below highWater.
func (d *delivery) send(ctx context.Context, b []byte, text bool) error {
	for d.events.BufferedAmount() > highWater {
		select {
		case <-d.low:
		case <-time.After(time.Second): // in case the low mark fired before we waited
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var err error
	if text {
		err = d.events.SendText(string(b))
	} else {
		err = d.events.Send(b)
	}
	if err != nil {
		d.fail(domain.Errorf(domain.CodeUnavailable, "the events channel failed; reconnect"))
		return err
	}
	d.srv.metrics.sent(protocol.EventsChannel, len(b))
	return nil
}

// sendCatchUp sends what the client missed: the snapshot when the plan has
// one, the stored events after plan.from up to plan.seq, then "live".
func (d *delivery) sendCatchUp(ctx context.Context, plan catchUp) error {
	if plan.snapshot != nil {
		snap, err := d.snapshotFor(plan.snapshot)
		if err != nil {
			return err
		}
		plan.snapshot = snap
		// A header, then the state's JSON as it is, in binary parts: no
		// escaping into strings, and the client parses it once.
		parts := chunks(plan.snapshot, protocol.MaxChunkBytes)
		b, err := json.Marshal(protocol.Message{Type: protocol.TypeSnapshot, Seq: plan.from,
			Parts: len(parts), Size: len(plan.snapshot)})
		if err != nil {
			return err
		}
		if err := d.sendText(ctx, b); err != nil {
			return err
		}
		for _, part := range parts {
			if err := d.send(ctx, part, false); err != nil {
				return err
			}
		}
	}
	if plan.seq > plan.from {
		var batch []domain.Event
		var err error
		var deflater *protocol.Deflater
		if d.compress {
			deflater = d.srv.takeDeflater()
			defer d.srv.giveDeflater(deflater)
		}
		for e, readErr := range d.srv.cfg.Store.Events(ctx, d.lesson, plan.from) {
			if readErr != nil {
				return readErr
			}
			if e.Seq > plan.seq {
				break
			}
			if batch = append(batch, e); len(batch) == catchUpBatch {
				if err = d.sendBatch(ctx, batch, deflater); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		if err = d.sendBatch(ctx, batch, deflater); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(protocol.Message{Type: protocol.TypeLive, Seq: plan.seq})
	return d.sendText(ctx, b)
}

// snapshotFor returns the snapshot as the participant may be sent it: a
// student is sent of anonymous polls only their own answers, and of
// breakout groups only their own group's chat (domain.State.ForStudent).
// A quote inside a JSON string is escaped, so a snapshot without the bytes
// "anonymous":true has no anonymous poll, and one whose last field,
// breakout, holds no "chat":[ has no group's chat.
func (d *delivery) snapshotFor(snap []byte) ([]byte, error) {
	if d.role != domain.RoleStudent || !bytes.Contains(snap, []byte(`"anonymous":true`)) && !groupChatIn(snap) {
		return snap, nil
	}
	st, err := domain.RestoreSnapshot(snap)
	if err != nil {
		return nil, err
	}
	mine := st.ForStudent(d.participant)
	if mine == st {
		return snap, nil
	}
	return mine.MarshalSnapshot()
}

// groupChatIn reports whether a snapshot's breakout groups have chat lines.
func groupChatIn(snap []byte) bool {
	i := bytes.LastIndex(snap, []byte(`,"breakout":`))
	return i >= 0 && bytes.Contains(snap[i:], []byte(`"chat":[`))
}

// sendBatch sends stored events of the catch-up, compressed for a client
// that takes compressed messages (deflater, the catch-up's own).
func (d *delivery) sendBatch(ctx context.Context, events []domain.Event, deflater *protocol.Deflater) error {
	msgs := encodeEvents(forParticipant(events, d.participant, d.role), d.log)
	var packed [][]byte
	if d.compress {
		packed = packEvents(deflater, msgs)
	}
	for i, b := range msgs {
		var err error
		if packed != nil && packed[i] != nil {
			if err = d.send(ctx, packed[i], false); err == nil {
				d.srv.metrics.sentCompressed()
			}
		} else {
			err = d.sendText(ctx, b)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// packEvents compresses events messages with deflater, one for one: nil
// where compressing would not make a message smaller.
func packEvents(deflater *protocol.Deflater, msgs [][]byte) [][]byte {
	packed := make([][]byte, len(msgs))
	for i, b := range msgs {
		packed[i] = deflater.Deflate(b)
	}
	return packed
}

// keptDeflaters is how many compressors of ended catch-ups the server keeps
// for the next ones: each holds about 800 KB, which a catch-up allocated
// anew, for a handful of messages, every time a client joined.
const keptDeflaters = 4

// takeDeflater returns a compressor for a catch-up: one an ended catch-up
// gave back, or a new one.
func (s *Server) takeDeflater() *protocol.Deflater {
	select {
	case d := <-s.deflaters:
		return d
	default:
		return new(protocol.Deflater)
	}
}

// giveDeflater keeps a catch-up's compressor for the next, unless
// keptDeflaters are kept already.
func (s *Server) giveDeflater(d *protocol.Deflater) {
	select {
	case s.deflaters <- d:
	default:
	}
}

// chunks cuts b into pieces of at most n bytes.
func chunks(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return append(out, b)
}
