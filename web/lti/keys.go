package lti

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// keyBits is the size of the tool's RSA keys; platforms verify RS256.
const keyBits = 2048

// maxKeys is how many keys a key file keeps: the one that signs and the
// one before it, still published so that what it signed stays verifiable.
const maxKeys = 2

// Keys are the tool's own signing keys: the newest signs, and all are
// published at the JWKS URL. A Keys is read-only and safe for concurrent use.
type Keys struct {
	keys []jose.JSONWebKey // newest first
}

// LoadOrCreateKeys reads the tool's keys kept at path (a JWKS holding
// private keys, mode 0600), or creates the file with one new key.
func LoadOrCreateKeys(path string) (*Keys, error) {
	k, err := readKeys(path)
	if errors.Is(err, os.ErrNotExist) {
		return RotateKeys(path)
	}
	return k, err
}

// RotateKeys adds a new key to the file at path, which signs from then on,
// and keeps the one before it (published, no longer signing); older keys
// are dropped. A server reads the file when it starts.
func RotateKeys(path string) (*Keys, error) {
	old, err := readKeys(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("generate an LTI key: %w", err)
	}
	k := &Keys{keys: []jose.JSONWebKey{{Key: priv, KeyID: time.Now().UTC().Format("20060102T150405Z") + "-" + rand.Text()[:8],
		Algorithm: string(jose.RS256), Use: "sig"}}}
	if old != nil {
		k.keys = append(k.keys, old.keys...)
	}
	if len(k.keys) > maxKeys {
		k.keys = k.keys[:maxKeys]
	}
	b, err := json.MarshalIndent(jose.JSONWebKeySet{Keys: k.keys}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode the LTI keys: %w", err)
	}
	if err := writeFile(path, b); err != nil {
		return nil, err
	}
	return k, nil
}

func readKeys(path string) (*Keys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the LTI keys: %w", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("LTI key file %s: %w", path, err)
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("LTI key file %s holds no key", path)
	}
	for _, k := range set.Keys {
		if _, ok := k.Key.(*rsa.PrivateKey); !ok || k.KeyID == "" {
			return nil, fmt.Errorf("LTI key file %s: every key must be a private RSA key with a kid", path)
		}
	}
	return &Keys{keys: set.Keys}, nil
}

// Public returns the JWKS the tool publishes: the public halves of its keys.
func (k *Keys) Public() jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, key := range k.keys {
		set.Keys = append(set.Keys, key.Public())
	}
	return set
}

// signer signs with the newest key, naming it in the kid header.
func (k *Keys) signer() (jose.Signer, error) {
	return jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.keys[0]},
		(&jose.SignerOptions{}).WithType("JWT"))
}

// verifiers returns the public keys the tool's own JWTs may be signed with.
func (k *Keys) verifiers() []jose.JSONWebKey {
	return k.Public().Keys
}
