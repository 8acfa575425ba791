package web

import (
	"net/http"

	"classroom/retention"
)

// deleteLesson answers DELETE /api/lessons/{id}, the teacher's: it removes
// the ended lesson for real, its log, snapshots, decks and recordings
// (retention.Delete). The page asks the teacher to confirm first.
func (a *API) deleteLesson(w http.ResponseWriter, r *http.Request) {
	id, err := a.teacherPath(r, "deletes the lesson")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := retention.Delete(r.Context(), a.store, a.lessonFiles(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	a.reply(w, http.StatusOK, struct {
		Deleted string `json:"deleted"`
	}{id.String()})
}

// lessonFiles are where the server keeps lessons' files beside the store.
func (a *API) lessonFiles() retention.Files {
	f := retention.Files{Recordings: a.cfg.Recordings}
	if a.cfg.Videos != nil {
		f.Videos = a.cfg.Videos.Dir()
	}
	return f
}
