package lessonlog

import (
	"archive/zip"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/domain/timeline"
	"classroom/eventstore"
)

// Format is one format a lesson is exported in.
type Format struct {
	Ext         string // of the file name
	ContentType string
	// Write writes the export of events to w and returns the number of
	// events read.
	Write func(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error)
}

// FormatNames lists the formats FormatOf knows, by the names they are asked
// for with.
const FormatNames = "json, ndjson, csv, chapters.vtt, chat.vtt, svg, attendance.csv, attendance.json, polls.csv, groups.csv"

// FormatOf returns the format of one of FormatNames.
func FormatOf(name string) (Format, bool) {
	switch name {
	case "json":
		return Format{"json", "application/json", timeline.WriteJSON}, true
	case "ndjson":
		return Format{"ndjson", "application/x-ndjson", timeline.WriteNDJSON}, true
	case "csv":
		return Format{"csv", "text/csv; charset=utf-8; header=present", timeline.WriteCSV}, true
	case "chapters.vtt":
		return Format{"chapters.vtt", "text/vtt; charset=utf-8", timeline.WriteChapters}, true
	case "chat.vtt":
		return Format{"chat.vtt", "text/vtt; charset=utf-8", timeline.WriteChat}, true
	case "svg":
		return Format{"svg.zip", "application/zip", WriteSVGZip}, true
	case "attendance.csv":
		return Format{"attendance.csv", "text/csv; charset=utf-8; header=present", timeline.WriteAttendanceCSV}, true
	case "attendance.json":
		return Format{"attendance.json", "application/json", timeline.WriteAttendanceJSON}, true
	case "polls.csv":
		return Format{"polls.csv", "text/csv; charset=utf-8; header=present", timeline.WritePollsCSV}, true
	case "groups.csv":
		return Format{"groups.csv", "text/csv; charset=utf-8; header=present", timeline.WriteGroupsCSV}, true
	}
	return Format{}, false
}

// Export writes a lesson in one of FormatNames to w, reading its events as
// it goes. It returns the number of events read.
func Export(w io.Writer, format string, events iter.Seq2[domain.Event, error]) (int64, error) {
	f, ok := FormatOf(format)
	if !ok {
		return 0, domain.Errorf(domain.CodeInvalid, "unknown export format %q (one of %s)", format, FormatNames)
	}
	return f.Write(w, events)
}

// WriteSVGZip writes each slide's final board as an SVG (timeline.WriteSVG)
// into one zip archive, one file per slide. A zip, because the boards are
// several files of one download, every system opens one, and it streams:
// each file is compressed as it is written and the index comes last.
func WriteSVGZip(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error) {
	return WriteSVGZipOver(w, events, nil)
}

// SlidePage reads the image of a deck's page: its content type and bytes.
type SlidePage func(deck uuid.UUID, page int) (contentType string, data []byte, err error)

// WriteSVGZipOver is WriteSVGZip with each deck page's image in the
// archive beside its board's SVG ("deck01-shapes-p001.svg" over
// "deck01-shapes-p001.png"), which the SVG draws behind the board. pages
// nil, or a page it cannot read (a deck no longer kept), leaves the board
// over white, as WriteSVGZip does.
func WriteSVGZipOver(w io.Writer, events iter.Seq2[domain.Event, error], pages SlidePage) (int64, error) {
	zw := zip.NewWriter(w)
	var background func(timeline.SlideBoard) (string, error)
	if pages != nil {
		background = func(sb timeline.SlideBoard) (string, error) {
			ct, data, err := pages(sb.Under.Deck, sb.Under.Page)
			if err != nil {
				if domain.ErrorCode(err) == domain.CodeNotFound {
					return "", nil
				}
				return "", err
			}
			ext := map[string]string{"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}[ct]
			if ext == "" {
				return "", nil
			}
			name := strings.TrimSuffix(sb.Name, ".svg") + ext
			f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: time.Now().UTC()})
			if err != nil {
				return "", err
			}
			if _, err := f.Write(data); err != nil {
				return "", err
			}
			return name, nil
		}
	}
	n, err := timeline.WriteSVGOver(events, func(sb timeline.SlideBoard) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: sb.Name, Method: zip.Deflate, Modified: time.Now().UTC()})
	}, background)
	if err != nil {
		return n, err
	}
	return n, zw.Close()
}

// FileName is the name an export of the lesson is saved as:
// "fractions-week-3-ed62f47e.csv".
func FileName(l eventstore.Lesson, format string) string {
	f, ok := FormatOf(format)
	if !ok {
		f.Ext = format
	}
	name := timeline.Slug(l.Title, "lesson")
	return name + "-" + l.ID.String()[:8] + "." + f.Ext
}
