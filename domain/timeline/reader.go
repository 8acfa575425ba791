package timeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"classroom/domain"
)

// Limits bound what a Reader accepts. Zero fields take the defaults.
type Limits struct {
	MaxBytes  int64 // the whole input; default DefaultMaxBytes
	MaxEvents int64 // events in the lesson; default DefaultMaxEvents
}

// Default limits: far above a long lesson (an hour of a busy class is about
// 100,000 events and 100 MB), low enough that the ids Reader remembers to
// refuse duplicates stay within a few hundred megabytes.
const (
	DefaultMaxBytes  = 4 << 30
	DefaultMaxEvents = 4_000_000
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxEvents <= 0 {
		l.MaxEvents = DefaultMaxEvents
	}
	return l
}

// maxValueBytes bounds one JSON value of the input (an event, the header,
// the end): an encoded event's limit and room for indentation.
const maxValueBytes = domain.MaxEncodedEventBytes + 4<<10

// readChunk bounds one read from the input, so that what the JSON decoder
// buffers ahead of the value it decodes stays small.
const readChunk = 32 << 10

// Reader decodes a lesson exported by WriteJSON or WriteNDJSON, telling the
// two apart by themselves. It checks as it reads: the format and version, each
// event (domain.DecodeEvent: encoding, bounds, size), that events belong to
// the header's lesson, start at 1 with lesson.created and follow each other
// without gap or repeat, that no event id repeats, and that the file ends with
// an End that counts them. It does not fold the events: Import compares
// End's state hash. Every error is a *domain.Error with CodeInvalid naming
// the place, except errors of the underlying reader.
type Reader struct {
	lim    Limits
	src    *window
	dec    *json.Decoder
	ndjson bool
	header Header
	end    *End
	n      int64
	seq    int64
	ids    map[[16]byte]struct{}
	err    error // sticky
}

// NewReader reads and checks the header of an export.
func NewReader(r io.Reader, lim Limits) (*Reader, error) {
	lim = lim.withDefaults()
	src := &window{r: r, total: lim.MaxBytes}
	rd := &Reader{lim: lim, src: src, dec: json.NewDecoder(src), ids: map[[16]byte]struct{}{}}
	rd.dec.DisallowUnknownFields()
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

// Header returns the export's header.
func (r *Reader) Header() Header { return r.header }

// End returns the export's end once Next has returned io.EOF.
func (r *Reader) End() (End, bool) {
	if r.end == nil {
		return End{}, false
	}
	return *r.end, true
}

func invalid(format string, args ...any) error {
	return domain.Errorf(domain.CodeInvalid, format, args...)
}

// syntax turns a decoder's error into a clear one.
func (r *Reader) syntax(what string, err error) error {
	var (
		tooBig   *valueTooLarge
		tooLarge *inputTooLarge
	)
	switch {
	case errors.As(err, &tooBig):
		return invalid("%s is larger than %d bytes", what, maxValueBytes)
	case errors.As(err, &tooLarge):
		return invalid("the file is larger than %d bytes", r.lim.MaxBytes)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("the file ends in the middle of %s: it is truncated", what)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return invalid("malformed JSON in %s at byte %d: %v", what, se.Offset, err)
	}
	var re *readError
	if errors.As(err, &re) {
		return fmt.Errorf("read %s: %w", what, re.err)
	}
	if domain.ErrorCode(err) != domain.CodeInternal {
		return err
	}
	return invalid("malformed %s: %v", what, err)
}

func (r *Reader) token(what string) (json.Token, error) {
	r.src.mark()
	t, err := r.dec.Token()
	if err != nil {
		return nil, r.syntax(what, err)
	}
	return t, nil
}

// readHeader reads the opening of either form: {"format":…,"version":…,
// "lesson":{…}, then either "events":[ (JSON) or } (NDJSON).
func (r *Reader) readHeader() error {
	t, err := r.token("the header")
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return invalid("this is not a lesson export: it does not start with a JSON object")
	}
	var seen [3]bool
	for {
		t, err := r.token("the header")
		if err != nil {
			return err
		}
		if t == json.Delim('}') {
			r.ndjson = true
			break
		}
		key, _ := t.(string)
		if key == "events" {
			if t, err := r.token("the events"); err != nil {
				return err
			} else if t != json.Delim('[') {
				return invalid(`"events" is not an array`)
			}
			break
		}
		var dst any
		switch key {
		case "format":
			dst, seen[0] = &r.header.Format, true
		case "version":
			dst, seen[1] = &r.header.Version, true
		case "lesson":
			dst, seen[2] = &r.header.Lesson, true
		default:
			return invalid("unknown field %q in the header", key)
		}
		r.src.mark()
		if err := r.dec.Decode(dst); err != nil {
			return r.syntax("the header's "+key, err)
		}
		if key == "format" && r.header.Format != Format {
			return invalid("this is not a lesson export: format %q, want %q", r.header.Format, Format)
		}
		if key == "version" && r.header.Version != Version {
			return invalid("lesson export version %d is not supported (this server reads version %d)", r.header.Version, Version)
		}
	}
	if !seen[0] {
		return invalid("this is not a lesson export: it has no format")
	}
	if !seen[1] || !seen[2] {
		return invalid("the header lacks its version or lesson")
	}
	return nil
}

// Next returns the next event, checked. After the last one it reads and
// checks the end and returns io.EOF. Any error sticks.
func (r *Reader) Next() (domain.Event, error) {
	if r.err != nil {
		return domain.Event{}, r.err
	}
	e, err := r.next()
	if err != nil {
		r.err = err
	}
	return e, err
}

