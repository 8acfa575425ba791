package domain

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// exactPoints prints points with their floats' bits (see exactString).
func exactPoints(ps Points) string { return exactString(&StrokeDrawn{Points: ps}) }

// edgePoints are values the compact columns cannot hold, or only just.
var edgePoints = Points{
	{X: math.Copysign(0, -1), Y: 0, T: 0, Pressure: 0},
	{X: 0.1 + 0.2, Y: 1e300, T: maxPointTime, Pressure: 5e-324},
	{X: -4000.5, Y: 123456789.12345678, T: -maxPointTime, Pressure: 1},
	{X: 9007199254740993, Y: -1e-8, T: 7, Pressure: 0.33},
}

// TestPointsBinaryRoundTrip checks that the binary form gives back every
// point to the bit, through compact and raw columns alike.
func TestPointsBinaryRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cases := []Points{{}, edgePoints, edgePoints[:1], edgePoints[1:2], edgePoints[3:]}
	for range 2000 {
		cases = append(cases, randomStroke(rng).Points)
	}
	for _, ps := range cases {
		if ps == nil {
			ps = Points{} // no points read back as empty, not nil
		}
		b, err := ps.AppendBinary([]byte("prefix"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("prefix")) {
			t.Fatalf("AppendBinary did not append to what it was given: %x", b)
		}
		var got Points
		if err := got.UnmarshalBinary(b[len("prefix"):]); err != nil {
			t.Fatalf("%s: %v", exactPoints(ps), err)
		}
		if exactPoints(got) != exactPoints(ps) {
			t.Fatalf("points\n%s\nread back as\n%s", exactPoints(ps), exactPoints(got))
		}
	}
}

// TestPointsBinaryIsCompact checks that a stroke as the board draws it
// (coordinates rounded to a tenth, whole milliseconds, pressure in
// hundredths) takes the compact columns, not the raw ones: else every
// stroke would quietly be stored at 32 bytes a point.
func TestPointsBinaryIsCompact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ps := make(Points, 200)
	x, y, ms := 800.0, 450.0, int64(0)
	for i := range ps {
		x = math.Round((x+rng.Float64()*30-15)*10) / 10
		y = math.Round((y+rng.Float64()*30-15)*10) / 10
		ms += int64(rng.IntN(17))
		ps[i] = Point{X: x, Y: y, T: ms, Pressure: math.Round(rng.Float64()*100) / 100}
	}
	b, _ := ps.AppendBinary(nil)
	if per := float64(len(b)) / float64(len(ps)); per > 8 {
		t.Fatalf("a drawn stroke takes %.1f bytes a point in binary, want at most 8", per)
	}
	js, _ := ps.MarshalJSON()
	t.Logf("200 drawn points: %d bytes in binary, %d in JSON", len(b), len(js))
}

