package web

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/media/recorder"
)

// recordingJSON is one recorded file as the API lists it: its manifest
// (times on the event log's clock) and where to download it.
type recordingJSON struct {
	recorder.Recording
	URL string `json:"url"`
}

// listRecordings answers GET /api/lessons/{id}/recordings: the lesson's
// recorded files, by start time, for whoever may play it back (memberOf;
// Authorization: Bearer <token>). A file still being recorded has no end
// yet; the gap between one segment's end and the next one's start is a
// pause.
func (a *API) listRecordings(w http.ResponseWriter, r *http.Request) {
	id, ok := a.memberOnly(w, r)
	if !ok {
		return
	}
	recs, err := recorder.ListRecordings(filepath.Join(a.cfg.Recordings, id.String()))
	if err != nil {
		a.log.Warn("list recordings", "lesson", id, "err", err) // the readable ones are still listed
	}
	out := struct {
		Recordings []recordingJSON `json:"recordings"`
	}{Recordings: make([]recordingJSON, 0, len(recs))}
	for _, rec := range recs {
		out.Recordings = append(out.Recordings, recordingJSON{Recording: rec,
			URL: "/api/lessons/" + id.String() + "/recordings/" + rec.File})
	}
	a.reply(w, http.StatusOK, out)
}

// recording answers GET /api/lessons/{id}/recordings/{file}: one WebM file
// (VP8, AV1, Opus) or Matroska file (H.264), with Range requests for seeking, for
// whoever may play the lesson back.
func (a *API) recording(w http.ResponseWriter, r *http.Request) {
	id, ok := a.memberOnly(w, r)
	if !ok {
		return
	}
	name := r.PathValue("file")
	contentType := "video/webm"
	base, isWebM := strings.CutSuffix(name, ".webm")
	if !isWebM {
		contentType = "video/x-matroska"
		base, isWebM = strings.CutSuffix(name, ".mkv")
	}
	if !isWebM || base == "" || strings.Trim(base, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		a.fail(w, r, domain.Errorf(domain.CodeNotFound, "no recording %q", name))
		return
	}
	a.serveMedia(w, r, filepath.Join(a.cfg.Recordings, id.String(), name), contentType,
		domain.Errorf(domain.CodeNotFound, "no recording %q", name))
}

// serveMedia answers a media file (a recording, a lesson's video) with
// Range requests, privately and revalidated; missing answers notFound. A
// file takes longer to download than the server's WriteTimeout: each write
// has that long instead.
func (a *API) serveMedia(w http.ResponseWriter, r *http.Request, path, contentType string, notFound error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			err = notFound
		}
		a.fail(w, r, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "private, no-cache")
	http.ServeContent(newLongWriter(w), r, "", st.ModTime(), f)
}

// memberOnly checks that the request may play back the lesson of its path
// (memberOf), answering the error itself when not.
func (a *API) memberOnly(w http.ResponseWriter, r *http.Request) (uuid.UUID, bool) {
	id, err := a.memberOf(r)
	if err != nil {
		a.fail(w, r, err)
		return id, false
	}
	return id, true
}
