package lti

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-jose/go-jose/v4/jwt"

	"classroom/eventstore"
)

// Bounds of a roster fetch.
const (
	maxRosterPages = 100
	maxRosterBytes = 8 << 20 // one page
	membershipType = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
)

// membershipPage is one page of a Names and Role Provisioning membership
// container (NRPS 2.0, section 3.6).
type membershipPage struct {
	Members []struct {
		Status     string   `json:"status"`
		UserID     string   `json:"user_id"`
		Name       string   `json:"name"`
		GivenName  string   `json:"given_name"`
		FamilyName string   `json:"family_name"`
		Roles      []string `json:"roles"`
	} `json:"members"`
}

// fetchRoster reads a course's active members from the platform's Names and
// Role Provisioning service, following its pages, and keeps them in the
// store in place of the roster fetched before.
func (t *Tool) fetchRoster(ctx context.Context, p Platform, course, membershipsURL string) error {
	access, err := t.accessToken(ctx, p, scopeNRPS)
	if err != nil {
		return err
	}
	var members []eventstore.RosterMember
	next := membershipsURL
	for page := 0; next != ""; page++ {
		if page == maxRosterPages {
			return fmt.Errorf("the roster has more than %d pages", maxRosterPages)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return fmt.Errorf("roster URL: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+access)
		req.Header.Set("Accept", membershipType)
		resp, err := t.cfg.Client.Do(req)
		if err != nil {
			return fmt.Errorf("fetch the roster: %w", err)
		}
		var mp membershipPage
		err = decodeJSON(resp, &mp)
		if err != nil {
			return fmt.Errorf("roster page %d: %w", page+1, err)
		}
		for _, m := range mp.Members {
			if m.UserID == "" || (m.Status != "" && m.Status != "Active") {
				continue
			}
			members = append(members, eventstore.RosterMember{Participant: Participant(p.Issuer, m.UserID), UserID: m.UserID,
				Name: personName(m.Name, m.GivenName, m.FamilyName), Role: roleOf(m.Roles)})
		}
		next = nextLink(resp.Header, resp.Request.URL)
	}
	return t.store.PutRoster(ctx, p.Issuer, p.ClientID, course, members)
}

// nextLink returns the URL of a Link header's rel="next", resolved against
// the page's URL; empty on the last page.
func nextLink(h http.Header, base *url.URL) string {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				if k, val, _ := strings.Cut(strings.TrimSpace(p), "="); k == "rel" && strings.Trim(val, `"`) == "next" {
					u, err := base.Parse(target[1 : len(target)-1])
					if err != nil {
						return ""
					}
					return u.String()
				}
			}
		}
	}
	return ""
}

// accessToken asks the platform's token URL for an access token of scope,
// authenticating with a JWT signed by the tool's key (the client
// credentials grant of 1EdTech Security Framework 1.0, section 4.1).
func (t *Tool) accessToken(ctx context.Context, p Platform, scope string) (string, error) {
	now := t.cfg.Now()
	assertion, err := t.sign(jwt.Claims{Issuer: p.ClientID, Subject: p.ClientID, Audience: jwt.Audience{p.TokenURL},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(loginTTL)), ID: randomID()})
	if err != nil {
		return "", err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
		"scope":                 {scope},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("token URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := t.cfg.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("ask for an access token: %w", err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := decodeJSON(resp, &tok); err != nil {
		return "", fmt.Errorf("access token: %w", err)
	}
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
		return "", fmt.Errorf("the platform gave no bearer access token")
	}
	return tok.AccessToken, nil
}

// decodeJSON reads a successful (2xx) JSON answer of at most
// maxRosterBytes into v, unless v is nil, and closes its body.
func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRosterBytes+1))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the platform answered %s", resp.Status)
	}
	if len(b) > maxRosterBytes {
		return fmt.Errorf("the answer is larger than %d bytes", maxRosterBytes)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(b, v)
}
