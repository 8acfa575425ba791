package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"log/slog"
	"path/filepath"

	"classroom/web/i18n"
	"classroom/web/signin"
)

func (c *config) signinSettings() string {
	if c.signinFile != "" {
		return c.signinFile
	}
	return filepath.Join(c.dataDir, "signin.json")
}

// signIn opens the OpenID Connect sign-in; none when no provider is
// configured, and the server works as it does without: join links only.
// Its cookies are signed with a key derived from the join links' key, so
// that every server of a school shares it and neither key's signatures
// pass for the other's. Its pages' words come from catalogues.
func (c *config) signIn(tokenKey []byte, catalogues func() (*i18n.Catalogues, error), log *slog.Logger) (*signin.Service, error) {
	settings, err := signin.LoadSettings(c.signinSettings())
	if err != nil {
		return nil, err
	}
	if len(settings.Providers) == 0 {
		return nil, nil
	}
	if c.publicURL == "" {
		return nil, errors.New("OpenID Connect sign-in needs -public-url (CLASSROOM_PUBLIC_URL), from which its redirect URI is made")
	}
	mac := hmac.New(sha256.New, tokenKey)
	mac.Write([]byte("classroom sign-in cookies"))
	words, err := catalogues()
	if err != nil {
		return nil, err
	}
	svc, err := signin.New(signin.Config{BaseURL: c.publicURL, Settings: settings, Key: mac.Sum(nil), Catalogues: words, Logger: log})
	if err != nil {
		return nil, err
	}
	log.Info("OpenID Connect sign-in", "providers", len(settings.Providers), "restrict_creation", settings.RestrictCreation,
		"redirect_uri", c.publicURL+signin.CallbackPath)
	return svc, nil
}
