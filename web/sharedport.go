package web

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"
)

// ALPNTURN is the application protocol a TURN client may ask for over TLS
// (RFC 7443, "stun.turn").
const ALPNTURN = "stun.turn"

// sortTimeout bounds how long a new connection may take to finish its TLS
// handshake and send its first byte, before which nobody knows whose it is.
const sortTimeout = 30 * time.Second

// PortShare lets the HTTP server and the TURN relay share one listening
// port, so that a school network that lets nothing out but HTTPS still
// reaches the relay (turns:HOST:443?transport=tcp). It accepts every
// connection of the port and hands it to one of its two listeners:
//
//   - On a TLS port it makes the handshake itself, with the HTTP server's
//     configuration (and so its certificate, from files or ACME). A client
//     that negotiated ALPN "stun.turn" goes to TURN; one that negotiated an
//     HTTP protocol (h2, http/1.1, or ACME's acme-tls/1) goes to HTTP, still
//     a *tls.Conn, so HTTP/2 works as before.
//   - A client that negotiated no protocol, and every client of a plain TCP
//     port, is told apart by its first byte: a TURN client's first message is
//     a STUN request, whose first byte is 0x00 or 0x01, which no HTTP request
//     begins with. Such an HTTP connection is served as HTTP/1.1 (the request's
//     TLS field is not set for it, since the server sees a wrapped
//     connection; nothing in this server reads it).
//
// A connection that neither finishes its handshake nor sends a byte within
// sortTimeout is closed. PortShare owns the goroutines it starts; Close ends
// them, and closes the port and both listeners.
type PortShare struct {
	ln   net.Listener
	tls  *tls.Config // nil for a plain TCP port
	log  *slog.Logger
	http *shareListener
	turn *shareListener

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// SharePort starts sorting ln's connections. tlsConfig is the HTTP server's
// TLS configuration, or nil for a plain TCP port; it is cloned, with
// ALPNTURN added to its protocols. The caller serves HTTP on HTTP() and
// gives TURN() to the relay, and must Close the PortShare.
func SharePort(ln net.Listener, tlsConfig *tls.Config, log *slog.Logger) *PortShare {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &PortShare{ln: ln, log: log, ctx: ctx, cancel: cancel}
	if tlsConfig != nil {
		p.tls = tlsConfig.Clone()
		// Go's TLS server refuses a client whose protocols it lists none of,
		// so a TURN client asking for stun.turn must find it here; and it
		// picks the first of its own that the client offers, so stun.turn
		// comes first: coturn's client offers http/1.1 beside it.
		p.tls.NextProtos = append([]string{ALPNTURN}, slices.DeleteFunc(slices.Clone(p.tls.NextProtos),
			func(s string) bool { return s == ALPNTURN })...)
	}
	p.http = newShareListener(p, "http")
	p.turn = newShareListener(p, "turn")
	p.wg.Go(p.accept)
	return p
}

// HTTP returns the listener of the connections that speak HTTP.
func (p *PortShare) HTTP() net.Listener { return p.http }

// TURN returns the listener of the connections that speak TURN.
func (p *PortShare) TURN() net.Listener { return p.turn }

// TLS reports whether the shared port speaks TLS.
func (p *PortShare) TLS() bool { return p.tls != nil }

// Addr returns the shared port's address.
func (p *PortShare) Addr() net.Addr { return p.ln.Addr() }

// Close stops accepting, closes the connections not yet sorted, and waits
// for the goroutines that sort them. Connections already handed over belong
// to whoever accepted them.
func (p *PortShare) Close() error {
	var err error
	p.once.Do(func() {
		p.cancel()
		err = p.ln.Close()
		p.wg.Wait()
	})
	return err
}

func (p *PortShare) accept() {
	var delay time.Duration
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if p.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				p.http.fail(net.ErrClosed)
				p.turn.fail(net.ErrClosed)
				return
			}
			// A temporary failure (too many open files): wait and go on, as
			// http.Server does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			p.log.Warn("shared port: accept", "err", err, "retry_in", delay)
			select {
			case <-time.After(delay):
				continue
			case <-p.ctx.Done():
				continue
			}
		}
		delay = 0
		p.wg.Go(func() { p.sort(c) })
	}
}

// sort finds out whose c is and hands it over, or closes it.
func (p *PortShare) sort(c net.Conn) {
	c.SetDeadline(time.Now().Add(sortTimeout))
	stop := context.AfterFunc(p.ctx, func() { c.Close() })
	to, conn := p.classify(c)
	if !stop() || to == nil {
		conn.Close()
		return
	}
	conn.SetDeadline(time.Time{})
	to.deliver(conn)
}

// classify returns the listener c belongs to (nil when it belongs to none)
// and the connection to hand over: c itself, c under TLS, or either with its
// first byte put back.
func (p *PortShare) classify(c net.Conn) (*shareListener, net.Conn) {
	conn := c
	if p.tls != nil {
		tc := tls.Server(c, p.tls)
		if err := tc.HandshakeContext(p.ctx); err != nil {
			p.log.Debug("shared port: TLS handshake", "client", c.RemoteAddr().String(), "err", err)
			return nil, c
		}
		switch tc.ConnectionState().NegotiatedProtocol {
		case ALPNTURN:
			return p.turn, tc
		case "":
		default: // h2, http/1.1, acme-tls/1
			return p.http, tc
		}
		conn = tc
	}
	var first [1]byte
	if _, err := io.ReadFull(conn, first[:]); err != nil {
		return nil, conn
	}
	peeked := &peekedConn{Conn: conn, first: first[0], unread: true}
	if first[0] <= 0x01 { // the first byte of a STUN message
		return p.turn, peeked
	}
	return p.http, peeked
}

// peekedConn is a connection whose first byte was read to sort it, and is
// read again first.
type peekedConn struct {
	net.Conn
	mu     sync.Mutex
	first  byte
	unread bool
}

func (c *peekedConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	if c.unread && len(b) > 0 {
		b[0], c.unread = c.first, false
		c.mu.Unlock()
		return 1, nil
	}
	c.mu.Unlock()
	return c.Conn.Read(b)
}

// shareListener is one side of a PortShare: a net.Listener whose Accept
// returns the connections sorted to it.
type shareListener struct {
	p     *PortShare
	name  string
	conns chan net.Conn

	mu     sync.Mutex
	err    error         // why Accept fails, once closed
	closed chan struct{} // closed by Close or by the port's end
}

func newShareListener(p *PortShare, name string) *shareListener {
	return &shareListener{p: p, name: name, conns: make(chan net.Conn), closed: make(chan struct{})}
}

// deliver hands c to Accept, or closes it when this side is closed.
func (l *shareListener) deliver(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.closed:
		c.Close()
	}
}

// Accept implements net.Listener.
func (l *shareListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		l.mu.Lock()
		defer l.mu.Unlock()
		return nil, l.err
	}
}

// Close implements net.Listener: this side accepts no more; connections
// sorted to it from now on are closed. The port goes on serving the other
// side.
func (l *shareListener) Close() error {
	l.fail(net.ErrClosed)
	return nil
}

func (l *shareListener) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = &net.OpError{Op: "accept", Net: "tcp", Addr: l.p.ln.Addr(), Err: err}
		close(l.closed)
	}
}

// Addr implements net.Listener: the shared port's address.
func (l *shareListener) Addr() net.Addr { return l.p.ln.Addr() }
