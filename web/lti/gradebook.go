package lti

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
)

// Assignment and Grade Services 2.0: claim, scopes and media types.
const (
	scopeLineItem = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
	scopeScore    = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
	lineItemType  = "application/vnd.ims.lis.v2.lineitem+json"
	scoreType     = "application/vnd.ims.lis.v1.score+json"
	// attendanceTag tags the gradebook column the tool makes for a lesson.
	attendanceTag = "classroom-attendance"
)

// agsClaim is a launch's Assignment and Grade Services endpoint claim.
type agsClaim struct {
	Scope     []string `json:"scope"`
	LineItems string   `json:"lineitems"`
}

// lineItems is the course's line items URL when the platform lets the tool
// make line items and post scores; empty otherwise.
func (l *launch) lineItems() string {
	if l.AGS == nil || !slices.Contains(l.AGS.Scope, scopeLineItem) || !slices.Contains(l.AGS.Scope, scopeScore) {
		return ""
	}
	return l.AGS.LineItems
}

// SendAttendance posts the attendance of a lesson a launch opened to the
// course's gradebook (Assignment and Grade Services 2.0): a column
// "Attendance: <title>" made once per lesson, and a score for each student
// of the roster: 1 for those in present (participant ids), 0 for the
// others. It returns how many scores it posted. A lesson no launch opened,
// a course without a gradebook or without a roster is refused with
// CodeConflict or CodeNotFound, and nothing is posted.
func (t *Tool) SendAttendance(ctx context.Context, lesson uuid.UUID, present []string) (int, error) {
	info, err := t.store.LTILesson(ctx, lesson)
	if err != nil {
		return 0, err
	}
	if info.LineItems == "" {
		return 0, domain.Errorf(domain.CodeConflict, "the learning platform offers this lesson no gradebook")
	}
	p, ok := t.cfg.Platforms.find(info.Issuer, info.ClientID)
	if !ok {
		return 0, domain.Errorf(domain.CodeConflict, "the platform %s is no longer registered", info.Issuer)
	}
	roster, err := t.store.Roster(ctx, lesson)
	if err != nil {
		return 0, err
	}
	if len(roster) == 0 {
		return 0, domain.Errorf(domain.CodeConflict, "the course's roster is not known yet: open the lesson from the platform as its teacher first")
	}
	l, err := t.cfg.Store.Lesson(ctx, lesson)
	if err != nil {
		return 0, err
	}
	access, err := t.accessToken(ctx, p, scopeLineItem+" "+scopeScore)
	if err != nil {
		return 0, gradebookError(err)
	}
	column := info.LineItem
	if column == "" {
		var made struct {
			ID string `json:"id"`
		}
		item := map[string]any{"scoreMaximum": 1, "label": "Attendance: " + l.Title, "tag": attendanceTag,
			"resourceLinkId": info.ResourceLink}
		if err := t.sendJSON(ctx, info.LineItems, lineItemType, access, item, &made); err != nil {
			return 0, gradebookError(err)
		}
		if made.ID == "" {
			return 0, gradebookError(fmt.Errorf("the platform made a line item without an id"))
		}
		if err := t.store.SetLineItem(ctx, lesson, made.ID); err != nil {
			return 0, err
		}
		column = made.ID
	}
	scores, err := scoresURL(column)
	if err != nil {
		return 0, gradebookError(err)
	}
	sent := 0
	now := t.cfg.Now().UTC().Format(time.RFC3339Nano)
	for _, m := range roster {
		if m.Role != domain.RoleStudent || m.UserID == "" {
			continue
		}
		given := 0
		if slices.Contains(present, m.Participant) {
			given = 1
		}
		score := map[string]any{"userId": m.UserID, "scoreGiven": given, "scoreMaximum": 1, "timestamp": now,
			"activityProgress": "Completed", "gradingProgress": "FullyGraded"}
		if err := t.sendJSON(ctx, scores, scoreType, access, score, nil); err != nil {
			return sent, gradebookError(err)
		}
		sent++
	}
	return sent, nil
}

// gradebookError is a failure of the platform's gradebook, shown to the
// teacher as such.
func gradebookError(err error) error {
	return domain.Errorf(domain.CodeUnavailable, "the learning platform's gradebook did not take the attendance: %v", err)
}

// scoresURL is a line item's scores endpoint: its path with /scores, its
// query kept (AGS 2.0, section 3.4).
func scoresURL(lineItem string) (string, error) {
	u, err := url.Parse(lineItem)
	if err != nil {
		return "", fmt.Errorf("line item URL: %w", err)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/scores"
	return u.String(), nil
}

// sendJSON posts v as contentType with the access token and decodes the
// answer into out, when out is not nil.
func (t *Tool) sendJSON(ctx context.Context, target, contentType, access string, v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("gradebook URL: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json, "+contentType)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := t.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	return decodeJSON(resp, out)
}
