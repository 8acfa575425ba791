package lti

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"

	"classroom/internal/atomicfile"
)

// Platform is a learning platform registered with the tool: what its
// administrator was given when they added the tool, and where the platform
// publishes its keys and takes its requests.
type Platform struct {
	Name string `json:"name,omitempty"`
	// Issuer is the platform's iss, for example https://moodle.school.example.
	Issuer string `json:"issuer"`
	// ClientID is the id the platform gave the tool.
	ClientID string `json:"client_id"`
	// Deployments are the deployment ids launches may carry.
	Deployments []string `json:"deployment_ids"`
	// AuthURL is the platform's OIDC authentication request URL.
	AuthURL string `json:"auth_url"`
	// TokenURL is the platform's OAuth 2 token URL (for Names and Role
	// Provisioning).
	TokenURL string `json:"token_url"`
	// JWKSURL is where the platform publishes its keys.
	JWKSURL string `json:"jwks_url"`
}

// Check reports what is missing or malformed in a registration.
func (p Platform) Check() error {
	if p.Issuer == "" || p.ClientID == "" {
		return errors.New("a platform needs an issuer and a client id")
	}
	if len(p.Deployments) == 0 {
		return errors.New("a platform needs at least one deployment id")
	}
	for name, u := range map[string]string{"auth URL": p.AuthURL, "token URL": p.TokenURL, "JWKS URL": p.JWKSURL, "issuer": p.Issuer} {
		v, err := url.Parse(u)
		if err != nil || (v.Scheme != "https" && v.Scheme != "http") || v.Host == "" {
			return fmt.Errorf("the platform's %s %q is not an http(s) URL", name, u)
		}
	}
	return nil
}

// Platforms are the registered platforms. A Platforms is read-only and safe
// for concurrent use.
type Platforms struct {
	list []Platform
}

// NewPlatforms checks each registration and returns them; an issuer and
// client id may be registered once.
func NewPlatforms(list []Platform) (*Platforms, error) {
	for i, p := range list {
		if err := p.Check(); err != nil {
			return nil, fmt.Errorf("platform %d (%s): %w", i+1, p.Issuer, err)
		}
		for _, q := range list[:i] {
			if q.Issuer == p.Issuer && q.ClientID == p.ClientID {
				return nil, fmt.Errorf("platform %s with client id %s is registered twice", p.Issuer, p.ClientID)
			}
		}
	}
	return &Platforms{list: slices.Clone(list)}, nil
}

// LoadPlatforms reads the platforms registered in the JSON file at path (an
// array of Platform); none when the file does not exist.
func LoadPlatforms(path string) (*Platforms, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Platforms{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the LTI platforms: %w", err)
	}
	var list []Platform
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("LTI platform file %s: %w", path, err)
	}
	ps, err := NewPlatforms(list)
	if err != nil {
		return nil, fmt.Errorf("LTI platform file %s: %w", path, err)
	}
	return ps, nil
}

// AddPlatform registers p in the file at path, replacing a registration of
// the same issuer and client id. A server reads the file when it starts.
func AddPlatform(path string, p Platform) error {
	ps, err := LoadPlatforms(path)
	if err != nil {
		return err
	}
	list := slices.DeleteFunc(ps.list, func(q Platform) bool { return q.Issuer == p.Issuer && q.ClientID == p.ClientID })
	if ps, err = NewPlatforms(append(list, p)); err != nil {
		return err
	}
	b, err := json.MarshalIndent(ps.list, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the LTI platforms: %w", err)
	}
	return writeFile(path, append(b, '\n'))
}

// writeFile replaces the file at path with b (mode 0600) in one rename, so
// that a server starting meanwhile reads the old file or the new one.
func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create %s's directory: %w", path, err)
	}
	return atomicfile.WriteBytes(path, 0o600, b)
}

// Len is the number of registered platforms.
func (ps *Platforms) Len() int { return len(ps.list) }

// find returns the platform of an issuer and, when clientID is not empty, a
// client id; an issuer registered with several client ids needs one.
func (ps *Platforms) find(issuer, clientID string) (Platform, bool) {
	var found []Platform
	for _, p := range ps.list {
		if p.Issuer == issuer && (clientID == "" || p.ClientID == clientID) {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		return Platform{}, false
	}
	return found[0], true
}

// Origins are the registered issuers' origins: the sites that show the
// tool in a frame, unless the operator names others.
func (ps *Platforms) Origins() []string {
	var out []string
	for _, p := range ps.list {
		if u, err := url.Parse(p.Issuer); err == nil {
			if o := u.Scheme + "://" + u.Host; !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}
