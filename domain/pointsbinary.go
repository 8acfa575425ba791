package domain

import (
	"encoding/binary"
	"math"
)

// The binary form of a stroke's points, for stores that keep them beside
// the rest of the payload: reading a number back from it is a varint and
// one division, where JSON's decimal text takes a parse, and it is about a
// quarter of the JSON's size, which the database reads and sends for every
// stroke. A long lesson's log is mostly strokes' numbers.
//
// It is a format byte (pointsV1), the number of points (an unsigned
// varint), then the points column by column: x, y, t, pressure. A column
// of x, y or pressure is a scale byte k and then each value v as the
// signed varint difference from the previous value's m (from 0 for the
// first), where v is the float64 nearest m/10^k, that is float64(m)/10^k
// (m an integer below 2^53, the one correctly rounded division that
// strconv.ParseFloat also makes for such a decimal). A board's coordinates
// have a decimal or two and move a little from point to point, so most
// values take one or two bytes. A column whose values are not all such
// decimals (a negative zero, a value of many digits) is the scale byte
// rawColumn and each value's float64 bits as 8 little-endian bytes. The
// times are signed varint differences, from 0 for the first. Every value is
// kept to the bit, so points read back from it encode to the same JSON as
// the points that were written.
const (
	pointsV1  = 1
	rawColumn = 0xff
	maxScale  = 8       // decimals a column may have
	maxExact  = 1 << 53 // |m| below which float64(m) is exact
)

// AppendBinary appends the points' binary form to b. It refuses, with
// CodeInvalid and b as it was, points that JSON cannot hold and so
// UnmarshalBinary would refuse to read back: a coordinate or a pressure
// that is NaN or infinite, or a time beyond what a point's JSON form
// admits. (Event.Validate refuses them too; the binary form does not rely
// on it.)
func (ps Points) AppendBinary(b []byte) ([]byte, error) {
	for i, p := range ps {
		for _, v := range [3]float64{p.X, p.Y, p.Pressure} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return b, Errorf(CodeInvalid, "point %d has a coordinate or pressure that is not a finite number", i)
			}
		}
		if p.T < -maxPointTime || p.T > maxPointTime {
			return b, Errorf(CodeInvalid, "point %d has a time beyond ±%d", i, int64(maxPointTime))
		}
	}
	b = append(b, pointsV1)
	b = binary.AppendUvarint(b, uint64(len(ps)))
	b = appendColumn(b, ps, func(p Point) float64 { return p.X })
	b = appendColumn(b, ps, func(p Point) float64 { return p.Y })
	var last int64
	for _, p := range ps {
		b = binary.AppendVarint(b, p.T-last)
		last = p.T
	}
	return appendColumn(b, ps, func(p Point) float64 { return p.Pressure }), nil
}

// appendColumn appends one float column of the points: as decimals of the
// fewest places every value of it takes, or raw.
func appendColumn(b []byte, ps Points, value func(Point) float64) []byte {
	k := 0
	for _, p := range ps {
		places, ok := decimalPlaces(value(p))
		if !ok {
			k = rawColumn
			break
		}
		k = max(k, places)
	}
	if k != rawColumn {
		// A value that is m/10^j is 10^(k-j)·m/10^k, the same rational and
		// so the same nearest float64, unless 10^(k-j)·m reaches 2^53: check.
		for _, p := range ps {
			if _, ok := decimalAt(value(p), k); !ok {
				k = rawColumn
				break
			}
		}
	}
	b = append(b, byte(k))
	if k == rawColumn {
		for _, p := range ps {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(value(p)))
		}
		return b
	}
	var last int64
	for _, p := range ps {
		m, _ := decimalAt(value(p), k)
		b = binary.AppendVarint(b, m-last)
		last = m
	}
	return b
}

// decimalPlaces returns the fewest decimal places k ≤ maxScale at which v
// is float64(m)/10^k for an integer m, if any.
func decimalPlaces(v float64) (int, bool) {
	for k := 0; k <= maxScale; k++ {
		if _, ok := decimalAt(v, k); ok {
			return k, true
		}
	}
	return 0, false
}

// decimalAt returns the m for which float64(m)/10^k is v to the bit, if
// there is one below 2^53.
func decimalAt(v float64, k int) (int64, bool) {
	r := math.Round(v * exactPow10[k])
	if !(math.Abs(r) < maxExact) {
		return 0, false // NaN and ±Inf fail here too
	}
	m := int64(r)
	return m, math.Float64bits(float64(m)/exactPow10[k]) == math.Float64bits(v)
}

// UnmarshalBinary decodes the binary form into new points (never aliasing
// b). It takes only what AppendBinary could have written from points that
// JSON holds too: finite coordinates and pressures, times within what a
// point's JSON form admits; anything else, bytes of the wrong length or an
// unknown format is refused with CodeInvalid.
func (ps *Points) UnmarshalBinary(b []byte) error {
	d := pointsReader{b: b}
	if len(b) == 0 || b[0] != pointsV1 {
		return Errorf(CodeInvalid, "binary points are not in a known format")
	}
	d.i = 1
	n, ok := d.uvarint()
	if !ok || n > uint64(len(b)-d.i)/4 { // a point takes four bytes at least
		return Errorf(CodeInvalid, "binary points have a malformed count")
	}
	out := make(Points, n)
	for c := range 4 {
		if !d.column(out, c) {
			return Errorf(CodeInvalid, "binary points have a malformed %s column", [4]string{"x", "y", "time", "pressure"}[c])
		}
	}
	if d.i != len(b) {
		return Errorf(CodeInvalid, "binary points have %d bytes too many", len(b)-d.i)
	}
	*ps = out
	return nil
}

// pointsReader reads the binary form of points.
type pointsReader struct {
	b []byte
	i int
}

// column reads column c (0 x, 1 y, 2 t, 3 pressure) into out.
func (d *pointsReader) column(out Points, c int) bool {
	if c == 2 {
		var t int64
		for i := range out {
			dt, ok := d.varint()
			if !ok || dt < -2*maxPointTime || dt > 2*maxPointTime {
				return false
			}
			if t += dt; t < -maxPointTime || t > maxPointTime {
				return false
			}
			out[i].T = t
		}
		return true
	}
	if d.i >= len(d.b) {
		return false
	}
	k := int(d.b[d.i])
	d.i++
	if k > maxScale && k != rawColumn {
		return false
	}
	var last int64
	for i := range out {
		var v float64
		if k == rawColumn {
			if len(d.b)-d.i < 8 {
				return false
			}
			v = math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.i:]))
			d.i += 8
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return false
			}
		} else {
			dm, ok := d.varint()
			if !ok || dm <= -2*maxExact || dm >= 2*maxExact {
				return false
			}
			m := last + dm
			if m <= -maxExact || m >= maxExact {
				return false
			}
			last = m
			v = float64(m) / exactPow10[k]
		}
		switch c {
		case 0:
			out[i].X = v
		case 1:
			out[i].Y = v
		default:
			out[i].Pressure = v
		}
	}
	return true
}

// varint reads a signed varint.
func (d *pointsReader) varint() (int64, bool) {
	if d.i < len(d.b) && d.b[d.i] < 0x80 { // one byte: most differences
		u := d.b[d.i]
		d.i++
		return int64(u>>1) ^ -int64(u&1), true
	}
	v, n := binary.Varint(d.b[d.i:])
	if n <= 0 {
		return 0, false
	}
	d.i += n
	return v, true
}

// uvarint reads an unsigned varint.
func (d *pointsReader) uvarint() (uint64, bool) {
	v, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		return 0, false
	}
	d.i += n
	return v, true
}
