//go:build linux

package main

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"classroom/internal/syncbuf"
)

// The firewall test's network, in documentation address ranges: the server
// has one public address; the student sits behind a NAT whose firewall
// lets nothing out but TCP to port 443.
const (
	fwServerIP  = "203.0.113.10"
	fwRouterOut = "203.0.113.1"
	fwStudentIP = "198.51.100.10"
	fwRouterIn  = "198.51.100.1"
	fwRoleEnv   = "CLASSROOM_FIREWALL_ROLE" // set in the helper processes
)

// fwNet is a server namespace, a student namespace and a NAT router
// between them, made for one test and removed after it.
type fwNet struct {
	server, router, student string
}

// newFirewall builds the network: server (203.0.113.10) ↔ router ↔ student
// (198.51.100.10). The router masquerades the student's traffic and drops
// all of it but TCP to the server's port 443 (and the answers to that).
func newFirewall(t *testing.T) *fwNet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test builds network namespaces and a firewall, which needs root: run scripts/test as root (CI does)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install the Debian packages iproute2 and nftables (scripts/test does as root)", tool)
		}
	}
	suffix := strconv.Itoa(os.Getpid() % 100000)
	n := &fwNet{server: "cls-srv-" + suffix, router: "cls-nat-" + suffix, student: "cls-stu-" + suffix}
	t.Cleanup(func() {
		for _, ns := range []string{n.server, n.router, n.student} {
			exec.Command("ip", "netns", "del", ns).Run()
		}
	})
	sh := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	in := func(ns string, args ...string) {
		t.Helper()
		sh(append([]string{"ip", "netns", "exec", ns}, args...)...)
	}
	for _, ns := range []string{n.server, n.router, n.student} {
		sh("ip", "netns", "add", ns)
		in(ns, "ip", "link", "set", "lo", "up")
	}
	sh("ip", "link", "add", "clsrv"+suffix, "netns", n.server, "type", "veth", "peer", "name", "out", "netns", n.router)
	sh("ip", "link", "add", "clstu"+suffix, "netns", n.student, "type", "veth", "peer", "name", "in", "netns", n.router)
	in(n.server, "ip", "addr", "add", fwServerIP+"/24", "dev", "clsrv"+suffix)
	in(n.server, "ip", "link", "set", "clsrv"+suffix, "up")
	in(n.server, "ip", "route", "add", "default", "via", fwRouterOut)
	in(n.student, "ip", "addr", "add", fwStudentIP+"/24", "dev", "clstu"+suffix)
	in(n.student, "ip", "link", "set", "clstu"+suffix, "up")
	in(n.student, "ip", "route", "add", "default", "via", fwRouterIn)
	in(n.router, "ip", "addr", "add", fwRouterOut+"/24", "dev", "out")
	in(n.router, "ip", "addr", "add", fwRouterIn+"/24", "dev", "in")
	in(n.router, "ip", "link", "set", "out", "up")
	in(n.router, "ip", "link", "set", "in", "up")
	in(n.router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	rules := `table inet school {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "in" ip daddr ` + fwServerIP + ` tcp dport 443 accept
  }
  chain postrouting {
    type nat hook postrouting priority 100;
    oifname "out" masquerade
  }
}`
	cmd := exec.Command("ip", "netns", "exec", n.router, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
	return n
}

// fwProcess is a process run in one of the test's namespaces.
type fwProcess struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	log     *syncbuf.Buffer
	results chan map[string]any // the JSON lines it prints after "RESULT "
	exited  chan struct{}
}

// runIn starts argv in namespace ns with extra environment env.
func runIn(t *testing.T, ns string, env []string, argv ...string) *fwProcess {
	t.Helper()
	p := &fwProcess{log: &syncbuf.Buffer{}, results: make(chan map[string]any, 16), exited: make(chan struct{})}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p.log
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.exited)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(p.log, line)
			if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
				var m map[string]any
				if json.Unmarshal([]byte(rest), &m) == nil {
					p.results <- m
				}
			}
		}
		p.cmd.Wait()
	}()
	t.Cleanup(func() {
		// A helper ends when its standard input closes; a server, which
		// reads none, on SIGTERM (ip netns exec hands both over as they are).
		p.stdin.Close()
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s:\n%s", strings.Join(argv, " "), p.log)
		}
	})
	return p
}

// result waits for the process's next result line.
func (p *fwProcess) result(t *testing.T, what string, timeout time.Duration) map[string]any {
	t.Helper()
	select {
	case m := <-p.results:
		if e, ok := m["error"]; ok {
			t.Fatalf("%s: %v", what, e)
		}
		return m
	case <-p.exited:
		t.Fatalf("%s: the process ended without a result", what)
	case <-time.After(timeout):
		t.Fatalf("%s: no result in %v", what, timeout)
	}
	return nil
}

// helper runs this test binary's TestFirewallHelper as role in namespace ns.
func helper(t *testing.T, ns, role string, env ...string) *fwProcess {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return runIn(t, ns, append(env, fwRoleEnv+"="+role), self, "-test.run=^TestFirewallHelper$", "-test.v", "-test.timeout=3m")
}

