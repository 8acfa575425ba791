package web

import (
	"net/http"

	"classroom/domain"
	"classroom/lessonlog"
	"classroom/lessonvideo"
)

// videoFormat is the format a video request names in ?format= (mp4, the
// default, or webm).
func videoFormat(r *http.Request) string {
	if f := r.URL.Query().Get("format"); f != "" {
		return f
	}
	return lessonvideo.FormatMP4
}

// startVideo answers POST /api/lessons/{id}/video[?format=webm]: the teacher
// asks for the lesson's video in a format (lessonvideo.Renderer.Start), 202
// with its status; an unknown format is a 400.
func (a *API) startVideo(w http.ResponseWriter, r *http.Request) {
	l, err := a.teacherOf(r, "renders the lesson's video")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	st, err := a.cfg.Videos.Start(l.ID, videoFormat(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusAccepted, st)
}

// videoStatus answers GET /api/lessons/{id}/video/status[?format=webm]:
// where the lesson's video in that format is (state, percent,
// seconds_left), for whoever may play the lesson back.
func (a *API) videoStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := a.memberOnly(w, r)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	a.reply(w, http.StatusOK, a.cfg.Videos.Status(id, videoFormat(r)))
}

// video answers GET /api/lessons/{id}/video[?format=webm]: the complete
// MP4 (or WebM), with Range requests, for whoever may play the lesson back;
// 404 until it is complete.
func (a *API) video(w http.ResponseWriter, r *http.Request) {
	id, ok := a.memberOnly(w, r)
	if !ok {
		return
	}
	format := videoFormat(r)
	path, err := a.cfg.Videos.File(id, format)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	l, err := a.store.Lesson(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+lessonlog.FileName(l, format)+`"`)
	a.serveMedia(w, r, path, "video/"+format, domain.Errorf(domain.CodeNotFound, "lesson %s has no %s video yet", id, format))
}
