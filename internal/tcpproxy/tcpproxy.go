// Package tcpproxy forwards a test's TCP connections to a server through a
// listener of its own, so that a test can shape what the server sends back
// (hold it, batch it) while what the client sends goes on as it is.
package tcpproxy

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Start listens on a loopback port and forwards each connection to addr:
// the client's bytes are copied to the server as they come, and toClient
// carries the server's to the client. toClient must return once server is
// closed or fails (Start closes both ends when the test ends, and waits
// for it); its returning closes client. Start returns the proxy's address.
// The listener, every connection and every goroutine end with the test.
func Start(t testing.TB, addr string, toClient func(client, server net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		conns  []net.Conn
		closed bool
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		closed = true
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			if closed { // accepted while the test ends
				mu.Unlock()
				c.Close()
				s.Close()
				return
			}
			conns = append(conns, c, s)
			mu.Unlock()
			wg.Go(func() {
				io.Copy(s, c)
				s.Close()
			})
			wg.Go(func() {
				toClient(c, s)
				c.Close()
			})
		}
	})
	return ln.Addr().String()
}
