package domain

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/google/uuid"
)

// decodeStrokeDrawn decodes a stroke.drawn payload in one pass, for the
// payloads a lesson's log is mostly made of: encoding/json scans a payload
// once to check it, once to decode it and skips the points a third time
// before Points reads them, and strokes are most of what a replay decodes.
//
// It takes only a strict subset of JSON, the form EncodePayload writes and
// little else: an object of the payload's own keys, each at most once,
// spelled exactly; strings without escapes; integers for the part and the
// page; null only for the points. For anything else, and for every input that is wrong, ok is
// false and the caller decodes with encoding/json, which gives the same
// value or the error: so whatever this accepts, encoding/json accepts too
// and decodes to the same payload (FuzzStrokeDecoder checks it).
func decodeStrokeDrawn(b []byte) (p *StrokeDrawn, ok bool) {
	d := strictDecoder{jsonCursor{b: b}}
	p = &StrokeDrawn{}
	var seen keySet
	ok = d.object(func(key []byte) bool {
		var bit uint8
		var done bool
		switch string(key) {
		case "object":
			bit, done = 1, d.uuid(&p.Object)
		case "slide":
			bit, done = 2, d.slide(&p.Slide)
		case "part":
			bit, done = 4, d.int(&p.Part)
		case "tool":
			bit, done = 8, d.str(&p.Tool)
		case "color":
			bit, done = 16, d.str(&p.Color)
		case "width":
			bit, done = 32, d.float(&p.Width)
		case "points":
			bit, done = 64, d.points(&p.Points)
		}
		return seen.take(bit, done)
	})
	d.space()
	if !ok || d.i != len(d.b) {
		return nil, false
	}
	return p, true
}

// decodeChatPosted decodes a chat.posted payload in one pass, as
// decodeStrokeDrawn does a stroke's: {"text": "…"} with no escape in the
// text; ok is false for anything else, left to encoding/json. Chat lines
// and hands are most of a lesson's log after strokes.
func decodeChatPosted(b []byte) (p *ChatPosted, ok bool) {
	d := strictDecoder{jsonCursor{b: b}}
	p = &ChatPosted{}
	seen := false
	ok = d.object(func(key []byte) bool {
		if string(key) != "text" || seen {
			return false
		}
		seen = true
		return d.str(&p.Text)
	})
	d.space()
	if !ok || d.i != len(d.b) {
		return nil, false
	}
	return p, true
}

// keySet is the keys of an object read so far, a bit each.
type keySet uint8

// take notes the key of bit, whose value done reports read, and reports
// whether the object may go on: not when the key is unknown (bit 0:
// unknown, or spelled otherwise) or came before.
func (s *keySet) take(bit uint8, done bool) bool {
	if bit == 0 || uint8(*s)&bit != 0 {
		return false
	}
	*s |= keySet(bit)
	return done
}

// strictDecoder reads the strict subset of JSON the one-pass decoders take,
// checking the syntax itself: its input has not been through encoding/json.
type strictDecoder struct{ jsonCursor }

// object reads {"key": value, …}, calling field for each key with the
// cursor at its value; field reads the value.
func (d *strictDecoder) object(field func(key []byte) bool) bool {
	d.space()
	if !d.byte('{') {
		return false
	}
	d.space()
	if d.byte('}') {
		return true
	}
	for {
		d.space()
		key, ok := d.rawString()
		if !ok {
			return false
		}
		d.space()
		if !d.byte(':') {
			return false
		}
		d.space()
		if !field(key) {
			return false
		}
		d.space()
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// rawString reads a string without escapes or control characters, in
// valid UTF-8, and returns its bytes.
func (d *strictDecoder) rawString() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start, ascii := d.i, true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			return s, ascii || utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.i++
	}
	return nil, false
}

func (d *strictDecoder) str(into *string) bool {
	s, ok := d.rawString()
	*into = string(s)
	return ok
}

// uuid reads a string as uuid.UUID's UnmarshalText, which encoding/json
// calls, would.
func (d *strictDecoder) uuid(into *uuid.UUID) bool {
	s, ok := d.rawString()
	return ok && into.UnmarshalText(s) == nil
}

