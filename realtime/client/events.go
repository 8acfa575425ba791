package client

import (
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/realtime/protocol"
)

// onMessage handles a text message on the events channel.
func (c *Client) onMessage(b []byte) { c.handle(b, b) }

// onBinary handles a binary message on the events channel: a part of the
// snapshot announced, or, outside a snapshot, a compressed events message
// (protocol.Deflater), which only a client of version protocol.Compressed
// or later is sent.
func (c *Client) onBinary(b []byte) {
	c.mu.Lock()
	inSnapshot := c.snapWant > 0
	c.mu.Unlock()
	if inSnapshot || c.version() < protocol.Compressed {
		c.onSnapshotPart(b)
		return
	}
	if c.opts.Batches != nil {
		if events, ok := c.opts.Batches.get(b); ok {
			c.apply(events)
			return
		}
	}
	c.inflateMu.Lock()
	msg, err := c.inflater.Inflate(b)
	c.inflateMu.Unlock()
	if err != nil {
		c.fail(err)
		return
	}
	c.handle(msg, b)
}

// handle handles message b, received as key (b itself, or b compressed):
// Batches keeps the events it decodes under key.
func (c *Client) handle(b, key []byte) {
	if c.opts.Batches != nil {
		if events, ok := c.opts.Batches.get(key); ok {
			c.apply(events)
			return
		}
	}
	var m protocol.Message
	if err := json.Unmarshal(b, &m); err != nil {
		c.fail(fmt.Errorf("malformed message: %w", err))
		return
	}
	switch m.Type {
	case protocol.TypeSnapshot:
		c.mu.Lock()
		c.snapshot, c.snapWant, c.snapSeq = make([]byte, 0, m.Size), m.Size, m.Seq
		c.mu.Unlock()
	case protocol.TypeEvents:
		events := make([]domain.Event, len(m.Events))
		for i, raw := range m.Events {
			if err := json.Unmarshal(raw, &events[i]); err != nil {
				c.fail(fmt.Errorf("malformed event: %w", err))
				return
			}
		}
		if c.opts.Batches != nil {
			c.opts.Batches.put(key, events)
		}
		c.apply(events)
	case protocol.TypeLive:
		c.mu.Lock()
		if c.state.Seq != m.Seq {
			c.failure = fmt.Errorf("live at %d, but the state is at %d", m.Seq, c.state.Seq)
		}
		select {
		case <-c.live:
		default:
			close(c.live)
		}
		c.mu.Unlock()
	case protocol.TypeAck:
		c.settle(m.ID, Answer{Seq: m.Seq})
	case protocol.TypeError:
		c.settle(m.ID, Answer{Err: &domain.Error{Code: m.Code, Reason: m.Reason, Message: m.Message}})
	default:
		c.fail(fmt.Errorf("unknown message type %q", m.Type))
	}
}

// apply folds events, received in one message, into the state in sequence
// order, and hands each to OnEvent.
func (c *Client) apply(events []domain.Event) {
	for _, e := range events {
		c.mu.Lock()
		switch {
		case e.Seq <= c.state.Seq:
			c.failure = fmt.Errorf("event %d received again (have %d)", e.Seq, c.state.Seq)
			c.mu.Unlock()
			continue
		case e.Seq != c.state.Seq+1 && c.role != domain.RoleStudent:
			// A student is not sent the events hidden from them
			// (domain.HiddenFrom): their sequence may skip.
			c.failure = fmt.Errorf("gap: event %d after %d", e.Seq, c.state.Seq)
		}
		c.state.Apply(e)
		c.mu.Unlock()
		if c.opts.OnEvent != nil {
			c.opts.OnEvent(e)
		}
	}
}

// onSnapshotPart collects the binary parts of a snapshot and restores the
// state from them once all have come.
func (c *Client) onSnapshotPart(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snapWant == 0 {
		c.failure = fmt.Errorf("a binary message without a snapshot header")
		return
	}
	c.snapshot = append(c.snapshot, b...)
	if len(c.snapshot) < c.snapWant {
		return
	}
	st, err := domain.RestoreSnapshot(c.snapshot)
	switch {
	case len(c.snapshot) > c.snapWant:
		c.failure = fmt.Errorf("snapshot of %d bytes, %d announced", len(c.snapshot), c.snapWant)
	case err != nil:
		c.failure = err
	case st.Seq != c.snapSeq:
		c.failure = fmt.Errorf("snapshot says seq %d, its state %d", c.snapSeq, st.Seq)
	default:
		c.state = st
	}
	c.snapshot, c.snapWant = nil, 0
}

func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.failure == nil {
		c.failure = err
	}
	c.mu.Unlock()
}

func (c *Client) settle(id uuid.UUID, r Answer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, cmd := range c.unacked {
		if cmd.id == id {
			c.unacked = append(c.unacked[:i], c.unacked[i+1:]...)
			break
		}
	}
	if w, ok := c.waiters[id]; ok {
		delete(c.waiters, id)
		w <- r
	}
}
