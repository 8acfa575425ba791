package timeline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"time"

	"classroom/domain"
)

// Format and Version name the lesson export this code writes and reads.
const (
	Format  = "classroom-lesson"
	Version = 1
)

// Header opens an export: what it is and which lesson. In the JSON form it is
// the document's first three fields; in NDJSON, the first line.
type Header struct {
	Format  string       `json:"format"`
	Version int          `json:"version"`
	Lesson  LessonHeader `json:"lesson"`
}

// LessonHeader describes the exported lesson, as its lesson.created event does.
type LessonHeader struct {
	ID      string    `json:"id"`
	Title   string    `json:"title"`
	Created time.Time `json:"created"`
}

// End closes an export: how many events it holds, the last sequence number
// and the state hash (domain.State.Hash) of the lesson after them. A reader
// that reaches End has read the whole file, so a truncated file is refused
// even when it was cut between two events, and an edited event whose fold
// differs is refused too. The hash proves integrity, not authorship: anyone
// can recompute it.
type End struct {
	Events    int64  `json:"events"`
	LastSeq   int64  `json:"last_seq"`
	StateHash string `json:"state_hash"`
}

// WriteJSON writes the whole lesson as one JSON document:
//
//	{"format":"classroom-lesson","version":1,"lesson":{…},
//	 "events":[
//	 {event},
//	 …],
//	 "end":{"events":N,"last_seq":N,"state_hash":"…"}}
//
// with each event in domain's own encoding, one a line. It reads events once
// and holds one at a time (besides the folded state that End's hash needs).
// It returns the number of events written.
func WriteJSON(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error) {
	return writeLog(w, events, false)
}

// WriteNDJSON writes the lesson as newline-delimited JSON: the Header on the
// first line, one event a line, and {"end":{…}} on the last.
func WriteNDJSON(w io.Writer, events iter.Seq2[domain.Event, error]) (int64, error) {
	return writeLog(w, events, true)
}

func writeLog(w io.Writer, events iter.Seq2[domain.Event, error], ndjson bool) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	state := domain.NewState()
	var n int64
	for e, err := range events {
		if err != nil {
			return n, err
		}
		if e.Seq != state.Seq+1 {
			return n, domain.Errorf(domain.CodeInvalid, "event %d follows event %d: the log has a gap", e.Seq, state.Seq)
		}
		if n == 0 {
			h, err := headerOf(e)
			if err != nil {
				return n, err
			}
			b, err := json.Marshal(h)
			if err != nil {
				return n, fmt.Errorf("encode export header: %w", err)
			}
			if ndjson {
				bw.Write(b)
				bw.WriteByte('\n')
			} else {
				bw.Write(b[:len(b)-1]) // the header without its closing brace
				bw.WriteString(",\"events\":[\n")
			}
		} else if !ndjson {
			bw.WriteString(",\n")
		}
		b, err := json.Marshal(e)
		if err != nil {
			return n, fmt.Errorf("encode event %d: %w", e.Seq, err)
		}
		if ndjson {
			b = append(b, '\n')
		}
		if _, err := bw.Write(b); err != nil {
			return n, err // the writer failed: stop reading
		}
		state.Apply(e)
		n++
	}
	if n == 0 {
		return 0, domain.Errorf(domain.CodeNotFound, "the lesson has no events")
	}
	end, err := json.Marshal(struct {
		End End `json:"end"`
	}{End{Events: n, LastSeq: state.Seq, StateHash: state.Hash()}})
	if err != nil {
		return n, fmt.Errorf("encode export end: %w", err)
	}
	if ndjson {
		bw.Write(end)
		bw.WriteByte('\n')
	} else {
		bw.WriteString("\n],")
		bw.Write(end[1:]) // "end":{…}} closes the document
		bw.WriteByte('\n')
	}
	return n, bw.Flush()
}

// headerOf makes the header from the log's first event.
func headerOf(e domain.Event) (Header, error) {
	lc, ok := e.Payload.(*domain.LessonCreated)
	if !ok || e.Seq != 1 {
		return Header{}, domain.Errorf(domain.CodeInvalid, "the log starts with %s %d, not lesson.created 1", e.Kind(), e.Seq)
	}
	return Header{Format: Format, Version: Version,
		Lesson: LessonHeader{ID: e.Lesson.String(), Title: lc.Title, Created: e.Time}}, nil
}
