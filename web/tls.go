package web

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// TLSOptions says where the server's certificate comes from: files an
// operator keeps (renewed on disk by whatever tool they use), or ACME, by
// which the server obtains and renews its own (Let's Encrypt by default).
// With neither, the server speaks plain HTTP, which is for loopback and
// development only.
type TLSOptions struct {
	CertFile, KeyFile string // PEM files, reloaded when they change on disk

	ACMEDomains   []string       // obtain certificates for these names over ACME
	ACMEDirectory string         // the CA's directory URL; empty means Let's Encrypt
	ACMEEmail     string         // a contact address given to the CA; optional
	ACMECacheDir  string         // where certificates and the account key are kept
	ACMERootCAs   *x509.CertPool // trust for the directory's own HTTPS; nil means the system's
}

// Enabled reports whether the options ask for TLS at all.
func (o TLSOptions) Enabled() bool {
	return o.CertFile != "" || o.KeyFile != "" || len(o.ACMEDomains) > 0
}

// ServerTLS returns the TLS configuration to serve with and, for ACME, the
// handler to serve on port 80: it answers HTTP-01 challenges and redirects
// everything else to HTTPS. It returns nil, nil, nil when TLS is not asked for.
func ServerTLS(o TLSOptions) (*tls.Config, http.Handler, error) {
	files := o.CertFile != "" || o.KeyFile != ""
	switch {
	case !o.Enabled():
		return nil, nil, nil
	case files && len(o.ACMEDomains) > 0:
		return nil, nil, errors.New("tls: give either a certificate and key or ACME domains, not both")
	case files && (o.CertFile == "" || o.KeyFile == ""):
		return nil, nil, errors.New("tls: a certificate file needs its key file, and a key its certificate")
	case files:
		kp := &keyPair{cert: o.CertFile, key: o.KeyFile}
		if _, err := kp.get(); err != nil {
			return nil, nil, err
		}
		return &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"},
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return kp.get() }}, nil, nil
	}
	for _, d := range o.ACMEDomains {
		if !validDomain(d) {
			return nil, nil, fmt.Errorf("tls: %q is not a domain name a certificate can be issued for", d)
		}
	}
	if o.ACMECacheDir == "" {
		return nil, nil, errors.New("tls: ACME needs a directory to keep certificates in")
	}
	dir := o.ACMEDirectory
	if dir == "" {
		dir = acme.LetsEncryptURL
	}
	httpClient := &http.Client{Timeout: 30 * time.Second}
	if o.ACMERootCAs != nil {
		httpClient.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: o.ACMERootCAs, MinVersion: tls.VersionTLS12}}
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(o.ACMEDomains...),
		Cache:      autocert.DirCache(o.ACMECacheDir),
		Email:      o.ACMEEmail,
		Client:     &acme.Client{DirectoryURL: dir, HTTPClient: httpClient},
	}
	cfg := m.TLSConfig() // keeps acme.ALPNProto for TLS-ALPN-01
	cfg.MinVersion = tls.VersionTLS12
	return cfg, m.HTTPHandler(nil), nil
}

// validDomain accepts a DNS name with at least two labels, no wildcard, no
// IP address: what an ACME CA issues for over HTTP-01 and TLS-ALPN-01.
func validDomain(d string) bool {
	if len(d) == 0 || len(d) > 253 || !strings.Contains(d, ".") || strings.HasSuffix(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	last := d[strings.LastIndexByte(d, '.')+1:]
	return strings.IndexFunc(last, func(r rune) bool { return r < '0' || r > '9' }) >= 0 // not an IPv4 address
}

// keyPair loads a certificate and key from files, again whenever either
// file's modification time changes, so that a renewal on disk needs no restart.
type keyPair struct {
	cert, key string

	mu     sync.Mutex
	loaded *tls.Certificate
	stamp  [2]time.Time
}

func (k *keyPair) get() (*tls.Certificate, error) {
	cs, err := os.Stat(k.cert)
	if err != nil {
		return nil, fmt.Errorf("tls: certificate: %w", err)
	}
	ks, err := os.Stat(k.key)
	if err != nil {
		return nil, fmt.Errorf("tls: key: %w", err)
	}
	stamp := [2]time.Time{cs.ModTime(), ks.ModTime()}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.loaded != nil && stamp == k.stamp {
		return k.loaded, nil
	}
	c, err := tls.LoadX509KeyPair(k.cert, k.key)
	if err != nil {
		if k.loaded != nil {
			return k.loaded, nil // half-written during a renewal: keep serving the old one
		}
		return nil, fmt.Errorf("tls: load certificate and key: %w", err)
	}
	k.loaded, k.stamp = &c, stamp
	return k.loaded, nil
}
