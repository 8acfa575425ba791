package realtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"classroom/domain"
	"classroom/realtime/protocol"
)

// signaling is a session's WebSocket. Signals to the client wait in a queue
// that one writer goroutine (write) empties, with a ping every pingEvery;
// the session's own goroutine reads. Sending never blocks: a client that
// lets the queue fill up, or a socket that fails, ends the session.
type signaling struct {
	ws     *websocket.Conn
	cancel context.CancelFunc // ends the session

	queue chan protocol.Signal // to the writer; closed by close

	// mu orders send with close: pion's callbacks and the negotiator may
	// still signal while the session ends.
	mu     sync.Mutex
	closed bool
	log    *slog.Logger
}

func newSignaling(ws *websocket.Conn, log *slog.Logger, cancel context.CancelFunc) *signaling {
	return &signaling{ws: ws, log: log, cancel: cancel, queue: make(chan protocol.Signal, signalQueue)}
}

// named says, in the log, whose socket this is, once the join has told.
func (g *signaling) named(participant string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.log = g.log.With("participant", participant)
}

// send queues a signal for the writer; it never blocks. Once the session has
// ended it drops the signal.
func (g *signaling) send(sig protocol.Signal) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	select {
	case g.queue <- sig:
	default:
		g.log.Warn("signaling queue full; dropping the session")
		g.cancel()
	}
}

// close ends the queue: the writer sends what it holds, then a close frame, and stops.
func (g *signaling) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	close(g.queue)
}

// write is the WebSocket's one writer: queued signals and pings, until close.
func (g *signaling) write() {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case sig, ok := <-g.queue:
			if !ok {
				g.ws.SetWriteDeadline(time.Now().Add(writeWait))
				g.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
				return
			}
			g.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := g.ws.WriteJSON(sig); err != nil {
				g.cancel()
				g.drain()
				return
			}
		case <-ping.C:
			if err := g.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				g.cancel()
				g.drain()
				return
			}
		}
	}
}

// drain empties the queue after the socket failed, until close.
func (g *signaling) drain() {
	for range g.queue {
	}
}

// read reads one signal, waiting until deadline at the most.
func (g *signaling) read(ctx context.Context, deadline time.Time) (protocol.Signal, error) {
	g.ws.SetReadDeadline(deadline)
	if ctx.Err() != nil { // killed before the deadline was set: kill's own deadline was overwritten
		return protocol.Signal{}, ctx.Err()
	}
	kind, b, err := g.ws.ReadMessage()
	if errors.Is(err, websocket.ErrReadLimit) {
		// The socket is unusable now (the client is sent close code 1009,
		// message too big): say why the session ends, which the client
		// cannot be told in a signal any more.
		g.log.Warn("a signal over the size limit ends the session", "limit", protocol.MaxSignalBytes)
	}
	if err != nil {
		return protocol.Signal{}, err
	}
	if kind != websocket.TextMessage {
		return protocol.Signal{}, domain.Errorf(domain.CodeInvalid, "signals are JSON text messages")
	}
	return protocol.DecodeSignal(b)
}

// keepAlive extends the read deadline by pongWait at every pong, until ctx ends.
func (g *signaling) keepAlive(ctx context.Context) {
	g.ws.SetPongHandler(func(string) error {
		if err := ctx.Err(); err != nil {
			return err // ending: do not extend the read
		}
		return g.ws.SetReadDeadline(time.Now().Add(pongWait))
	})
}

// refuse answers a WebSocket with an error and closes it.
func refuse(ws *websocket.Conn, err error) { refuseSignal(ws, errorSignal(err)) }

// refuseSignal sends a refusal and closes the WebSocket.
func refuseSignal(ws *websocket.Conn, sig protocol.Signal) {
	ws.SetWriteDeadline(time.Now().Add(writeWait))
	ws.WriteJSON(sig)
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	ws.Close()
}

// errorSignal is the error signal of err: its code, reason and message,
// and the server's protocol version when the client's is refused.
func errorSignal(err error) protocol.Signal {
	sig := protocol.Signal{Type: protocol.SignalError, Code: domain.ErrorCode(err), Reason: domain.ErrorReason(err),
		Message: domain.ErrorMessage(err)}
	if sig.Reason == domain.ReasonIncompatible {
		sig.Version = protocol.Version
	}
	return sig
}
