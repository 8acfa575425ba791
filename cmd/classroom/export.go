package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/domain/timeline"
	"classroom/eventstore"
	"classroom/internal/atomicfile"
	"classroom/lessonlog"
)

// The export and import subcommands: flags, files and the store; the
// formats are in domain/timeline and lessonlog.

// transfer holds the flags of export and import.
type transfer struct {
	lesson, format, out string // export
	in                  string // import
}

// flags adds the flags of cmd, export or import.
func (t *transfer) flags(fs *flag.FlagSet, cmd string) {
	if cmd == "export" {
		fs.StringVar(&t.lesson, "lesson", "", "id of the lesson to export")
		fs.StringVar(&t.format, "format", "json", "one of "+lessonlog.FormatNames)
		fs.StringVar(&t.out, "o", "", "file to write, - for standard output; for svg a directory, one file per slide")
	} else {
		fs.StringVar(&t.in, "i", "", "JSON or NDJSON export to read, - for standard input")
	}
}

// run runs export or import.
func (t *transfer) run(ctx context.Context, cmd string, c *config, log *slog.Logger, stdin io.Reader, stdout, stderr io.Writer) error {
	if cmd == "export" {
		return exportLesson(ctx, c, log, t.lesson, t.format, t.out, stdout, stderr)
	}
	return importLesson(ctx, c, log, t.in, stdin, stdout, stderr)
}

// progress reports on stderr, at most twice a second, how many events are
// done of how many.
type progress struct {
	w    io.Writer
	verb string
	last time.Time
}

func (p *progress) report(done, of int64, final bool) {
	if !final && time.Since(p.last) < 500*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "%s %d / %d events\n", p.verb, done, of)
}

// counted passes events on, reporting progress.
func counted(events iter.Seq2[domain.Event, error], p *progress, of int64) iter.Seq2[domain.Event, error] {
	return func(yield func(domain.Event, error) bool) {
		var n int64
		for e, err := range events {
			if err == nil {
				n++
				p.report(n, max(of, e.Seq), false)
			}
			if !yield(e, err) {
				return
			}
		}
	}
}

func exportLesson(ctx context.Context, c *config, log *slog.Logger, lessonID, format, out string, stdout, stderr io.Writer) error {
	id, err := uuid.Parse(lessonID)
	if err != nil {
		return fmt.Errorf("-lesson %q is not a lesson id", lessonID)
	}
	if out == "" {
		return errors.New("-o is required: a file, or - for standard output")
	}
	if format == "svg" && out == "-" {
		return errors.New("svg writes a directory, one file per slide: give -o DIR (or use the HTTP export for a zip)")
	}
	store, err := eventstore.Open(ctx, c.store(log))
	if err != nil {
		return err
	}
	defer store.Close()
	l, err := store.Lesson(ctx, id)
	if err != nil {
		return err
	}
	p := &progress{w: stderr, verb: "exported"}
	events := counted(store.Events(ctx, id, 0), p, l.LastSeq)

	var n int64
	switch {
	case format == "svg":
		n, err = exportSVGDir(out, events)
	case out == "-":
		n, err = lessonlog.Export(stdout, format, events)
	default:
		n, err = exportFile(out, format, events)
	}
	if err != nil {
		return err
	}
	p.report(n, l.LastSeq, true)
	return nil
}

// exportFile writes the export beside out and renames it into place once
// whole, so that a failed export leaves no file that looks complete.
func exportFile(out, format string, events iter.Seq2[domain.Event, error]) (int64, error) {
	var n int64
	err := atomicfile.Write(out, 0o600, func(w io.Writer) (err error) {
		n, err = lessonlog.Export(w, format, events)
		return err
	})
	return n, err
}

// exportSVGDir writes one SVG per slide into the directory dir.
func exportSVGDir(dir string, events iter.Seq2[domain.Event, error]) (int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	var open *os.File
	defer func() {
		if open != nil {
			open.Close()
		}
	}()
	return timeline.WriteSVG(events, func(sb timeline.SlideBoard) (io.Writer, error) {
		if open != nil {
			if err := open.Close(); err != nil {
				return nil, err
			}
		}
		var err error
		open, err = os.Create(filepath.Join(dir, sb.Name))
		return open, err
	})
}

func importLesson(ctx context.Context, c *config, log *slog.Logger, in string, stdin io.Reader, stdout, stderr io.Writer) error {
	if in == "" {
		return errors.New("-i is required: an export file, or - for standard input")
	}
	var src *os.File
	if in == "-" {
		// Import reads its input twice (it checks everything before it
		// stores anything), so standard input goes to a temporary file.
		tmp, err := os.CreateTemp("", "classroom-import-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if _, err := io.Copy(tmp, io.LimitReader(stdin, timeline.DefaultMaxBytes+1)); err != nil {
			return fmt.Errorf("read standard input: %w", err)
		}
		src = tmp
	} else {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return err
	}
	store, err := eventstore.Open(ctx, c.store(log))
	if err != nil {
		return err
	}
	defer store.Close()
	checked, stored := &progress{w: stderr, verb: "checked"}, &progress{w: stderr, verb: "imported"}
	target := lessonlog.ImportTarget(store)
	target.Progress = func(c, a int64) {
		if a == 0 {
			checked.report(c, c, false)
		} else {
			stored.report(a, c, false)
		}
	}
	res, err := timeline.Import(ctx, src, target, timeline.Limits{})
	if err != nil {
		return err
	}
	stored.report(res.LastSeq, res.LastSeq, true)
	fmt.Fprintf(stdout, "imported lesson %s (%q): %d events, state %s\n", res.Lesson, res.Title, res.Events, res.StateHash)
	return nil
}