// TestHTTPSOnlyFirewall: a student behind a NAT whose firewall lets only TCP
// 443 out, to a server with one address, joins a live lesson (the Go client
// and Chromium), gets the teacher's video and the lesson's events over TURN
// over TLS on the HTTPS port, while the pages and the WebSocket go on being
// served on that port; coturn's own test client relays through it too.
func TestHTTPSOnlyFirewall(t *testing.T) {
	n := newFirewall(t)
	dir := t.TempDir()
	certFile, keyFile := serverCert(t, dir, fwServerIP)
	secret := []byte(strings.Repeat("k", 32))
	secretFile := filepath.Join(dir, "turn.key")
	if err := os.WriteFile(secretFile, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	srv := runIn(t, n.server, []string{"DATABASE_URL="}, bin, "serve", "-addr", fwServerIP+":443", "-data", dir,
		"-tls-cert", certFile, "-tls-key", keyFile, "-public-ip", fwServerIP, "-turn-secret-file", secretFile,
		"-turn-addr", fwServerIP+":3478", "-media-udp-addr", fwServerIP+":7882")
	base := "https://" + fwServerIP
	env := []string{"SSL_CERT_FILE=" + certFile, "CLASSROOM_FW_BASE=" + base}

	// The teacher is on the server's network, where UDP is open: it creates
	// the lesson and publishes a camera.
	teacher := helper(t, n.server, "teacher", env...)
	lesson := teacher.result(t, "the teacher's lesson", 90*time.Second)
	students, _ := lesson["students"].(string)
	id, _ := lesson["id"].(string)
	if students == "" || id == "" {
		t.Fatalf("teacher's result %v", lesson)
	}
	env = append(env, "CLASSROOM_FW_LESSON="+id, "CLASSROOM_FW_TOKEN="+students)

	// The Go student stays in the lesson while the page joins and coturn's
	// client relays, all through port 443.
	student := helper(t, n.student, "student", env...)
	var first map[string]any
	t.Run("go client", func(t *testing.T) {
		got := student.result(t, "the Go student", 90*time.Second)
		first = got
		t.Logf("Go student: %v", got)
		if got["relay_protocol"] != "tls" || got["candidate"] != "relay" {
			t.Errorf("selected local candidate %v over %v, want a relay over TLS", got["candidate"], got["relay_protocol"])
		}
		if v, _ := got["video_packets"].(float64); v < 30 {
			t.Errorf("%v video packets of the teacher's, want at least 30", v)
		}
		if v, _ := got["chat_lines"].(float64); v < 2 {
			t.Errorf("%v of the teacher's chat lines, want the one before joining and one after", v)
		}
	})
	t.Run("chromium", func(t *testing.T) {
		browser := helper(t, n.student, "browser", env...)
		got := browser.result(t, "the student's page", 120*time.Second)
		t.Logf("Chromium student: %v", got)
		if got["relay_protocol"] != "tls" || got["candidate"] != "relay" {
			t.Errorf("selected local candidate %v over %v, want a relay over TLS", got["candidate"], got["relay_protocol"])
		}
		if v, _ := got["video_packets"].(float64); v < 60 {
			t.Errorf("the page received %v packets of the teacher's video, want at least 60", v)
		}
		if v, _ := got["chat_lines"].(float64); v < 2 {
			t.Errorf("the page shows %v of the teacher's chat lines, want at least 2", v)
		}
		if got["path"] != "relayed over TLS" || !strings.Contains(fmt.Sprint(got["status"]), "relayed over TLS") {
			t.Errorf("the page's path is %q and its status says %q; want both to say relayed over TLS", got["path"], got["status"])
		}
	})
	t.Run("coturn client", func(t *testing.T) {
		uclient, err := exec.LookPath("turnutils_uclient")
		if err != nil {
			t.Fatal("turnutils_uclient not found: install the Debian package coturn (scripts/test does as root)")
		}
		user := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10) + ":uclient"
		mac := hmac.New(sha1.New, secret)
		mac.Write([]byte(user))
		pass := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		// -S: TLS, -t: TCP to the relay, -y: two clients relaying to each
		// other's relayed address, 50 messages each.
		p := runIn(t, n.student, nil, uclient, "-S", "-t", "-y", "-n", "50", "-l", "200", "-z", "5",
			"-p", "443", "-u", user, "-w", pass, fwServerIP)
		select {
		case <-p.exited:
		case <-time.After(60 * time.Second):
			t.Fatal("turnutils_uclient did not finish in 60 s")
		}
		out := p.log.String()
		lost := regexp.MustCompile(`Total lost packets (\d+) \(`).FindStringSubmatch(out)
		totals := regexp.MustCompile(`start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)`).FindStringSubmatch(out)
		if lost == nil || totals == nil {
			t.Fatalf("turnutils_uclient did not report its packets:\n%s", out)
		}
		t.Logf("turnutils_uclient: sent %s, received %s, lost %s", totals[1], totals[2], lost[1])
		if lost[1] != "0" || totals[1] != totals[2] || totals[1] == "0" {
			t.Errorf("turnutils_uclient sent %s messages through TURN over TLS on 443, received %s, lost %s",
				totals[1], totals[2], lost[1])
		}
	})
	student.stdin.Close()
	last := student.result(t, "the Go student, at the end", 30*time.Second)
	before, _ := first["video_packets"].(float64)
	after, _ := last["video_packets"].(float64)
	t.Logf("Go student at the end: %v", last)
	if after < before+30 || last["state"] != "connected" {
		t.Errorf("the Go student's relayed media stopped while the port served the others: %v video packets, then %v, %v",
			before, after, last["state"])
	}
	if t.Failed() {
		t.Logf("server log:\n%s", srv.log)
	}
}
