package media

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/srtp/v3"
)

// dtlsKeys learns, from one DTLS handshake in which this server is the DTLS
// server, what the SRTP keys of RFC 5764 are derived from: the client's
// random and the master secret (from the handshake's key log), the server's
// random, cipher suite and SRTP protection profile (from the ServerHello it
// sends). pion derives the same keys for its own SRTP session but does not
// hand them out; this lets the forwarder encrypt what it sends itself.
//
// It serves one connection's handshake: its two halves are set on a
// SettingEngine of that connection's own. It is safe for concurrent use.
type dtlsKeys struct {
	mu           sync.Mutex
	clientRandom []byte
	masterSecret []byte
	serverRandom []byte
	suite        uint16
	profile      srtp.ProtectionProfile
	hello        bool // the ServerHello was seen
}

// keyLogLabel is the label of a TLS 1.2 line of the key log (NSS's format:
// "CLIENT_RANDOM <client random> <master secret>", in hex).
const keyLogLabel = "CLIENT_RANDOM"

// Write takes a line of the handshake's key log.
func (k *dtlsKeys) Write(line []byte) (int, error) {
	fields := strings.Fields(string(bytes.TrimSpace(line)))
	if len(fields) != 3 || fields[0] != keyLogLabel {
		return len(line), nil // not a line this knows: pion's handshake goes on
	}
	random, err1 := hex.DecodeString(fields[1])
	secret, err2 := hex.DecodeString(fields[2])
	if err1 != nil || err2 != nil {
		return len(line), nil
	}
	k.mu.Lock()
	k.clientRandom, k.masterSecret = random, secret
	k.mu.Unlock()
	return len(line), nil
}

// serverHello is the ServerHello hook: it notes what the message holds and
// sends it unchanged.
func (k *dtlsKeys) serverHello(m handshake.MessageServerHello) handshake.Message {
	random := m.Random.MarshalFixed()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.serverRandom = random[:]
	if k.hello = m.CipherSuiteID != nil; k.hello {
		k.suite = *m.CipherSuiteID
	}
	k.profile = 0
	for _, e := range m.Extensions {
		if u, ok := e.(*extension.UseSRTP); ok && len(u.ProtectionProfiles) == 1 {
			k.profile = srtp.ProtectionProfile(u.ProtectionProfiles[0])
		}
	}
	return &m
}

// errNoKeys is returned while the handshake has not yet given everything
// the keys are derived from.
var errNoKeys = errors.New("media: the DTLS handshake has not given the SRTP keys")

// local returns the SRTP master key and salt this server sends with, and
// their profile. Once it has derived them it forgets the master secret: it
// returns errNoKeys if asked again.
func (k *dtlsKeys) local() (key, salt []byte, profile srtp.ProtectionProfile, err error) {
	k.mu.Lock()
	ex := exporter{clientRandom: k.clientRandom, serverRandom: k.serverRandom, masterSecret: k.masterSecret}
	hello, suite, profile := k.hello, k.suite, k.profile
	k.mu.Unlock()
	if !hello || profile == 0 || len(ex.clientRandom) != handshake.RandomLength ||
		len(ex.serverRandom) != handshake.RandomLength || len(ex.masterSecret) == 0 {
		return nil, nil, 0, errNoKeys
	}
	ex.hash, err = prfHash(suite)
	if err != nil {
		return nil, nil, 0, err
	}
	cfg := srtp.Config{Profile: profile}
	err = cfg.ExtractSessionKeysFromDTLS(ex, false)
	k.mu.Lock()
	clear(k.masterSecret) // what it is needed for is derived: it need not stay in memory
	k.masterSecret = nil
	k.mu.Unlock()
	if err != nil {
		return nil, nil, 0, fmt.Errorf("media: SRTP keys: %w", err)
	}
	return cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, profile, nil
}

// prfHash returns the hash of TLS 1.2's PRF for a cipher suite: SHA-384 for
// the suites named so (RFC 5289), SHA-256 for every other (RFC 5246, 5.).
// A suite pion does not know is refused rather than guessed.
func prfHash(suite uint16) (prf.HashFunc, error) {
	name := dtls.CipherSuiteName(dtls.CipherSuiteID(suite))
	switch {
	case !strings.HasPrefix(name, "TLS_"):
		return nil, fmt.Errorf("media: DTLS cipher suite %s is unknown", name)
	case strings.HasSuffix(name, "_SHA384"):
		return func() hash.Hash { return sha512.New384() }, nil
	default:
		return sha256.New, nil
	}
}

// exporter is RFC 5705's keying material exporter of a TLS 1.2 session, as
// the DTLS server sees it.
type exporter struct {
	clientRandom, serverRandom, masterSecret []byte
	hash                                     prf.HashFunc
}

func (e exporter) ExportKeyingMaterial(label string, context []byte, length int) ([]byte, error) {
	if len(context) != 0 {
		return nil, errors.New("media: keying material with a context is not supported")
	}
	seed := make([]byte, 0, len(label)+len(e.clientRandom)+len(e.serverRandom))
	seed = append(append(append(seed, label...), e.clientRandom...), e.serverRandom...)
	return prf.PHash(e.masterSecret, seed, length, e.hash)
}
