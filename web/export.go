package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/domain/timeline"
	"classroom/lessonlog"
)

// exportLesson serves GET /api/lessons/{id}/export?format=…, streaming the file as
// the events are read. An error before the first byte is answered as JSON;
// one after it aborts the response, so that the client sees a broken
// transfer rather than a file that looks whole.
func (a *API) exportLesson(w http.ResponseWriter, r *http.Request) {
	id, err := a.teacherPath(r, "exports a lesson")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	f, ok := lessonlog.FormatOf(format)
	if !ok {
		a.fail(w, r, domain.Errorf(domain.CodeInvalid, "format must be one of %s", lessonlog.FormatNames))
		return
	}
	l, err := a.store.Lesson(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := &lazyWriter{w: newLongWriter(w), start: func() {
		h := w.Header()
		h.Set("Content-Type", f.ContentType)
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", lessonlog.FileName(l, format)))
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	}}
	write := f.Write
	if format == "svg" && a.decks != nil {
		// The slides behind the boards, from the decks the server keeps.
		write = func(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error) {
			return lessonlog.WriteSVGZipOver(w, events, func(deck uuid.UUID, page int) (string, []byte, error) {
				p, err := a.decks.Page(r.Context(), id, deck, page)
				return p.ContentType, p.Data, err
			})
		}
	}
	if format == "attendance.csv" || format == "attendance.json" {
		absent, err := a.enrolledStudents(r.Context(), id)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if len(absent) > 0 {
			// The course's students who never came follow those who did.
			write = func(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error) {
				att, n, err := timeline.AttendanceOf(events)
				if err != nil {
					return n, err
				}
				att.AddAbsent(absent)
				if format == "attendance.csv" {
					return n, att.WriteCSV(w)
				}
				return n, att.WriteJSON(w)
			}
		}
	}
	n, err := write(out, a.store.Events(r.Context(), id, 0))
	if err == nil {
		return
	}
	if !out.started {
		a.fail(w, r, err)
		return
	}
	if !errors.Is(r.Context().Err(), context.Canceled) {
		a.log.Error("export failed midway", "lesson", id, "format", format, "events", n, "err", err)
	}
	panic(http.ErrAbortHandler)
}

// writeStall is how long one write of a long response (an export, a
// recording, a lesson's state) may take; the deadline moves on with every
// write, so a long download outlives the server's WriteTimeout while a
// stalled client does not hold it forever.
const writeStall = 30 * time.Second

// longWriter is a ResponseWriter whose every write moves the connection's
// write deadline writeStall on.
type longWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func newLongWriter(w http.ResponseWriter) longWriter {
	return longWriter{ResponseWriter: w, rc: http.NewResponseController(w)}
}

func (l longWriter) Write(p []byte) (int, error) {
	_ = l.rc.SetWriteDeadline(time.Now().Add(writeStall)) // not every writer has deadlines
	return l.ResponseWriter.Write(p)
}

// lazyWriter sends the response's headers with its first write.
type lazyWriter struct {
	w       longWriter
	start   func()
	started bool
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		l.start()
	}
	return l.w.Write(p)
}

// replyState answers the state call with {"seq":seq,"state":snapshot}, the
// bytes reply would write for it: a snapshot is compact, HTML-escaped JSON
// (domain.State.MarshalSnapshot), which encoding/json would only scan again,
// and a late lesson's is tens of megabytes.
func (a *API) replyState(rw http.ResponseWriter, seq int64, snapshot []byte) {
	w := newLongWriter(rw) // a late lesson's state takes long to send to a slow reader
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	head := strconv.AppendInt([]byte(`{"seq":`), seq, 10)
	head = append(head, `,"state":`...)
	// The snapshot goes in slices: the write deadline moves on with each
	// write, so one write of tens of megabytes to a slow reader would still
	// be cut.
	parts := [][]byte{head}
	for rest := snapshot; len(rest) > 0; {
		n := min(len(rest), stateSlice)
		parts, rest = append(parts, rest[:n]), rest[n:]
	}
	for _, part := range append(parts, []byte("}\n")) {
		if _, err := w.Write(part); err != nil {
			a.log.Debug("write response", "err", err)
			return
		}
	}
}

// stateSlice is how much of a state one write sends.
const stateSlice = 64 << 10

// lessonState serves GET /api/lessons/{id}/state?seq=N or ?at=SECONDS: the lesson's
// state at that point of its past, for playback (see memberOf for who may).
func (a *API) lessonState(w http.ResponseWriter, r *http.Request) {
	id, viewer, err := a.viewerOf(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	var pos timeline.Position
	switch seq, at := q.Get("seq"), q.Get("at"); {
	case seq != "" && at == "":
		n, err := strconv.ParseInt(seq, 10, 64)
		if err != nil || n < 1 {
			a.fail(w, r, domain.Errorf(domain.CodeInvalid, "seq must be a whole number from 1"))
			return
		}
		pos = timeline.AtSeq(n)
	case at != "" && seq == "":
		s, err := strconv.ParseFloat(at, 64)
		if err != nil || !(s >= 0 && s <= 1e9) {
			a.fail(w, r, domain.Errorf(domain.CodeInvalid, "at must be a number of seconds since the lesson began"))
			return
		}
		pos = timeline.AtOffset(time.Duration(s * float64(time.Second)))
	default:
		a.fail(w, r, domain.Errorf(domain.CodeInvalid, "give either seq or at"))
		return
	}
	st, err := lessonlog.Seek(r.Context(), a.store, id, pos)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if viewer.Role == domain.RoleStudent {
		st = st.ForStudent(viewer.Participant)
	}
	b, err := st.MarshalSnapshot()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.replyState(w, st.Seq, b)
}
