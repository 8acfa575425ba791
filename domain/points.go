package domain

import (
	"math"
	"strconv"
)

// Points is a stroke's samples. It encodes as an array of [x, y, t, pressure]
// arrays, exactly as []Point would through encoding/json, but without
// reflection or a call per point: strokes are most of a lesson's log, and a
// late joiner's replay decodes every one of them.
type Points []Point

// MarshalJSON encodes the points as [[x,y,t,pressure],…]; nil encodes as null.
func (ps Points) MarshalJSON() ([]byte, error) {
	if ps == nil {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 2+len(ps)*32)
	b = append(b, '[')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = p.appendJSON(b)
	}
	return append(b, ']'), nil
}

// UnmarshalJSON decodes [[x,y,t,pressure],…] or null. encoding/json has
// checked that b is well-formed JSON before it calls this, so the parser
// only needs to refuse what is well-formed but not points.
func (ps *Points) UnmarshalJSON(b []byte) error {
	d := pointDecoder{jsonCursor{b: b}}
	d.space()
	if d.literal("null") {
		*ps = nil
		return nil
	}
	if !d.byte('[') {
		return Errorf(CodeInvalid, "points must be an array")
	}
	out := make(Points, 0, len(b)/24)
	d.space()
	if d.byte(']') {
		*ps = out
		return nil
	}
	for {
		p, err := d.point()
		if err != nil {
			return err
		}
		out = append(out, p)
		d.space()
		if d.byte(']') {
			break
		}
		if !d.byte(',') {
			return Errorf(CodeInvalid, "malformed points")
		}
	}
	*ps = out
	return nil
}

// appendJSON appends [x,y,t,pressure].
func (p Point) appendJSON(b []byte) []byte {
	b = append(b, '[')
	b = appendFloat(b, p.X)
	b = append(b, ',')
	b = appendFloat(b, p.Y)
	b = append(b, ',')
	b = strconv.AppendInt(b, p.T, 10)
	b = append(b, ',')
	b = appendFloat(b, p.Pressure)
	return append(b, ']')
}

// jsonCursor walks JSON bytes: the scanning the point and snapshot
// decoders share.
type jsonCursor struct {
	b []byte
	i int
}

// space skips white space.
func (d *jsonCursor) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// byte consumes c if it comes next.
func (d *jsonCursor) byte(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// literal consumes s if it comes next.
func (d *jsonCursor) literal(s string) bool {
	if len(d.b)-d.i >= len(s) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

// pointDecoder reads points from well-formed JSON.
type pointDecoder struct{ jsonCursor }

// number reads one JSON number.
func (d *pointDecoder) number() (float64, error) {
	d.space()
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			d.i++
			continue
		}
		break
	}
	tok := d.b[start:d.i]
	// A well-formed JSON value starting with a digit or '-' is a number; any
	// other value (string, array, object, literal) is not a coordinate.
	if len(tok) == 0 || !(tok[0] == '-' || tok[0] >= '0' && tok[0] <= '9') {
		return 0, Errorf(CodeInvalid, "a point is [x, y, t, pressure] of numbers")
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		return 0, Errorf(CodeInvalid, "point number %s is out of range", tok)
	}
	return f, nil
}

func (d *pointDecoder) point() (Point, error) {
	d.space()
	if !d.byte('[') {
		return Point{}, Errorf(CodeInvalid, "a point is [x, y, t, pressure]")
	}
	var a [4]float64
	for k := range a {
		if k > 0 {
			d.space()
			if !d.byte(',') {
				return Point{}, Errorf(CodeInvalid, "a point is [x, y, t, pressure], not %d numbers", k)
			}
		}
		f, err := d.number()
		if err != nil {
			return Point{}, err
		}
		a[k] = f
	}
	d.space()
	if !d.byte(']') {
		return Point{}, Errorf(CodeInvalid, "a point is [x, y, t, pressure], not more numbers")
	}
	return pointOf(a)
}

// maxPointTime bounds the time a point read back may carry, either way:
// validation keeps stored points within MaxPointMillis, far below it.
const maxPointTime = 1 << 40

// pointOf checks that t is a whole number of milliseconds.
func pointOf(a [4]float64) (Point, error) {
	if a[2] != math.Trunc(a[2]) || math.Abs(a[2]) > maxPointTime {
		return Point{}, Errorf(CodeInvalid, "point time %v is not a whole number of milliseconds", a[2])
	}
	return Point{X: a[0], Y: a[1], T: int64(a[2]), Pressure: a[3]}, nil
}
