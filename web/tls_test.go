package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
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
	"testing"
	"time"

	"classroom/web"
)

// certAuthority is a throwaway CA for the tests.
type certAuthority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *certAuthority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "classroom test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &certAuthority{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue writes a certificate for 127.0.0.1 and localhost and its key into dir.
func (ca *certAuthority) issue(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

func (ca *certAuthority) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// serveTLS serves a plain "hello" over TLS on ln until the test ends.
func serveTLS(t *testing.T, ln net.Listener, cfg *tls.Config) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }),
		ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(tls.NewListener(ln, cfg))
	t.Cleanup(func() { srv.Close() })
}

func get(t *testing.T, url, serverName string, roots *x509.CertPool) (string, error) {
	t.Helper()
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: serverName}}}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestTLSFromFiles(t *testing.T) {
	ca := newCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.issue(t, dir)
	cfg, redirect, err := web.ServerTLS(web.TLSOptions{CertFile: certFile, KeyFile: keyFile})
	if err != nil || cfg == nil || redirect != nil {
		t.Fatalf("ServerTLS: %v %v %v", cfg, redirect, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveTLS(t, ln, cfg)
	if body, err := get(t, "https://"+ln.Addr().String()+"/", "", ca.pool()); err != nil || body != "hello" {
		t.Fatalf("GET over TLS: %q, %v", body, err)
	}
	// A renewal on disk is picked up without a restart.
	ca2 := newCA(t)
	time.Sleep(10 * time.Millisecond)
	ca2.issue(t, dir)
	later := time.Now().Add(time.Second)
	os.Chtimes(certFile, later, later)
	if body, err := get(t, "https://"+ln.Addr().String()+"/", "", ca2.pool()); err != nil || body != "hello" {
		t.Fatalf("GET after renewal: %q, %v", body, err)
	}
}

func TestTLSOptionsRefused(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a certificate"), 0o600)
	for name, o := range map[string]web.TLSOptions{
		"certificate without key":  {CertFile: garbage},
		"missing files":            {CertFile: filepath.Join(dir, "no.pem"), KeyFile: filepath.Join(dir, "no.key")},
		"garbage PEM":              {CertFile: garbage, KeyFile: garbage},
		"files and ACME":           {CertFile: garbage, KeyFile: garbage, ACMEDomains: []string{"school.example"}, ACMECacheDir: dir},
		"IP address for ACME":      {ACMEDomains: []string{"127.0.0.1"}, ACMECacheDir: dir},
		"wildcard for ACME":        {ACMEDomains: []string{"*.school.example"}, ACMECacheDir: dir},
		"ACME without a cache dir": {ACMEDomains: []string{"school.example"}},
	} {
		if _, _, err := web.ServerTLS(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if cfg, h, err := web.ServerTLS(web.TLSOptions{}); cfg != nil || h != nil || err != nil {
		t.Errorf("no TLS asked: %v %v %v", cfg, h, err)
	}
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// findTool finds a test tool from Debian's packages; a missing one fails the
// test, saying what to install.
func findTool(t *testing.T, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p := "/usr/bin/" + name; fileExists(p) {
		return p
	}
	t.Fatalf("%s not found: install the Debian package %q (scripts/test does so when run as root)", name, pkg)
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func startTool(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), log.String())
		}
	})
}

// TestACMEWithPebble obtains a certificate from Pebble, the ACME test server,
// through a real TLS-ALPN-01 challenge that Pebble's validation authority
// checks against the server on loopback. pebble-challtestsrv answers Pebble's
// DNS queries for the test domain with 127.0.0.1.
func TestACMEWithPebble(t *testing.T) {
	pebble := findTool(t, "pebble", "pebble")
	challtest := findTool(t, "pebble-challtestsrv", "pebble")
	ca := newCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.issue(t, dir)

	dnsPort, mgmtPort := freePort(t, "udp"), freePort(t, "tcp")
	startTool(t, nil, challtest, "-dns01", fmt.Sprintf("127.0.0.1:%d", dnsPort), "-http01", "", "-https01", "",
		"-tlsalpn01", "", "-management", fmt.Sprintf("127.0.0.1:%d", mgmtPort), "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "")

	acmePort, pebbleMgmt, tlsPort, httpPort := freePort(t, "tcp"), freePort(t, "tcp"), freePort(t, "tcp"), freePort(t, "tcp")
	config := fmt.Sprintf(`{"pebble": {"listenAddress": "127.0.0.1:%d", "managementListenAddress": "127.0.0.1:%d",
		"certificate": %q, "privateKey": %q, "httpPort": %d, "tlsPort": %d, "ocspResponderURL": "",
		"externalAccountBindingRequired": false}}`, acmePort, pebbleMgmt, certFile, keyFile, httpPort, tlsPort)
	cfgFile := filepath.Join(dir, "pebble.json")
	os.WriteFile(cfgFile, []byte(config), 0o600)
	startTool(t, []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"}, pebble,
		"-config", cfgFile, "-dnsserver", fmt.Sprintf("127.0.0.1:%d", dnsPort))

	directory := fmt.Sprintf("https://127.0.0.1:%d/dir", acmePort)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := get(t, directory, "", ca.pool()); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("pebble did not come up: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	const domain = "classroom.test"
	cfg, challenges, err := web.ServerTLS(web.TLSOptions{ACMEDomains: []string{domain}, ACMEDirectory: directory,
		ACMECacheDir: filepath.Join(dir, "acme"), ACMERootCAs: ca.pool(), ACMEEmail: "teacher@classroom.test"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", tlsPort))
	if err != nil {
		t.Fatal(err)
	}
	serveTLS(t, ln, cfg)
	httpLn, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	httpSrv := &http.Server{Handler: challenges, ReadHeaderTimeout: 5 * time.Second}
	go httpSrv.Serve(httpLn)
	t.Cleanup(func() { httpSrv.Close() })

	// Pebble's issuing root, to check the certificate the server obtained.
	rootPEM, err := get(t, fmt.Sprintf("https://127.0.0.1:%d/roots/0", pebbleMgmt), "", ca.pool())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(rootPEM)) {
		t.Fatalf("pebble's root is not PEM: %q", rootPEM)
	}
	body, err := get(t, fmt.Sprintf("https://127.0.0.1:%d/", tlsPort), domain, roots)
	if err != nil || body != "hello" {
		t.Fatalf("GET with the ACME certificate: %q, %v", body, err)
	}
	// The plain-HTTP handler redirects to HTTPS.
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).
		Get(fmt.Sprintf("http://127.0.0.1:%d/lessons", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "https://") {
		t.Fatalf("plain HTTP answered %d %q, want a redirect to https", resp.StatusCode, resp.Header.Get("Location"))
	}
}
