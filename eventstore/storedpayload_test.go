package eventstore

import (
	"bytes"
	"math"
	"testing"

	"github.com/google/uuid"

	"classroom/domain"
)

// storedKinds are the kinds FuzzDecodeStored tries: a stroke, whose points
// may be stored apart, and one that may not.
var storedKinds = []domain.Kind{domain.KindStrokeDrawn, domain.KindChatPosted}

// testStroke is a stroke with points of every sort the binary form holds.
func testStroke(points int) *domain.StrokeDrawn {
	p := &domain.StrokeDrawn{Object: uuid.New(), Slide: domain.Slide{Deck: uuid.New(), Page: 3}, Tool: domain.ToolPen,
		Color: "#1e90ff", Width: 2.5}
	for i := range points {
		p.Points = append(p.Points, domain.Point{X: 100.1 + float64(i)*0.3, Y: 900 - float64(i), T: int64(i * 8),
			Pressure: 0.5})
	}
	if points > 1 {
		p.Points[1].X = math.Copysign(0, -1)
		p.Points[1].Y = 0.1 + 0.2
	}
	return p
}

// TestStoredStrokes checks that a stroke is stored with its points apart,
// its JSON without them, and that it reads back to the same payload as the
// whole JSON a store kept before migration 00008 reads back to.
func TestStoredStrokes(t *testing.T) {
	for _, n := range []int{1, 2, 20, domain.MaxStrokePoints} {
		p := testStroke(n)
		data, points, err := encodeStored(p)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := domain.EncodePayload(p)
		if err != nil {
			t.Fatal(err)
		}
		if points == nil || !bytes.HasSuffix(data, []byte(`"points":null}`)) {
			t.Fatalf("a stroke of %d points is stored as %s with points %x", n, data, points)
		}
		for form, got := range map[string]func() (domain.Payload, error){
			"apart": func() (domain.Payload, error) { return decodeStored(p.Kind(), data, points) },
			"whole": func() (domain.Payload, error) { return decodeStored(p.Kind(), whole, nil) },
		} {
			q, err := got()
			if err != nil {
				t.Fatalf("%d points %s: %v", n, form, err)
			}
			if again, _ := domain.EncodePayload(q); !bytes.Equal(again, whole) {
				t.Fatalf("%d points %s read back as\n%s\nnot\n%s", n, form, again, whole)
			}
		}
	}
	chat := &domain.ChatPosted{Text: "no points here"}
	if _, points, err := encodeStored(chat); err != nil || points != nil {
		t.Fatalf("a chat line is stored with points %x (%v)", points, err)
	}
}

// TestStoredStrokeBound checks that encodeStored refuses a stroke exactly
// when its whole JSON is over domain.MaxEventBytes, as domain.EncodePayload
// does, although it encodes a stroke's points as JSON only near the bound.
func TestStoredStrokeBound(t *testing.T) {
	long := func(n int) *domain.StrokeDrawn {
		p := testStroke(n)
		for i := range p.Points { // numbers of many digits: the bound falls at about 900 points
			p.Points[i].X = -math.Nextafter(1e-6+float64(i)*1e-12, 1)
			p.Points[i].Y = math.Nextafter(2e-6+float64(i)*1e-12, 1)
			p.Points[i].T = -1 << 40
		}
		return p
	}
	refused := func(err error) bool { return domain.ErrorCode(err) == domain.CodeInvalid }
	edge := 0
	for n := range domain.MaxStrokePoints + 1 {
		if n == 0 || n > 20 && n < 700 {
			continue
		}
		p := long(n)
		_, wholeErr := domain.EncodePayload(p)
		_, _, err := encodeStored(p)
		if refused(wholeErr) != refused(err) || (err != nil && !refused(err)) {
			t.Fatalf("%d points: encodeStored gave %v where the whole JSON gives %v", n, err, wholeErr)
		}
		if refused(wholeErr) && edge == 0 {
			edge = n
		}
	}
	if edge == 0 {
		t.Fatal("no stroke of the test reached the bound: the test checks nothing")
	}
}

