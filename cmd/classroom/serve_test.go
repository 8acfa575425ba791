package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/internal/syncbuf"
	"classroom/realtime/client"
	"classroom/realtime/token"
)

// binary builds classroom once for the tests of this file.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "classroom-bin")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "classroom")
	out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return path, nil
})

// server is a running classroom process.
type server struct {
	t      testing.TB
	cmd    *exec.Cmd
	addr   string
	stderr *syncbuf.Buffer
	exited chan struct{} // closed when the process has exited
	err    error         // its exit status; set before exited closes
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func start(t testing.TB, addr string, args ...string) *server {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, addr: addr, stderr: &syncbuf.Buffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"serve", "-addr", addr, "-ice-loopback",
		"-turn-addr", "127.0.0.1:0", "-media-udp-addr", "127.0.0.1:0"}, args...)...)
	s.cmd.Env = append(os.Environ(), "DATABASE_URL=")
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.exited
		if t.Failed() {
			t.Logf("server log:\n%s", s.stderr)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not become healthy: %v\n%s", err, s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type created struct {
	ID      string
	Teacher struct{ Token string }
}

func (s *server) createLesson(title string) created {
	s.t.Helper()
	resp, err := http.Post("http://"+s.addr+"/api/lessons", "application/json", strings.NewReader(`{"title":"`+title+`"}`))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var c created
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&c) != nil {
		s.t.Fatalf("create lesson: HTTP %d", resp.StatusCode)
	}
	return c
}

