package web

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"

	"classroom/domain"
)

// MaxEventsPage is the most events one GET /api/lessons/{id}/events returns.
const MaxEventsPage = 5000

// events answers a page of a lesson's log: the events after the sequence
// `after` (0 for the start), at most `limit` (1–MaxEventsPage, default
// 1000), as {"events": [...], "more": bool}, to whoever may play the lesson
// back (memberOf). The playback page reads the log through it as the replay
// advances.
func (a *API) events(w http.ResponseWriter, r *http.Request) {
	id, viewer, err := a.viewerOf(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	after, limit := int64(0), 1000
	if s := q.Get("after"); s != "" {
		if after, err = strconv.ParseInt(s, 10, 64); err != nil || after < 0 {
			a.fail(w, r, domain.Errorf(domain.CodeInvalid, "after must be a sequence number, 0 or more"))
			return
		}
	}
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > MaxEventsPage {
			a.fail(w, r, domain.Errorf(domain.CodeInvalid, "limit must be a number from 1 to %d", MaxEventsPage))
			return
		}
	}
	// Read one event past the page to know whether more follow; answer
	// only once the page is read, so that a store failure is a clean error.
	page := make([]json.RawMessage, 0, min(limit, 256))
	more := false
	for e, err := range a.store.Events(r.Context(), id, after) {
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if len(page) == limit {
			more = true
			break
		}
		if domain.HiddenFrom(e, viewer.Participant, viewer.Role) {
			continue // a student is given no other student's anonymous answer
		}
		b, err := json.Marshal(e)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		page = append(page, b)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "private, no-cache")
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"events":[`)
	for i, b := range page {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.Write(b)
	}
	bw.WriteString(`],"more":` + strconv.FormatBool(more) + "}\n")
	bw.Flush()
}
