package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"

	"classroom/eventstore"
	"classroom/realtime/token"
	"classroom/web"
	"classroom/web/i18n"
	"classroom/web/lti"
)

// The lti subcommands and the tool's wiring: flags and files; the protocol
// is web/lti's.

// ltiFlags holds the flags of "classroom lti add".
type ltiFlags struct {
	sub string
	p   lti.Platform
	dep string
}

// flags adds the flags of an lti subcommand.
func (l *ltiFlags) flags(fs *flag.FlagSet) {
	if l.sub != "add" {
		return
	}
	fs.StringVar(&l.p.Name, "name", "", "the platform's name, for the operator")
	fs.StringVar(&l.p.Issuer, "issuer", "", "the platform's issuer (Moodle: its URL; Canvas: https://canvas.instructure.com)")
	fs.StringVar(&l.p.ClientID, "client-id", "", "the client id the platform gave the tool")
	fs.StringVar(&l.dep, "deployment-ids", "", "comma-separated deployment ids the platform gave the tool")
	fs.StringVar(&l.p.AuthURL, "auth-url", "", "the platform's authentication request URL")
	fs.StringVar(&l.p.TokenURL, "token-url", "", "the platform's access token URL")
	fs.StringVar(&l.p.JWKSURL, "jwks-url", "", "the platform's public keyset URL")
}

// run runs an lti subcommand.
func (l *ltiFlags) run(c *config, stdout io.Writer) error {
	switch l.sub {
	case "add":
		l.p.Deployments = splitList(l.dep)
		if err := lti.AddPlatform(c.ltiPlatforms(), l.p); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "registered %s (client id %s) in %s; restart the server to use it\n", l.p.Issuer, l.p.ClientID, c.ltiPlatforms())
		return nil
	case "rotate-key":
		keys, err := lti.RotateKeys(c.ltiKeys())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "the tool signs with key %s from the next start; the previous key stays published\n", keys.Public().Keys[0].KeyID)
		return nil
	case "urls":
		if c.publicURL == "" {
			return errors.New("set -public-url (CLASSROOM_PUBLIC_URL) to the server's public https URL")
		}
		base := strings.TrimSuffix(c.publicURL, "/")
		fmt.Fprintf(stdout, "Tool URL / target link URI: %s\nInitiate login URL:          %s\nRedirection URI(s):          %s\nPublic keyset (JWKS) URL:    %s\nDeep linking URL:            %s\n",
			base+lti.LaunchPath, base+lti.LoginPath, base+lti.LaunchPath, base+lti.JWKSPath, base+lti.LaunchPath)
		return nil
	}
	return fmt.Errorf("unknown lti command %q (add, rotate-key or urls)", l.sub)
}

func (c *config) ltiPlatforms() string {
	if c.ltiPlatformsFile != "" {
		return c.ltiPlatformsFile
	}
	return filepath.Join(c.dataDir, "lti-platforms.json")
}

func (c *config) ltiKeys() string {
	if c.ltiKeysFile != "" {
		return c.ltiKeysFile
	}
	return filepath.Join(c.dataDir, "lti-keys.json")
}

// ltiTool opens the LTI tool, with the pages' words from catalogues, and
// returns the origins that may frame the lesson page; no tool when the
// server has no public URL.
func (c *config) ltiTool(store eventstore.Store, tokens *token.Keeper, catalogues func() (*i18n.Catalogues, error),
	log *slog.Logger) (*lti.Tool, []string, error) {
	if c.publicURL == "" {
		log.Info("LTI 1.3 tool off: set -public-url to serve it")
		return nil, nil, nil
	}
	if u, err := url.Parse(c.publicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, nil, fmt.Errorf("-public-url %q is not an http(s) URL", c.publicURL)
	}
	platforms, err := lti.LoadPlatforms(c.ltiPlatforms())
	if err != nil {
		return nil, nil, err
	}
	keys, err := lti.LoadOrCreateKeys(c.ltiKeys())
	if err != nil {
		return nil, nil, err
	}
	words, err := catalogues()
	if err != nil {
		return nil, nil, err
	}
	tool, err := lti.New(lti.Config{BaseURL: c.publicURL, Platforms: platforms, Keys: keys, Store: store, Tokens: tokens, Catalogues: words, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	ancestors := splitList(c.frameAncestors)
	if len(ancestors) == 0 {
		ancestors = platforms.Origins()
	}
	log.Info("LTI 1.3 tool", "platforms", platforms.Len(), "login", c.publicURL+lti.LoginPath, "frame_ancestors", ancestors)
	return tool, ancestors, nil
}

// ltiRoutes are the web configuration's LTI parts: none without a tool.
func ltiRoutes(tool *lti.Tool, cfg *web.Config) {
	if tool != nil {
		cfg.LTI, cfg.Gradebook = tool.Handler(), tool
	}
}
