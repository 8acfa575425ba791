package lti

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"classroom/domain"
)

// choiceAudience is the audience of a deep linking choice, the signed
// hidden field of the picker form: it carries what the response to the
// platform needs, since the tool keeps no session.
const choiceAudience = "lti-deep-link"

type choice struct {
	Platform   string `json:"pi"`
	Client     string `json:"pc"`
	Deployment string `json:"dep"`
	ReturnURL  string `json:"ret"`
	Data       string `json:"data,omitempty"`
	// Locale is the teacher's language on the platform, for the page
	// that posts the answer.
	Locale string `json:"loc,omitempty"`
}

// contentItem is an LTI resource link as Deep Linking 2.0 returns it.
type contentItem struct {
	Type   string            `json:"type"`
	Title  string            `json:"title"`
	URL    string            `json:"url"`
	Custom map[string]string `json:"custom,omitempty"`
}

// dlResponse is the claims of an LtiDeepLinkingResponse beyond the
// registered ones.
type dlResponse struct {
	Nonce       string        `json:"nonce"`
	MessageType string        `json:"https://purl.imsglobal.org/spec/lti/claim/message_type"`
	Version     string        `json:"https://purl.imsglobal.org/spec/lti/claim/version"`
	Deployment  string        `json:"https://purl.imsglobal.org/spec/lti/claim/deployment_id"`
	Items       []contentItem `json:"https://purl.imsglobal.org/spec/lti-dl/claim/content_items"`
	Data        string        `json:"https://purl.imsglobal.org/spec/lti-dl/claim/data,omitempty"`
}

// pick shows a teacher the deep linking picker: the lesson's title and
// whether students wait to be admitted. A learner is refused.
func (t *Tool) pick(w http.ResponseWriter, r *http.Request, p Platform, l *launch) {
	if l.role() != domain.RoleTeacher {
		t.fail(w, r, forbidden("only a course's instructor or an administrator may add a lesson to it"))
		return
	}
	accepts := len(l.DeepLinking.AcceptTypes) == 0
	for _, a := range l.DeepLinking.AcceptTypes {
		accepts = accepts || a == "ltiResourceLink"
	}
	if !accepts {
		t.fail(w, r, refusal("the platform accepts no LTI resource link here"))
		return
	}
	now := t.cfg.Now()
	c, err := t.sign(jwt.Claims{Issuer: t.base, Audience: jwt.Audience{choiceAudience}, IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(pickTTL))},
		choice{Platform: p.Issuer, Client: p.ClientID, Deployment: l.Deployment, ReturnURL: l.DeepLinking.ReturnURL, Data: l.DeepLinking.Data,
			Locale: l.locale()})
	if err != nil {
		t.fail(w, r, err)
		return
	}
	title := ""
	if l.Context != nil {
		title = l.Context.Title
	}
	words := t.cfg.Catalogues.For(r, l.locale())
	writePage(w, http.StatusOK, pageData{W: words, Title: words.T("Add a lesson to the course"),
		Pick: &pickForm{Action: t.URL(DeepLinkPath), Choice: c, Title: title}})
}

// deepLink answers the picker: it posts the LtiDeepLinkingResponse, signed
// with the tool's key, back to the platform.
func (t *Tool) deepLink(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		t.fail(w, r, refusal("the form is malformed"))
		return
	}
	var c choice
	if err := t.own(r.PostForm.Get("choice"), choiceAudience, &c); err != nil {
		t.fail(w, r, refusal("this choice was not offered by this classroom, or it has expired: start again from the course"))
		return
	}
	p, ok := t.cfg.Platforms.find(c.Platform, c.Client)
	if !ok {
		t.fail(w, r, forbidden("the platform {platform} is no longer registered with this classroom", "platform", strconv.Quote(c.Platform)))
		return
	}
	title := strings.TrimSpace(r.PostForm.Get("title"))
	if n := len([]rune(title)); n < 1 || n > domain.MaxTitleRunes {
		t.fail(w, r, refusal("a lesson's title has 1 to {max} characters", "max", strconv.Itoa(domain.MaxTitleRunes)))
		return
	}
	custom := map[string]string{"title": title}
	if r.PostForm.Get("lobby") == "on" {
		custom["lobby"] = "true"
	}
	if r.PostForm.Get("series") == "on" {
		custom["series"] = "weekly"
	}
	now := t.cfg.Now()
	// The tool is the issuer of the response (its client id) and the
	// platform its audience (LTI Deep Linking 2.0, section 4.2).
	resp, err := t.sign(jwt.Claims{Issuer: p.ClientID, Audience: jwt.Audience{p.Issuer}, IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute))},
		dlResponse{Nonce: randomID(), MessageType: messageDLResponse, Version: ltiVersion, Deployment: c.Deployment, Data: c.Data,
			Items: []contentItem{{Type: "ltiResourceLink", Title: title, URL: t.URL(LaunchPath), Custom: custom}}})
	if err != nil {
		t.fail(w, r, err)
		return
	}
	words := t.cfg.Catalogues.For(r, c.Locale)
	writePage(w, http.StatusOK, pageData{W: words, Title: words.T("Adding the lesson…"),
		Post: &postForm{Action: c.ReturnURL, Fields: map[string]string{"JWT": resp}}})
}