func (r *Reader) next() (domain.Event, error) {
	what := fmt.Sprintf("event %d", r.n+1)
	var raw json.RawMessage
	if r.ndjson {
		r.src.mark()
		if err := r.dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return domain.Event{}, invalid("the file ends after event %d without its end line: it is truncated", r.n)
			}
			return domain.Event{}, r.syntax(what, err)
		}
		if isEnd(raw) {
			return domain.Event{}, r.finish(raw)
		}
	} else {
		if !r.dec.More() {
			return domain.Event{}, r.finishJSON()
		}
		r.src.mark()
		if err := r.dec.Decode(&raw); err != nil {
			return domain.Event{}, r.syntax(what, err)
		}
	}
	if r.n >= r.lim.MaxEvents {
		return domain.Event{}, invalid("the lesson has more than %d events", r.lim.MaxEvents)
	}
	e, err := domain.DecodeEvent(raw)
	if err != nil {
		return domain.Event{}, invalid("%s is malformed: %s", what, domain.ErrorMessage(err))
	}
	switch {
	case e.Lesson.String() != r.header.Lesson.ID:
		return domain.Event{}, invalid("%s (seq %d) belongs to lesson %s, not %s", what, e.Seq, e.Lesson, r.header.Lesson.ID)
	case e.Seq <= r.seq:
		return domain.Event{}, invalid("%s has seq %d after seq %d: events are out of order or repeated", what, e.Seq, r.seq)
	case e.Seq != r.seq+1:
		return domain.Event{}, invalid("%s has seq %d after seq %d: events are missing (a gap) or out of order", what, e.Seq, r.seq)
	}
	if e.Seq == 1 {
		lc, ok := e.Payload.(*domain.LessonCreated)
		if !ok {
			return domain.Event{}, invalid("the log starts with %s, not lesson.created", e.Kind())
		}
		if lc.Title != r.header.Lesson.Title || !e.Time.Equal(r.header.Lesson.Created) {
			return domain.Event{}, invalid("lesson.created does not match the header's title and time")
		}
	} else if e.Kind() == domain.KindLessonCreated {
		return domain.Event{}, invalid("%s (seq %d) creates the lesson again", what, e.Seq)
	}
	if _, dup := r.ids[e.ID]; dup {
		return domain.Event{}, invalid("%s (seq %d) repeats the id %s of an earlier event", what, e.Seq, e.ID)
	}
	r.ids[e.ID] = struct{}{}
	r.n++
	r.seq = e.Seq
	return e, nil
}

// isEnd reports whether an NDJSON value is the end line: an object whose
// first key is "end".
func isEnd(raw json.RawMessage) bool {
	d := json.NewDecoder(bytes.NewReader(raw))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	t, err := d.Token()
	return err == nil && t == "end"
}

// finishJSON reads "]", "end":{…} and "}" of the JSON form.
func (r *Reader) finishJSON() error {
	if _, err := r.token("the end of the events"); err != nil { // ]
		return err
	}
	t, err := r.token("the end")
	if err != nil {
		return err
	}
	if t != "end" {
		return invalid(`the events are followed by %v, not "end"`, t)
	}
	var end End
	r.src.mark()
	if err := r.decodeStrict(&end); err != nil {
		return err
	}
	if t, err := r.token("the end"); err != nil {
		return err
	} else if t != json.Delim('}') {
		return invalid("the document goes on after its end")
	}
	return r.checkEnd(end)
}

// decodeStrict decodes the next value refusing unknown fields.
func (r *Reader) decodeStrict(v any) error {
	var raw json.RawMessage
	if err := r.dec.Decode(&raw); err != nil {
		return r.syntax("the end", err)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return invalid("malformed end: %v", err)
	}
	return nil
}

// finish checks the NDJSON end line.
func (r *Reader) finish(raw json.RawMessage) error {
	var w struct {
		End *End `json:"end"`
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&w); err != nil || w.End == nil {
		return invalid("malformed end line: %v", err)
	}
	return r.checkEnd(*w.End)
}

func (r *Reader) checkEnd(end End) error {
	if end.Events != r.n || end.LastSeq != r.seq {
		return invalid("the end counts %d events up to seq %d, but the file holds %d up to seq %d",
			end.Events, end.LastSeq, r.n, r.seq)
	}
	if r.n == 0 {
		return invalid("the export holds no events")
	}
	// Nothing but white space may follow.
	if r.dec.More() {
		return invalid("the file goes on after its end")
	}
	if _, err := r.dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			return invalid("the file goes on after its end")
		}
		return r.syntax("the end", err)
	}
	r.end = &end
	return io.EOF
}

// inputTooLarge is window's error past Limits.MaxBytes.
type inputTooLarge struct{}

func (*inputTooLarge) Error() string { return "input too large" }

// valueTooLarge is window's error when one value goes on too long.
type valueTooLarge struct{}

func (*valueTooLarge) Error() string { return "value too large" }

// window reads the input in small chunks, counting what was read since the
// decoder started its current value (mark) and in all. It fails a value that
// goes on past maxValueBytes, so that an oversized event is refused before it
// is buffered whole, and an input past its total limit.
type window struct {
	r     io.Reader
	total int64 // bytes allowed in all
	read  int64
	since int64 // bytes read since mark
}

func (w *window) mark() { w.since = 0 }

func (w *window) Read(p []byte) (int, error) {
	if w.since > maxValueBytes+readChunk {
		return 0, &valueTooLarge{}
	}
	if w.read >= w.total {
		// One byte more tells a file of exactly the limit from a larger one.
		var one [1]byte
		if n, _ := io.ReadFull(w.r, one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, &inputTooLarge{}
	}
	p = p[:min(len(p), readChunk, int(min(w.total-w.read, int64(readChunk))))]
	n, err := w.r.Read(p)
	w.read += int64(n)
	w.since += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		err = &readError{err}
	}
	return n, err
}

// readError is a failure of the input itself, not of what it holds.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }
