package realtime

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"classroom/domain"
)

// Node links. A node serving participants of a lesson that another node
// decides (a follower) opens one WebSocket to the owner per lesson, over the
// owner's internal address, signed with the node key (package cluster). On
// it the follower forwards its participants' joins, commands and leaves,
// each naming the session by a key the follower chose, and the owner
// answers: joined (or refused), the ack or refusal of each command, left,
// and kill when it ends a session (the participant joined elsewhere, the
// owner is going away). The owner also sends the events it stored, as soon
// as they are; a follower delivers them when they follow what it has, and
// otherwise reads the log, which every node follows too.

// Link message types.
const (
	linkJoin    = "join"    // follower → owner: a session joins (participant, role, name)
	linkCommand = "command" // follower → owner: a session's command (id, the client's raw message)
	linkLeave   = "leave"   // follower → owner: a session left
	linkJoined  = "joined"  // owner → follower: the join was taken, refused (code), or waits in the lobby (waiting)
	linkAck     = "ack"     // owner → follower: the command was stored as seq
	linkRefused = "refused" // owner → follower: the command was refused (code, reason, message)
	linkLeft    = "left"    // owner → follower: the leave is stored (or was not needed)
	linkKill    = "kill"    // owner → follower: end the session, saying why
	// Both ways: a participant's cursor or stroke preview (the ephemeral
	// channel's message, its actor set; participant names the actor), for
	// the participants of the other nodes on the actor's board; the owner
	// passes a follower's on to the other followers.
	linkEphemeral = "ephemeral"
	// Owner → follower: events the owner stored, as soon as they are, so
	// that the follower need not wait for the log's notification and read
	// them back (it still follows the log, which fills any gap).
	linkEvents = "events"
	// Owner → follower: the lobby's answer to a join that waits: no code
	// when the student may now enter (the follower joins again, under a new
	// key), else why not.
	linkLobby = "lobby"
)

// A link is pinged every linkPing; a link that brings nothing (not even a
// pong) for linkTimeout is taken for dead: its far end was killed or is
// paused, though its socket stays open.
const (
	linkPing    = 500 * time.Millisecond
	linkTimeout = 2 * time.Second
)

// linkQueue bounds the messages waiting for a link's writer; a link that
// cannot keep up is closed, and its sessions reconnect.
const linkQueue = 8192

// linkMsg is one message on a node link.
type linkMsg struct {
	Type        string          `json:"type"`
	Key         string          `json:"key"`
	Participant string          `json:"participant,omitempty"`
	Role        domain.Role     `json:"role,omitempty"`
	Name        string          `json:"name,omitempty"`
	ID          uuid.UUID       `json:"id,omitzero"`
	Command     json.RawMessage `json:"command,omitempty"`
	Limited     bool            `json:"limited,omitempty"`
	Waiting     bool            `json:"waiting,omitempty"`
	Seq         int64           `json:"seq,omitempty"`
	Code        domain.Code     `json:"code,omitempty"`
	Reason      domain.Reason   `json:"reason,omitempty"`
	Message     string          `json:"message,omitempty"`
	Ephemeral   json.RawMessage `json:"ephemeral,omitempty"`
	Events      json.RawMessage `json:"events,omitempty"` // a JSON array of events
}

// withErr sets the message's error fields from err.
func (m linkMsg) withErr(err error) linkMsg {
	m.Code, m.Reason, m.Message = domain.ErrorCode(err), domain.ErrorReason(err), domain.ErrorMessage(err)
	return m
}

// err returns the error a message carries, or nil.
func (m linkMsg) err() error {
	if m.Code == "" {
		return nil
	}
	return domain.Errorf(m.Code, "%s", m.Message).Because(m.Reason)
}

// nodeLink is one end of a node link: one writer goroutine (write) empties
// its queue; its owner reads. send never blocks.
type nodeLink struct {
	ws    *websocket.Conn
	queue chan linkMsg
	done  chan struct{} // closed by close

	mu     sync.Mutex
	closed bool
}

func newNodeLink(ws *websocket.Conn) *nodeLink {
	l := &nodeLink{ws: ws, queue: make(chan linkMsg, linkQueue), done: make(chan struct{})}
	ws.SetReadLimit(1 << 20)
	ws.SetReadDeadline(time.Now().Add(linkTimeout))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(linkTimeout)) })
	go l.write()
	return l
}

// send queues a message; on a full queue or a closed link the link closes
// (both ends then see it end) and the message is dropped.
func (l *nodeLink) send(m linkMsg) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	select {
	case l.queue <- m:
	default:
		l.closeLocked()
	}
}

func (l *nodeLink) write() {
	ping := time.NewTicker(linkPing)
	defer ping.Stop()
	for {
		select {
		case <-ping.C:
			if err := l.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(linkTimeout)); err != nil {
				l.close()
				return
			}
		case m := <-l.queue:
			l.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := l.ws.WriteJSON(m); err != nil {
				l.close()
				return
			}
		case <-l.done:
			return
		}
	}
}

// read returns the next message; an error means the link is gone.
func (l *nodeLink) read() (linkMsg, error) {
	var m linkMsg
	err := l.ws.ReadJSON(&m)
	if err == nil {
		l.ws.SetReadDeadline(time.Now().Add(linkTimeout))
	}
	return m, err
}

// close ends the link; it is safe to call more than once.
func (l *nodeLink) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closeLocked()
}

func (l *nodeLink) closeLocked() {
	if l.closed {
		return
	}
	l.closed = true
	close(l.done)
	l.ws.Close()
}

// closeOn closes the link when ctx ends.
func (l *nodeLink) closeOn(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, l.close)
}
