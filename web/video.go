package web

import (
	"net/http"

	"classroom/domain"
	"classroom/lessonlog"
)

// startVideo answers POST /api/lessons/{id}/video: the teacher asks for the
// lesson's video (lessonvideo.Renderer.Start), 202 with its status.
func (a *API) startVideo(w http.ResponseWriter, r *http.Request) {
	l, err := a.teacherOf(r, "renders the lesson's video")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	st, err := a.cfg.Videos.Start(l.ID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusAccepted, st)
}

// videoStatus answers GET /api/lessons/{id}/video/status: where the
// lesson's video is (state, percent, seconds_left), for whoever may play
// the lesson back.
func (a *API) videoStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := a.memberOnly(w, r)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	a.reply(w, http.StatusOK, a.cfg.Videos.Status(id))
}

// video answers GET /api/lessons/{id}/video: the complete MP4, with Range
// requests, for whoever may play the lesson back; 404 until it is complete.
func (a *API) video(w http.ResponseWriter, r *http.Request) {
	id, ok := a.memberOnly(w, r)
	if !ok {
		return
	}
	path, err := a.cfg.Videos.File(id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	l, err := a.store.Lesson(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+lessonlog.FileName(l, "mp4")+`"`)
	a.serveMedia(w, r, path, "video/mp4", domain.Errorf(domain.CodeNotFound, "lesson %s has no video yet", id))
}
