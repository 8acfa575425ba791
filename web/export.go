package web

import (
	"archive/zip"
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
	"classroom/eventstore"
)

// exportFormat is one format of GET /api/lessons/{id}/export.
type exportFormat struct {
	ext         string // of the file name
	contentType string
	write       func(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error)
}

// exportFormatOf returns the format of the export call and of "classroom
// export" by the name it is asked for with.
func exportFormatOf(name string) (exportFormat, bool) {
	switch name {
	case "json":
		return exportFormat{"json", "application/json", timeline.WriteJSON}, true
	case "ndjson":
		return exportFormat{"ndjson", "application/x-ndjson", timeline.WriteNDJSON}, true
	case "csv":
		return exportFormat{"csv", "text/csv; charset=utf-8; header=present", timeline.WriteCSV}, true
	case "chapters.vtt":
		return exportFormat{"chapters.vtt", "text/vtt; charset=utf-8", timeline.WriteChapters}, true
	case "chat.vtt":
		return exportFormat{"chat.vtt", "text/vtt; charset=utf-8", timeline.WriteChat}, true
	case "svg":
		return exportFormat{"svg.zip", "application/zip", WriteSVGZip}, true
	}
	return exportFormat{}, false
}

// ExportFormatNames lists the formats the export call takes.
const ExportFormatNames = "json, ndjson, csv, chapters.vtt, chat.vtt, svg"

// Export writes a lesson in one of ExportFormatNames to w, reading its events
// from the store as it goes. It returns the number of events read.
func Export(w io.Writer, format string, events iter.Seq2[domain.Event, error]) (int64, error) {
	f, ok := exportFormatOf(format)
	if !ok {
		return 0, domain.Errorf(domain.CodeInvalid, "unknown export format %q (one of %s)", format, ExportFormatNames)
	}
	return f.write(w, events)
}

// WriteSVGZip writes each slide's final board as an SVG (timeline.WriteSVG)
// into one zip archive, one file per slide. A zip, because the boards are
// several files of one download, every system opens one, and it streams:
// each file is compressed as it is written and the index comes last.
func WriteSVGZip(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error) {
	zw := zip.NewWriter(w)
	n, err := timeline.WriteSVG(events, func(sb timeline.SlideBoard) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: sb.Name, Method: zip.Deflate, Modified: time.Now().UTC()})
	})
	if err != nil {
		return n, err
	}
	return n, zw.Close()
}

// FileName is the name an export of the lesson is saved as:
// "fractions-week-3-ed62f47e.csv".
func FileName(l eventstore.Lesson, format string) string {
	f, ok := exportFormatOf(format)
	if !ok {
		f.ext = format
	}
	name := timeline.Slug(l.Title, "lesson")
	return name + "-" + l.ID.String()[:8] + "." + f.ext
}

// exportLesson serves GET /api/lessons/{id}/export?format=…, streaming the file as
// the events are read. An error before the first byte is answered as JSON;
// one after it aborts the response, so that the client sees a broken
// transfer rather than a file that looks whole.
func (a *API) exportLesson(w http.ResponseWriter, r *http.Request) {
	id, err := pathLesson(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.teacher(r, id, "only the teacher exports a lesson"); err != nil {
		a.fail(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	f, ok := exportFormatOf(format)
	if !ok {
		a.fail(w, r, domain.Errorf(domain.CodeInvalid, "format must be one of %s", ExportFormatNames))
		return
	}
	l, err := a.store.Lesson(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := &lazyWriter{w: newLongWriter(w), start: func() {
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", FileName(l, format)))
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	}}
	n, err := f.write(out, a.store.Events(r.Context(), id, 0))
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
	for _, part := range [][]byte{head, snapshot, []byte("}\n")} {
		if _, err := w.Write(part); err != nil {
			a.log.Debug("write response", "err", err)
			return
		}
	}
}

// lessonState serves GET /api/lessons/{id}/state?seq=N or ?at=SECONDS: the lesson's
// state at that point of its past, for playback (see memberOf for who may).
func (a *API) lessonState(w http.ResponseWriter, r *http.Request) {
	id, err := a.memberOf(r)
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
	st, err := Seek(r.Context(), a.store, id, pos)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	b, err := st.MarshalSnapshot()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.replyState(w, st.Seq, b)
}

// Seek returns a stored lesson's state at a position, starting from the
// latest snapshot at or before it and folding the events after that snapshot
// (timeline.StateAt): never from the start when a snapshot is there. By time,
// it first looks for the sequence to start from (timeline.SeqAt), one
// indexed read of an event's time a probe.
func Seek(ctx context.Context, store eventstore.Store, lesson uuid.UUID, to timeline.Position) (*domain.State, error) {
	if err := to.Check(); err != nil {
		return nil, err
	}
	l, err := store.Lesson(ctx, lesson)
	if err != nil {
		return nil, err
	}
	before := to.Seq
	if to.ByTime {
		before, err = timeline.SeqAt(ctx, l.LastSeq, snapshotGap, l.Created, to.Offset,
			func(ctx context.Context, seq int64) (time.Time, error) { return store.EventTime(ctx, lesson, seq) })
		if err != nil {
			return nil, err
		}
	} else if before > l.LastSeq {
		return nil, domain.Errorf(domain.CodeNotFound, "lesson %s has %d events, not %d", lesson, l.LastSeq, to.Seq)
	}
	var snap []byte
	after := int64(0)
	s, err := store.LatestSnapshot(ctx, lesson, before)
	switch {
	case err == nil:
		snap, after = s.State, s.Seq
	case domain.ErrorCode(err) != domain.CodeNotFound:
		return nil, err
	}
	return timeline.StateAt(snap, store.Events(ctx, lesson, after), to)
}

// snapshotGap is the distance between a live room's snapshots: a time search
// that narrows the sequence to within it has found the snapshot to start at.
const snapshotGap = 1000

// ImportTarget lets timeline.Import write into store, saving snapshots every
// 1000 events as a live room does.
func ImportTarget(store eventstore.Store) timeline.Target {
	return timeline.Target{
		LastSeq: func(ctx context.Context, created domain.Event) (int64, error) {
			l, err := store.Lesson(ctx, created.Lesson)
			if domain.ErrorCode(err) == domain.CodeNotFound {
				return 0, nil
			}
			return l.LastSeq, err
		},
		Append: store.Append,
		SaveSnapshot: func(ctx context.Context, s *domain.State, encoded []byte) error {
			return store.SaveSnapshot(ctx, eventstore.Snapshot{Lesson: s.Lesson, Seq: s.Seq, State: encoded})
		},
		SnapshotEvery: snapshotGap,
	}
}
