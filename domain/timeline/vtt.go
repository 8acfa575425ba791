package timeline

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"classroom/domain"
)

// chatCueLength is how long a chat cue shows when no message follows sooner.
const chatCueLength = 5 * time.Second

// WriteChapters writes WebVTT chapters: a cue from the lesson's start for the
// slide everyone sees first (the blank whiteboard's first page), then one for
// each slide.changed, each lasting until the next change and the last until
// the lesson's last event. Cue text is "Slide 3 — Fractions" (page 3 of the
// deck named Fractions) or "Whiteboard 1". Cue times count from the time of
// lesson.created, written in a NOTE at the top of the file; changes within
// the same millisecond keep the last. It returns the number of events read.
func WriteChapters(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error) {
	var (
		open  bool // a chapter is waiting for its end
		start time.Duration
		title string
	)
	return writeVTT(w, events, func(vw *vttWriter, v *lessonView, e domain.Event) {
		switch p := e.Payload.(type) {
		case *domain.LessonCreated:
			vw.header(v)
			open, start, title = true, 0, v.chapter(domain.Slide{})
		case *domain.SlideChanged:
			at := v.offset(e.Time)
			if open && at.Milliseconds() > start.Milliseconds() {
				vw.cue(start, at, title)
			}
			open, start, title = true, at, v.chapter(p.Slide)
		}
	}, func(vw *vttWriter, v *lessonView) {
		if open {
			vw.cue(start, max(v.offset(v.last), start+time.Millisecond), title)
		}
	})
}

// WriteChat writes the lesson's chat as WebVTT subtitles: one cue per
// message, "Name: text", from the message's time until the next message or
// for five seconds, whichever is sooner (and at least a millisecond). Cue
// times count from the time of lesson.created, as in WriteChapters. It
// returns the number of events read.
func WriteChat(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error) {
	var (
		pending bool
		start   time.Duration
		text    string
	)
	return writeVTT(w, events, func(vw *vttWriter, v *lessonView, e domain.Event) {
		switch p := e.Payload.(type) {
		case *domain.LessonCreated:
			vw.header(v)
		case *domain.ChatPosted:
			at := v.offset(e.Time)
			if pending {
				vw.cue(start, max(min(at, start+chatCueLength), start+time.Millisecond), text)
			}
			pending, start, text = true, at, v.name(e.Actor)+": "+p.Text
		}
	}, func(vw *vttWriter, _ *lessonView) {
		if pending {
			vw.cue(start, start+chatCueLength, text)
		}
	})
}

// writeVTT writes a WebVTT file of the lesson: each event goes to the
// lesson's view and then to cue, and once the log is read, finish writes
// what is still open. It stops at the first error of the events, the view or
// the writer, and returns the number of events read.
func writeVTT(w io.Writer, events iter.Seq2[domain.Event, error],
	cue func(vw *vttWriter, v *lessonView, e domain.Event), finish func(vw *vttWriter, v *lessonView)) (int64, error) {
	vw := newVTTWriter(w)
	v := newLessonView()
	n, err := v.read(events, func(e domain.Event) error {
		cue(vw, v, e)
		return vw.err
	})
	if err != nil {
		return n, err
	}
	finish(vw, v)
	return n, vw.flush()
}

// vttWriter writes a WebVTT file; its first error sticks.
type vttWriter struct {
	w      *bufio.Writer
	escape *strings.Replacer
	err    error
}

// newVTTWriter returns a writer whose cue text is escaped as WebVTT
// requires: & and < start markup, and > is escaped too so that "-->" never
// appears.
func newVTTWriter(w io.Writer) *vttWriter {
	return &vttWriter{w: bufio.NewWriter(w), escape: strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")}
}

func (vw *vttWriter) header(v *lessonView) {
	if vw.err == nil {
		_, vw.err = fmt.Fprintf(vw.w, "WEBVTT\n\nNOTE\nLesson %s. Cue times count from %s, when the lesson was created.\n\n",
			vttNote(v.title), v.start.UTC().Format(time.RFC3339Nano))
	}
}

func (vw *vttWriter) cue(from, to time.Duration, text string) {
	if vw.err == nil {
		// Line breaks become spaces: an empty line would end the cue.
		_, vw.err = fmt.Fprintf(vw.w, "%s --> %s\n%s\n\n", vttTime(from), vttTime(to), vw.escape.Replace(oneLine(text)))
	}
}

func (vw *vttWriter) flush() error {
	if vw.err != nil {
		return vw.err
	}
	return vw.w.Flush()
}

// vttTime formats a WebVTT timestamp, hh:mm:ss.ttt (hours grow past 99).
func vttTime(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// vttNote makes text safe inside a NOTE block, which "-->" or an empty line
// would end.
func vttNote(s string) string { return strings.ReplaceAll(oneLine(s), "-->", "- ->") }