func (d *strictDecoder) slide(into *Slide) bool {
	var seen keySet
	return d.object(func(key []byte) bool {
		var bit uint8
		var done bool
		switch string(key) {
		case "deck":
			bit, done = 1, d.uuid(&into.Deck)
		case "page":
			bit, done = 2, d.int(&into.Page)
		}
		return seen.take(bit, done)
	})
}

// number reads a JSON number's token, checking its grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func (d *strictDecoder) number() ([]byte, bool) {
	start := d.i
	d.byte('-')
	switch {
	case d.byte('0'):
	case d.digits() == 0:
		return nil, false
	}
	if d.byte('.') && d.digits() == 0 {
		return nil, false
	}
	if d.byte('e') || d.byte('E') {
		if !d.byte('+') {
			d.byte('-')
		}
		if d.digits() == 0 {
			return nil, false
		}
	}
	return d.b[start:d.i], true
}

// digits consumes decimal digits and returns how many.
func (d *strictDecoder) digits() int {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i - start
}

// int reads an integer as encoding/json reads one into an int: digits only,
// in range.
func (d *strictDecoder) int(into *int) bool {
	tok, ok := d.number()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(string(tok), 10, strconv.IntSize)
	*into = int(n)
	return err == nil
}

func (d *strictDecoder) float(into *float64) bool {
	tok, ok := d.number()
	if !ok {
		return false
	}
	f, ok := parseFloat(tok)
	*into = f
	return ok
}

// points reads [[x,y,t,pressure],…] as Points.UnmarshalJSON would; a point
// that is not four numbers or has a time that is not whole milliseconds is
// left to encoding/json, for its error.
func (d *strictDecoder) points(into *Points) bool {
	if d.literal("null") { // as EncodePayload writes no points
		*into = nil
		return true
	}
	if !d.byte('[') {
		return false
	}
	out := make(Points, 0, (len(d.b)-d.i)/20+1) // a point takes about 20 bytes as written
	d.space()
	if d.byte(']') {
		*into = out
		return true
	}
	for {
		d.space()
		if !d.byte('[') {
			return false
		}
		var a [4]float64
		for k := range a {
			d.space()
			if k > 0 {
				if !d.byte(',') {
					return false
				}
				d.space()
			}
			tok, ok := d.number()
			if !ok {
				return false
			}
			if a[k], ok = parseFloat(tok); !ok {
				return false
			}
		}
		d.space()
		if !d.byte(']') {
			return false
		}
		p, err := pointOf(a)
		if err != nil {
			return false
		}
		out = append(out, p)
		d.space()
		if d.byte(']') {
			*into = out
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// exactPow10 are the powers of ten a float64 holds exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat converts a well-formed JSON number to the float64
// strconv.ParseFloat gives. A number of at most 15 significant digits
// (under 2^53) times a power of ten a float64 holds exactly takes one
// correctly rounded division, the exact case
// strconv also takes first; any other goes to strconv. ok is false when
// the number is out of range, as encoding/json refuses it.
func parseFloat(tok []byte) (float64, bool) {
	i, neg := 0, false
	if tok[0] == '-' {
		neg, i = true, 1
	}
	var mant uint64
	digits, exp := 0, 0
	for ; i < len(tok) && tok[i] >= '0' && tok[i] <= '9'; i++ {
		if mant != 0 || tok[i] != '0' {
			digits++
		}
		mant = mant*10 + uint64(tok[i]-'0')
	}
	if i < len(tok) && tok[i] == '.' {
		for i++; i < len(tok) && tok[i] >= '0' && tok[i] <= '9'; i++ {
			if mant != 0 || tok[i] != '0' {
				digits++
			}
			mant = mant*10 + uint64(tok[i]-'0')
			exp--
		}
	}
	if i == len(tok) && digits <= 15 && exp >= -len(exactPow10)+1 {
		f := float64(mant) / exactPow10[-exp]
		if neg {
			f = -f
		}
		return f, true
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	return f, err == nil && !math.IsInf(f, 0)
}