// TestPointsBinaryRefuses checks that bytes AppendBinary cannot have
// written are refused with CodeInvalid, not read as points.
func TestPointsBinaryRefuses(t *testing.T) {
	good, _ := Points{{X: 1.5, Y: 2, T: 3, Pressure: 0.5}}.AppendBinary(nil)
	nan := []byte{pointsV1, 1, rawColumn}
	nan = binary.LittleEndian.AppendUint64(nan, math.Float64bits(math.NaN()))
	nan = append(nan, 0, 0, 0, 0)
	for name, b := range map[string][]byte{
		"empty":         nil,
		"unknown":       append([]byte{2}, good[1:]...),
		"truncated":     good[:len(good)-1],
		"trailing":      append(append([]byte{}, good...), 0),
		"huge count":    {pointsV1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0},
		"bad scale":     {pointsV1, 1, maxScale + 1, 2, 0, 2, 0, 2},
		"NaN":           nan,
		"time too late": binary.AppendVarint([]byte{pointsV1, 1, 0, 2, 0, 2}, maxPointTime+1),
		"m too large":   binary.AppendVarint([]byte{pointsV1, 1, 0}, maxExact),
		"overlong":      {pointsV1, 1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
	} {
		var ps Points
		if err := ps.UnmarshalBinary(b); ErrorCode(err) != CodeInvalid {
			t.Errorf("%s (%x): got %v (%s), want CodeInvalid", name, b, err, exactPoints(ps))
		}
	}
}

// TestPointsBinaryRefusesToWrite checks that AppendBinary itself refuses
// points that UnmarshalBinary would refuse to read back (NaN, infinities,
// times beyond a point's JSON bound), with CodeInvalid and b untouched,
// rather than writing bytes that a store could not read again.
func TestPointsBinaryRefusesToWrite(t *testing.T) {
	good := Point{X: 1.5, Y: 2, T: 3, Pressure: 0.5}
	with := func(change func(*Point)) Points {
		bad := good
		change(&bad)
		return Points{good, bad}
	}
	for name, ps := range map[string]Points{
		"NaN x":             with(func(p *Point) { p.X = math.NaN() }),
		"+Inf y":            with(func(p *Point) { p.Y = math.Inf(1) }),
		"-Inf pressure":     with(func(p *Point) { p.Pressure = math.Inf(-1) }),
		"NaN pressure":      with(func(p *Point) { p.Pressure = math.NaN() }),
		"time too late":     with(func(p *Point) { p.T = maxPointTime + 1 }),
		"time too early":    with(func(p *Point) { p.T = -maxPointTime - 1 }),
		"time far too late": with(func(p *Point) { p.T = math.MaxInt64 }),
	} {
		b, err := ps.AppendBinary([]byte("prefix"))
		if ErrorCode(err) != CodeInvalid {
			t.Errorf("%s: AppendBinary gave %x, %v; want CodeInvalid", name, b, err)
		}
		if string(b) != "prefix" {
			t.Errorf("%s: AppendBinary changed b to %q", name, b)
		}
	}
	if _, err := (Points{{X: -1e308, Y: 5e-324, T: maxPointTime, Pressure: 0}, {T: -maxPointTime}}).AppendBinary(nil); err != nil {
		t.Errorf("points at the bounds were refused: %v", err)
	}
}

// FuzzPointsWrite checks that whatever points AppendBinary takes read back
// to the same bits, and that what it refuses is CodeInvalid: it never writes
// bytes UnmarshalBinary refuses.
func FuzzPointsWrite(f *testing.F) {
	f.Add(1.5, 2.0, int64(3), 0.5)
	f.Add(math.NaN(), 0.0, int64(0), 0.0)
	f.Add(0.0, math.Inf(1), int64(0), 0.0)
	f.Add(0.0, 0.0, int64(maxPointTime+1), 0.0)
	f.Add(math.Copysign(0, -1), 1e300, int64(-maxPointTime), 5e-324)
	f.Fuzz(func(t *testing.T, x, y float64, ms int64, pressure float64) {
		ps := Points{{X: 1, Y: 1, T: 0, Pressure: 1}, {X: x, Y: y, T: ms, Pressure: pressure}}
		b, err := ps.AppendBinary(nil)
		if err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("%s: %v is not CodeInvalid", exactPoints(ps), err)
			}
			return
		}
		var back Points
		if err := back.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s was written as %x, which reads back as %v", exactPoints(ps), b, err)
		}
		if exactPoints(back) != exactPoints(ps) {
			t.Fatalf("%s read back as %s", exactPoints(ps), exactPoints(back))
		}
	})
}

// FuzzPointsBinary checks that no bytes make the binary decoder panic, and
// that whatever it takes is points JSON holds too, to the bit, and writes
// back to points that read the same.
func FuzzPointsBinary(f *testing.F) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, ps := range []Points{{}, edgePoints, randomStroke(rng).Points, randomStroke(rng).Points} {
		b, _ := ps.AppendBinary(nil)
		f.Add(b)
	}
	f.Add([]byte{pointsV1, 1, rawColumn, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ps Points
		if err := ps.UnmarshalBinary(b); err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("%x: %v is not CodeInvalid", b, err)
			}
			return
		}
		js, err := ps.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var fromJSON Points
		if err := fromJSON.UnmarshalJSON(js); err != nil {
			t.Fatalf("%x reads as points JSON does not hold (%s): %v", b, js, err)
		}
		if exactPoints(fromJSON) != exactPoints(ps) {
			t.Fatalf("%x reads as\n%s\nbut its JSON as\n%s", b, exactPoints(ps), exactPoints(fromJSON))
		}
		again, _ := ps.AppendBinary(nil)
		var back Points
		if err := back.UnmarshalBinary(again); err != nil || exactPoints(back) != exactPoints(ps) {
			t.Fatalf("%x reads as\n%s\nwritten again as %x, reads as\n%s (%v)", b, exactPoints(ps), again, exactPoints(back), err)
		}
	})
}
