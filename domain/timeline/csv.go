package timeline

import (
	"encoding/csv"
	"io"
	"iter"
	"strconv"
	"time"

	"classroom/domain"
)

// WriteCSV writes the lesson's timeline as CSV (RFC 4180, through
// encoding/csv): a header row, then one row per event with the columns
//
//	offset      time since lesson.created as H:MM:SS.mmm, e.g. 0:03:07.250
//	time        the event's time, RFC 3339 in UTC, microseconds
//	seq         its sequence number
//	actor       the participant id ("" for the server)
//	actor_name  their name as they last joined before this event
//	role        teacher, student or system
//	kind        the event kind
//	summary     what happened, in words; for chat, the message
//
// The offset is H:MM:SS.mmm because spreadsheets (LibreOffice, Excel, Google
// Sheets) read that form as a duration they can sort, subtract and format,
// while still reading well as text; a lesson past 24 hours keeps counting
// hours. Line breaks in text become spaces, and a text cell starting with =,
// +, -, @, tab or carriage return gets a leading apostrophe, so that a
// spreadsheet never runs a participant's chat message as a formula. It
// returns the number of events written.
func WriteCSV(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error) {
	cw := csv.NewWriter(w)
	header := []string{"offset", "time", "seq", "actor", "actor_name", "role", "kind", "summary"}
	if err := cw.Write(header); err != nil {
		return 0, err
	}
	v := newLessonView()
	var n int64
	row := make([]string, len(header))
	for e, err := range events {
		if err != nil {
			return n, err
		}
		if err := v.see(e); err != nil {
			return n, err
		}
		row[0] = clock(v.offset(e.Time))
		row[1] = e.Time.UTC().Format(time.RFC3339Nano)
		row[2] = strconv.FormatInt(e.Seq, 10)
		row[3] = e.Actor
		row[4] = ""
		if e.Actor != "" {
			row[4] = cell(v.name(e.Actor))
		}
		row[5] = string(e.Role)
		row[6] = string(e.Kind())
		row[7] = cell(v.summary(e))
		if err := cw.Write(row); err != nil {
			return n, err
		}
		n++
	}
	if n == 0 {
		return 0, domain.Errorf(domain.CodeNotFound, "the lesson has no events")
	}
	cw.Flush()
	return n, cw.Error()
}

// cell makes text safe for a spreadsheet cell: one line, never a formula.
func cell(s string) string {
	s = oneLine(s)
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}
