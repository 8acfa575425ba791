package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestClassload is a short run of the tool against the real server binary
// on the embedded store: three students drawing for two seconds with their
// parts pipelined. Every part must be acknowledged, none refused, every
// board must end with the same state (runClass checks it), and every part
// must have reached every other board.
func TestClassload(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "classroom")
	if out, err := exec.Command("go", "build", "-o", bin, "classroom/cmd/classroom").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var log bytes.Buffer
	srv := exec.Command(bin, "serve", "-addr", addr, "-data", filepath.Join(dir, "data"), "-ice-loopback",
		"-turn-addr", "", "-media-udp-addr", "127.0.0.1:0")
	srv.Env = append(os.Environ(), "DATABASE_URL=")
	srv.Stderr = &log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Kill()
		srv.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	}()
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get(base + "/metrics"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not answer within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := runClass(ctx, config{server: base, serverPID: srv.Process.Pid, duration: 2 * time.Second, joinParallel: 4}, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Parts < 3*30 { // at least a stroke of half a second each
		t.Errorf("%d parts sent by 3 students in 2 s, want at least 90", res.Parts)
	}
	if res.Refused != 0 || res.Acked != res.Parts {
		t.Errorf("%d parts sent, %d acknowledged, %d refused", res.Parts, res.Acked, res.Refused)
	}
	if res.Appends == 0 || res.ServerCores <= 0 {
		t.Errorf("the server's figures are missing: %d appends, %.2f cores", int(res.Appends), res.ServerCores)
	}
	if res.FanoutP50 <= 0 || res.FanoutMax < res.FanoutP99 {
		t.Errorf("fan-out p50 %.1f ms, p99 %.1f, max %.1f: not measured", res.FanoutP50, res.FanoutP99, res.FanoutMax)
	}
}
