package lessonlog_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/lessonlog"
)

// TestFormatNames holds FormatNames, FormatOf and FileName to each other:
// every name listed is a format, and the file name ends in its extension.
func TestFormatNames(t *testing.T) {
	l := eventstore.Lesson{ID: uuid.MustParse("ed62f47e-0000-4000-8000-000000000000"), Title: "Fractions, week 3"}
	names := strings.Split(lessonlog.FormatNames, ", ")
	if len(names) != 10 {
		t.Fatalf("FormatNames lists %d formats: %q", len(names), lessonlog.FormatNames)
	}
	for _, name := range names {
		f, ok := lessonlog.FormatOf(name)
		if !ok || f.Write == nil || f.ContentType == "" {
			t.Fatalf("%q is listed but FormatOf does not know it", name)
		}
		if got, want := lessonlog.FileName(l, name), "fractions-week-3-ed62f47e."+f.Ext; got != want {
			t.Errorf("file name of %s: %q, want %q", name, got, want)
		}
	}
	if _, ok := lessonlog.FormatOf("xml"); ok {
		t.Error("FormatOf knows xml")
	}
}

// TestExportUnknownFormat refuses a format it does not know before it reads
// an event or writes a byte.
func TestExportUnknownFormat(t *testing.T) {
	read := false
	events := func(yield func(domain.Event, error) bool) { read = true }
	var out bytes.Buffer
	n, err := lessonlog.Export(&out, "xml", events)
	if domain.ErrorCode(err) != domain.CodeInvalid || n != 0 || read || out.Len() != 0 {
		t.Fatalf("export as xml: %d events, %d bytes, read %v, %v", n, out.Len(), read, err)
	}
}
