package signin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
)

// Provider is an OpenID Provider the operator configured.
type Provider struct {
	// Name names the provider in URLs (/signin/NAME) and on the button:
	// letters, digits and dashes.
	Name         string `json:"name"`
	Label        string `json:"label,omitempty"` // the button's text; Name when empty
	Issuer       string `json:"issuer"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// AllowedDomains, when not empty, lets only accounts whose verified
	// email is in one of them create lessons.
	AllowedDomains []string `json:"allowed_domains,omitempty"`
	// AllowedClaim, when set, lets only accounts whose id_token or
	// userinfo carries the claim with the value (or, for an array, among
	// its values) create lessons. With AllowedDomains, both must hold.
	AllowedClaim *Claim `json:"allowed_claim,omitempty"`
	// Operators are the verified emails of the server's operators, who
	// see every lesson.
	Operators []string `json:"operators,omitempty"`
}

// Claim is a claim's name and the value it must have.
type Claim struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Settings is the sign-in configuration file.
type Settings struct {
	Providers []Provider `json:"providers"`
	// RestrictCreation: only a signed-in account the rules admit may
	// create lessons. Otherwise anyone may, as without sign-in, and a
	// signed-in teacher's lessons are kept as theirs.
	RestrictCreation bool `json:"restrict_creation"`
}

var providerName = regexp.MustCompile(`^[a-z0-9-]{1,40}$`)

// Check reports what is missing or malformed.
func (s Settings) Check() error {
	seen := map[string]bool{}
	for i, p := range s.Providers {
		if !providerName.MatchString(p.Name) {
			return fmt.Errorf("provider %d: the name %q must be 1 to 40 lower-case letters, digits or dashes", i+1, p.Name)
		}
		if seen[p.Name] {
			return fmt.Errorf("provider %q is configured twice", p.Name)
		}
		seen[p.Name] = true
		if u, err := url.Parse(p.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("provider %q: the issuer %q is not an http(s) URL", p.Name, p.Issuer)
		}
		if p.ClientID == "" {
			return fmt.Errorf("provider %q has no client id", p.Name)
		}
		if p.AllowedClaim != nil && p.AllowedClaim.Name == "" {
			return fmt.Errorf("provider %q: the allowed claim has no name", p.Name)
		}
	}
	if s.RestrictCreation && len(s.Providers) == 0 {
		return errors.New("restrict_creation needs at least one provider")
	}
	return nil
}

// LoadSettings reads the sign-in configuration file (JSON); no providers
// when the file does not exist.
func LoadSettings(path string) (Settings, error) {
	var s Settings
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read the sign-in settings: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("sign-in settings %s: %w", path, err)
	}
	if err := s.Check(); err != nil {
		return s, fmt.Errorf("sign-in settings %s: %w", path, err)
	}
	return s, nil
}