// TestMaxPointJSON checks that no point AppendBinary takes writes more
// than maxPointJSON bytes of JSON: else encodeStored would let a stroke
// over the size bound pass.
func TestMaxPointJSON(t *testing.T) {
	worst := []float64{-math.Nextafter(1e-6, 1), -1.2345678901234567e-308, -math.MaxFloat64, -9.999999999999999e20,
		-0.1 - 0.2, -math.SmallestNonzeroFloat64}
	for _, x := range worst {
		for _, ms := range []int64{-1 << 40, 1 << 40} {
			ps := domain.Points{{X: x, Y: x, T: ms, Pressure: x}, {X: x, Y: x, T: ms, Pressure: x}}
			if _, err := ps.AppendBinary(nil); err != nil {
				t.Fatal(err)
			}
			js, _ := ps.MarshalJSON()
			if per := (len(js) - 1) / 2; per > maxPointJSON {
				t.Errorf("%s takes %d bytes a point, more than maxPointJSON (%d)", js, per, maxPointJSON)
			}
		}
	}
}

// TestStoredRowsRefused checks that rows encodeStored cannot have written
// are refused with CodeInvalid.
func TestStoredRowsRefused(t *testing.T) {
	p := testStroke(3)
	data, points, _ := encodeStored(p)
	whole, _ := domain.EncodePayload(p)
	chat, _ := domain.EncodePayload(&domain.ChatPosted{Text: "hello"})
	none, _ := domain.Points{}.AppendBinary(nil)
	for name, row := range map[string]struct {
		kind         domain.Kind
		data, points []byte
	}{
		"points beside a chat line":  {domain.KindChatPosted, chat, points},
		"points twice":               {domain.KindStrokeDrawn, whole, points},
		"no points stored apart":     {domain.KindStrokeDrawn, data, none},
		"empty points column":        {domain.KindStrokeDrawn, data, []byte{}},
		"damaged points":             {domain.KindStrokeDrawn, data, points[:len(points)-1]},
		"no points at all":           {domain.KindStrokeDrawn, data, nil},
		"damaged JSON beside points": {domain.KindStrokeDrawn, data[:len(data)-1], points},
	} {
		got, err := decodeStored(row.kind, row.data, row.points)
		if domain.ErrorCode(err) != domain.CodeInvalid {
			t.Errorf("%s: got %v, %v; want CodeInvalid", name, got, err)
		}
	}
}

// FuzzDecodeStored checks that no row makes decodeStored panic, that it
// refuses with CodeInvalid, and that whatever it reads with points apart is
// a stroke that reads the same from its whole JSON and from what
// encodeStored writes of it.
func FuzzDecodeStored(f *testing.F) {
	for _, n := range []int{1, 20} {
		data, points, _ := encodeStored(testStroke(n))
		f.Add(uint8(0), data, points)
		whole, _ := domain.EncodePayload(testStroke(n))
		f.Add(uint8(0), whole, points)
		f.Add(uint8(1), data, points)
	}
	f.Add(uint8(1), []byte(`{"text":"hello"}`), []byte(nil))
	f.Fuzz(func(t *testing.T, kind uint8, data, points []byte) {
		k := storedKinds[int(kind)%len(storedKinds)]
		p, err := decodeStored(k, data, points)
		if err != nil {
			if domain.ErrorCode(err) != domain.CodeInvalid {
				t.Fatalf("%s %q %x: %v is not CodeInvalid", k, data, points, err)
			}
			return
		}
		whole, err := domain.EncodePayload(p)
		if err != nil {
			return // read, but larger than a store takes: nothing to compare
		}
		fromWhole, err := decodeStored(k, whole, nil)
		if err != nil {
			t.Fatalf("%s %q %x reads as %s, which does not read back: %v", k, data, points, whole, err)
		}
		data2, points2, err := encodeStored(p)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeStored(k, data2, points2)
		if err != nil {
			t.Fatalf("%s %q %x is stored again as %q %x, which does not read back: %v", k, data, points, data2, points2, err)
		}
		for _, q := range []domain.Payload{fromWhole, again} {
			if b, _ := domain.EncodePayload(q); !bytes.Equal(b, whole) {
				t.Fatalf("%s %q %x reads as %s, but also as %s", k, data, points, whole, b)
			}
		}
	})
}
