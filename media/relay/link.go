package relay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
)

const (
	// maxMessage bounds one signaling message (an SDP of many tracks).
	maxMessage = 1 << 20
	// writeWait bounds one write of a signaling message.
	writeWait = 10 * time.Second
	// answerWait bounds how long an offer waits for its answer.
	answerWait = 15 * time.Second
)

// message is one signaling message between two nodes: an offer of the
// sending node, or the receiving node's answer. Descriptions are sent with
// every candidate gathered (no trickle): between servers, gathering takes
// no time.
type message struct {
	Type string `json:"type"` // "offer" or "answer"
	SDP  string `json:"sdp"`
}

// link is the WebSocket of a relay. Only the relay's goroutine writes.
type link struct {
	conn *websocket.Conn
	in   chan message // closed when the reader ends
	err  error        // why the reader ended; read after in is closed
}

func newLink(conn *websocket.Conn) *link {
	conn.SetReadLimit(maxMessage)
	l := &link{conn: conn, in: make(chan message)}
	go l.read()
	return l
}

// read hands messages to in until the WebSocket fails or is closed.
func (l *link) read() {
	defer close(l.in)
	for {
		var m message
		if err := l.conn.ReadJSON(&m); err != nil {
			l.err = err
			return
		}
		l.in <- m
	}
}

// close closes the WebSocket and waits for the reader, draining what it
// still hands over.
func (l *link) close() {
	l.conn.Close()
	for range l.in {
	}
}

func (l *link) write(m message) error {
	l.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return l.conn.WriteJSON(m)
}

// next returns the next message, or why there is none.
func (l *link) next(ctx context.Context, ended <-chan struct{}) (message, error) {
	select {
	case m, ok := <-l.in:
		if !ok {
			return message{}, fmt.Errorf("relay: the link closed: %w", l.err)
		}
		return m, nil
	case <-ended:
		return message{}, errors.New("relay: the connection failed")
	case <-ctx.Done():
		return message{}, ctx.Err()
	}
}

// describe sets a local description and returns it with every candidate.
func describe(pc *webrtc.PeerConnection, d webrtc.SessionDescription) (message, error) {
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(d); err != nil {
		return message{}, fmt.Errorf("relay: set the local %s: %w", d.Type, err)
	}
	select {
	case <-gathered:
	case <-time.After(answerWait):
		return message{}, errors.New("relay: gathering candidates took too long")
	}
	local := pc.LocalDescription()
	return message{Type: local.Type.String(), SDP: local.SDP}, nil
}

// ended returns a channel closed when pc fails or closes.
func ended(pc *webrtc.PeerConnection) <-chan struct{} {
	ch := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed {
			once.Do(func() { close(ch) })
		}
	})
	return ch
}
