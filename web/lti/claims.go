package lti

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"classroom/domain"
)

// Claim names of LTI 1.3, Deep Linking 2.0 and Names and Role Provisioning
// Services 2.0.
const (
	claimMessageType  = "https://purl.imsglobal.org/spec/lti/claim/message_type"
	claimVersion      = "https://purl.imsglobal.org/spec/lti/claim/version"
	claimDeployment   = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
	claimTargetLink   = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri"
	claimRoles        = "https://purl.imsglobal.org/spec/lti/claim/roles"
	claimResourceLink = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
	claimContext      = "https://purl.imsglobal.org/spec/lti/claim/context"
	claimCustom       = "https://purl.imsglobal.org/spec/lti/claim/custom"
	claimDLSettings   = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
	claimDLItems      = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
	claimDLData       = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
	claimNRPS         = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

	messageResourceLink = "LtiResourceLinkRequest"
	messageDeepLinking  = "LtiDeepLinkingRequest"
	messageDLResponse   = "LtiDeepLinkingResponse"
	ltiVersion          = "1.3.0"

	scopeNRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
)

// launch is what a launch's id_token says beyond what go-oidc checks
// (issuer, audience, expiry, signature).
type launch struct {
	Subject    string   `json:"sub"`
	Audience   audience `json:"aud"`
	AZP        string   `json:"azp"`
	Nonce      string   `json:"nonce"`
	IssuedAt   float64  `json:"iat"`
	Name       string   `json:"name"`
	GivenName  string   `json:"given_name"`
	FamilyName string   `json:"family_name"`

	MessageType  string            `json:"https://purl.imsglobal.org/spec/lti/claim/message_type"`
	Version      string            `json:"https://purl.imsglobal.org/spec/lti/claim/version"`
	Deployment   string            `json:"https://purl.imsglobal.org/spec/lti/claim/deployment_id"`
	TargetLink   string            `json:"https://purl.imsglobal.org/spec/lti/claim/target_link_uri"`
	Roles        *[]string         `json:"https://purl.imsglobal.org/spec/lti/claim/roles"`
	ResourceLink *resourceLink     `json:"https://purl.imsglobal.org/spec/lti/claim/resource_link"`
	Context      *course           `json:"https://purl.imsglobal.org/spec/lti/claim/context"`
	Custom       map[string]any    `json:"https://purl.imsglobal.org/spec/lti/claim/custom"`
	DeepLinking  *deepLinkSettings `json:"https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"`
	NRPS         *nrpsClaim        `json:"https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"`
	AGS          *agsClaim         `json:"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"`
	Presentation *presentation     `json:"https://purl.imsglobal.org/spec/lti/claim/launch_presentation"`
}

// presentation is how the platform shows the tool; its locale is the
// user's language there.
type presentation struct {
	Locale string `json:"locale"`
}

// locale is the user's language on the platform, if it says.
func (l *launch) locale() string {
	if l.Presentation == nil {
		return ""
	}
	return l.Presentation.Locale
}

type resourceLink struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type course struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type deepLinkSettings struct {
	ReturnURL   string   `json:"deep_link_return_url"`
	AcceptTypes []string `json:"accept_types"`
	Data        string   `json:"data,omitempty"`
}

type nrpsClaim struct {
	MembershipsURL string   `json:"context_memberships_url"`
	Versions       []string `json:"service_versions"`
}

// audience is the aud claim: a string or an array of them.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("aud is neither a string nor an array of strings")
	}
	*a = many
	return nil
}

// check refuses a launch that lacks a claim the specification requires of
// its message type, with a message that names the claim.
func (l *launch) check(clientID string) error {
	switch {
	case l.Version != ltiVersion:
		return refusal("the launch is LTI version {version}; this tool speaks {spoken}", "version", strconv.Quote(l.Version), "spoken", ltiVersion)
	case l.Subject == "":
		return refusal("the launch names no user (sub): anonymous launches are not supported")
	case l.Roles == nil:
		return refusal("the launch has no roles claim")
	case l.Deployment == "":
		return refusal("the launch has no deployment_id claim")
	case len(l.Audience) > 1 && l.AZP != clientID:
		return refusal("the id_token has several audiences but its azp is not this tool's client id")
	}
	switch l.MessageType {
	case messageResourceLink:
		if l.ResourceLink == nil || l.ResourceLink.ID == "" {
			return refusal("the resource link launch has no resource_link id")
		}
		if l.TargetLink == "" {
			return refusal("the launch has no target_link_uri claim")
		}
	case messageDeepLinking:
		if l.DeepLinking == nil || l.DeepLinking.ReturnURL == "" {
			return refusal("the deep linking request has no deep_link_return_url")
		}
	default:
		return refusal("message type {type} is not one this tool handles", "type", strconv.Quote(l.MessageType))
	}
	return nil
}

// role is the classroom role of the launch's user: Instructor and
// Administrator (of the course, the institution or the system) teach;
// everyone else learns.
func (l *launch) role() domain.Role {
	if l.Roles != nil {
		return roleOf(*l.Roles)
	}
	return domain.RoleStudent
}

// roleOf maps LIS role URIs to a classroom role.
func roleOf(roles []string) domain.Role {
	for _, r := range roles {
		_, name, _ := strings.Cut(r, "#")
		if strings.HasPrefix(r, "http://purl.imsglobal.org/vocab/lis/v2/") && (name == "Instructor" || name == "Administrator") {
			return domain.RoleTeacher
		}
		if r == "Instructor" || r == "Administrator" { // the short forms of context roles
			return domain.RoleTeacher
		}
	}
	return domain.RoleStudent
}

// displayName is the name the launch gives its user.
func (l *launch) displayName() string {
	return personName(l.Name, l.GivenName, l.FamilyName)
}

// personName is a person's display name from a platform: name, else given
// and family names, cut to domain.MaxNameRunes.
func personName(name, given, family string) string {
	if name == "" {
		name = strings.TrimSpace(given + " " + family)
	}
	if r := []rune(name); len(r) > domain.MaxNameRunes {
		name = string(r[:domain.MaxNameRunes])
	}
	return name
}

// custom returns a custom parameter as a string.
func (l *launch) custom(name string) string {
	v, ok := l.Custom[name]
	if !ok {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
