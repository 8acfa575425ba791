package web_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"classroom/web"
)

// bindingRequest is a STUN Binding request, as a TURN client's first
// message begins (0x00 0x01, then the magic cookie).
var bindingRequest = []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}

func selfSignedTLS(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"},
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, roots
}

// sharedPort serves HTTP on one side of a PortShare on loopback and returns
// the port's address and the TURN side.
func sharedPort(t *testing.T, cfg *tls.Config) (string, net.Listener, *web.PortShare) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := web.SharePort(ln, cfg, nil)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello over "+r.Proto)
	})}
	if cfg != nil {
		srv.TLSConfig = cfg // for HTTP/2 on the *tls.Conns handed over
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(p.HTTP()) }()
	t.Cleanup(func() {
		p.Close()
		srv.Close()
		<-done
	})
	return ln.Addr().String(), p.TURN(), p
}

// acceptTURN accepts one connection on the TURN side and returns what it
// reads first.
func acceptTURN(t *testing.T, turn net.Listener) []byte {
	t.Helper()
	type got struct {
		b   []byte
		err error
	}
	ch := make(chan got, 1)
	go func() {
		c, err := turn.Accept()
		if err != nil {
			ch <- got{err: err}
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, len(bindingRequest))
		_, err = io.ReadFull(c, b)
		ch <- got{b, err}
	}()
	select {
	case g := <-ch:
		if g.err != nil {
			t.Fatalf("TURN side: %v", g.err)
		}
		return g.b
	case <-time.After(10 * time.Second):
		t.Fatal("nothing reached the TURN side")
	}
	return nil
}

// rawGet sends a minimal HTTP/1.1 request on c and returns the body.
func rawGet(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestPortShareTLS(t *testing.T) {
	cfg, roots := selfSignedTLS(t)
	addr, turn, p := sharedPort(t, cfg)
	if !p.TLS() {
		t.Fatal("a port shared with a TLS configuration says it is not TLS")
	}

	// A client that connects and says nothing holds up nobody else.
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	// A browser: HTTP/2 by ALPN, on the *tls.Conn itself.
	h2 := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{RootCAs: roots}}}
	resp, err := h2.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello over HTTP/2.0" {
		t.Errorf("a browser's request got %q", b)
	}

	// An HTTP client that asks for no protocol (as WebSocket libraries do)
	// is told apart by its first byte.
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots})
	if err != nil {
		t.Fatal(err)
	}
	if got := rawGet(t, c); got != "hello over HTTP/1.1" {
		t.Errorf("a request without ALPN got %q", got)
	}
	c.Close()

	// TURN clients: without ALPN, with stun.turn, and with stun.turn beside
	// http/1.1 (as coturn's turnutils_uclient offers).
	for _, protos := range [][]string{nil, {web.ALPNTURN}, {web.ALPNTURN, "http/1.1"}} {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, NextProtos: protos})
		if err != nil {
			t.Fatalf("ALPN %v: %v", protos, err)
		}
		if _, err := c.Write(bindingRequest); err != nil {
			t.Fatal(err)
		}
		if got := acceptTURN(t, turn); !bytes.Equal(got, bindingRequest) {
			t.Errorf("ALPN %v: the TURN side read %x, want %x", protos, got, bindingRequest)
		}
		c.Close()
	}

	// Plain HTTP on the TLS port is not served.
	plain, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	plain.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(plain, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if b, _ := io.ReadAll(plain); strings.Contains(string(b), "hello") {
		t.Error("plain HTTP was served on the TLS port")
	}
	plain.Close()

	// Close ends both sides and the connections not yet sorted.
	p.Close()
	if _, err := turn.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("TURN side's Accept after Close: %v, want net.ErrClosed", err)
	}
	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	var ne net.Error
	if _, err := silent.Read(make([]byte, 1)); err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the silent client's connection after Close: %v, want it closed", err)
	}
}

func TestPortSharePlain(t *testing.T) {
	addr, turn, p := sharedPort(t, nil)
	if p.TLS() {
		t.Fatal("a port shared without TLS says it is TLS")
	}
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello over HTTP/1.1" {
		t.Errorf("HTTP got %q", b)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(bindingRequest)
	if got := acceptTURN(t, turn); !bytes.Equal(got, bindingRequest) {
		t.Errorf("the TURN side read %x, want %x", got, bindingRequest)
	}
	// Closing the TURN side alone leaves HTTP served.
	turn.Close()
	if resp, err := http.Get("http://" + addr + "/"); err != nil {
		t.Errorf("HTTP after the TURN side closed: %v", err)
	} else {
		resp.Body.Close()
	}
}