func (s *server) lastSeq(id string) int64 {
	s.t.Helper()
	resp, err := http.Get("http://" + s.addr + "/api/lessons/" + id)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var l struct {
		LastSeq int64 `json:"last_seq"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&l) != nil {
		s.t.Fatalf("get lesson %s: HTTP %d", id, resp.StatusCode)
	}
	return l.LastSeq
}

// TestCrashKeepsAcknowledged: what the server acknowledged (a lesson, a chat
// message sent over the data channel) survives a SIGKILL of the server, and
// with PostgreSQL a crash-restart of the database too; a resend of the
// acknowledged command after the restart is not stored twice.
func TestCrashKeepsAcknowledged(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		testCrash(t, []string{"-data", t.TempDir()}, "")
	})
	t.Run("postgres", func(t *testing.T) {
		url := os.Getenv("DATABASE_URL")
		if url == "" {
			t.Fatal("DATABASE_URL is not set: run the tests through scripts/test, or point DATABASE_URL at a PostgreSQL")
		}
		restart := os.Getenv("CLASSROOM_TEST_PG_RESTART")
		if restart == "" {
			t.Log("CLASSROOM_TEST_PG_RESTART is not set: the database restart is not exercised")
		}
		testCrash(t, []string{"-data", t.TempDir(), "-database-url", url}, restart)
	})
}

func testCrash(t *testing.T, args []string, restartDB string) {
	addr := freeAddr(t)
	s := start(t, addr, args...)
	lesson := s.createLesson("Crash course")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := "ws://" + addr + "/api/lessons/" + lesson.ID + "/ws"
	c, err := client.Dial(ctx, client.Options{URL: url, Token: lesson.Teacher.Token, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	seq, err := c.SendID(ctx, id, &domain.ChatPosted{Text: "acknowledged"})
	if err != nil {
		t.Fatal(err)
	}
	c.Drop()

	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.exited
	if restartDB != "" {
		if out, err := exec.Command("sh", "-c", restartDB).CombinedOutput(); err != nil {
			t.Fatalf("restart PostgreSQL: %v\n%s", err, out)
		}
	}
	s = start(t, addr, args...)
	if got := s.lastSeq(lesson.ID); got < seq {
		t.Fatalf("after the crash the lesson ends at %d; %d was acknowledged", got, seq)
	}
	c, err = client.Dial(ctx, client.Options{URL: url, Token: lesson.Teacher.Token, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.SendID(ctx, id, &domain.ChatPosted{Text: "acknowledged"})
	if err != nil || again != seq {
		t.Fatalf("resend after the crash: seq %d, %v; want %d", again, err, seq)
	}
	chats := 0
	for _, m := range c.State().Chat {
		if m.Text == "acknowledged" {
			chats++
		}
	}
	if chats != 1 {
		t.Fatalf("%d copies of the acknowledged message", chats)
	}
	c.Close()

	// A graceful stop ends with status 0.
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
		if s.err != nil {
			t.Fatalf("after SIGTERM: %v\n%s", s.err, s.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the server did not stop within 15 s of SIGTERM")
	}
}

// serverCert writes a self-signed certificate for ip, which clients trust as
// its own CA (SSL_CERT_FILE), and returns the certificate's and key's files.
func serverCert(t *testing.T, dir, ip string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: ip},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.ParseIP(ip)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestServeHTTPS: with a certificate and key, the server speaks HTTPS and
// WSS only, and a client that trusts the certificate joins a lesson.
func TestServeHTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := serverCert(t, dir, "127.0.0.1")
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemBytes)
	tlsConfig := &tls.Config{RootCAs: roots}

	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "-addr", addr, "-data", dir, "-tls-cert", certFile, "-tls-key", keyFile, "-ice-loopback",
		"-turn-addr", "127.0.0.1:0", "-media-udp-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "DATABASE_URL=")
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", stderr.String())
		}
	})
	https := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	var resp *http.Response
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err = https.Get("https://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no HTTPS: %v", err)
		}
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain HTTP is served beside HTTPS")
	}
	resp, err = https.Post("https://"+addr+"/api/lessons", "application/json", strings.NewReader(`{"title":"Secure"}`))
	if err != nil {
		t.Fatal(err)
	}
	var l created
	json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{URL: "wss://" + addr + "/api/lessons/" + l.ID + "/ws",
		Token: l.Teacher.Token, Loopback: true, TLS: tlsConfig})
	if err != nil {
		t.Fatalf("join over wss: %v", err)
	}
	if _, err := c.Send(ctx, &domain.LessonStarted{}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if strings.Contains(stderr.String(), "serving plain HTTP") {
		t.Fatal("the server warned of plain HTTP while serving HTTPS")
	}
}

func TestMigrateAndUsage(t *testing.T) {
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "DATABASE_URL=")
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	if out, code := run("migrate", "-data", dir); code != 0 || !strings.Contains(out, "applied migration 1") {
		t.Fatalf("first migrate: %d %s", code, out)
	}
	if out, code := run("migrate", "-data", dir); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate: %d %s", code, out)
	}
	if _, code := run("nonsense"); code != 2 {
		t.Fatalf("unknown command exits %d, want 2", code)
	}
	if out, code := run("help"); code != 0 || !strings.Contains(out, "-database-url") {
		t.Fatalf("help: %d %s", code, out)
	}
}

// TestLongDownload: a recording and a lesson's state that a slow reader takes
// longer than the server's write timeout to read download whole through the
// real server (an httptest server has no write timeout).
func TestLongDownload(t *testing.T) {
	data := t.TempDir()
	// A lesson whose state is megabytes, written to the embedded store
	// before the server opens it, with a teacher's token signed by the key
	// the server will use.
	ctx := context.Background()
	store, err := eventstore.OpenSQLite(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	lesson := uuid.New()
	first, err := domain.NewLesson(lesson, uuid.New(), "Long download", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	events := []domain.Event{first}
	for i := range 3000 {
		pts := make(domain.Points, 500)
		for k := range pts {
			pts[k] = domain.Point{X: float64(i + k), Y: float64(k) + 0.5, T: int64(k * 8), Pressure: 0.5}
		}
		events = append(events, domain.Event{ID: uuid.New(), Lesson: lesson, Version: domain.EventVersion, Actor: "teacher",
			Role: domain.RoleTeacher, Time: time.Now(), Payload: &domain.StrokeDrawn{Object: uuid.New(), Tool: domain.ToolPen,
				Color: "#112233", Width: 2, Points: pts}})
	}
	if _, errs, err := store.Append(ctx, events...); err != nil || errs[0] != nil || errs[len(errs)-1] != nil {
		t.Fatalf("fill the lesson: %v %v", err, errs)
	}
	store.Close()
	key, err := token.LoadOrCreateKey(filepath.Join(data, "token.key"))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := token.NewKeeper(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	teacher, err := tokens.Issue(token.Claims{Lesson: lesson, Role: domain.RoleTeacher, Participant: "teacher", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// Both larger than what the loopback's socket buffers hold (a few
	// megabytes) and what is written in the second the timeout allows.
	recording := make([]byte, 32<<20)
	rand.Read(recording)
	dir := filepath.Join(data, "recordings", lesson.String())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "1-teacher-camera.webm"), recording, 0o644); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	start(t, addr, "-data", data, "-write-timeout", "1s")
	base := "http://" + addr + "/api/lessons/" + lesson.String()
	got := slowGet(t, base+"/recordings/1-teacher-camera.webm", teacher)
	if !bytes.Equal(got, recording) {
		t.Fatalf("downloaded %d of %d bytes of the recording intact", len(got), len(recording))
	}
	got = slowGet(t, base+fmt.Sprintf("/state?seq=%d", len(events)), teacher)
	var state struct {
		Seq   int64           `json:"seq"`
		State json.RawMessage `json:"state"`
	}
	if err := json.Unmarshal(got, &state); err != nil || state.Seq != int64(len(events)) {
		t.Fatalf("the state (%d bytes) did not arrive whole: %v, seq %d", len(got), err, state.Seq)
	}
	st, err := domain.RestoreSnapshot(state.State)
	if err != nil || len(st.Board(domain.Slide{}).Objects) != len(events)-1 {
		t.Fatalf("the state read back: %v", err)
	}
}

// slowGet reads a response 64 KiB every 10 ms (about 6 MB/s) and checks that
// it took longer than the server's write timeout of a second.
func slowGet(t *testing.T, url, bearer string) []byte {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	began := time.Now()
	var got bytes.Buffer
	buf := make([]byte, 64<<10)
	for {
		n, err := io.ReadFull(resp.Body, buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if took := time.Since(began); took < 1500*time.Millisecond {
		t.Fatalf("GET %s: %d bytes in %v, not longer than the write timeout: the test proves nothing", url, got.Len(), took)
	}
	return got.Bytes()
}
