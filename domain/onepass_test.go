package domain

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
)

// FuzzStrokeDecoder checks the one-pass stroke decoder against
// encoding/json: whatever it takes, encoding/json takes too and decodes to
// the same payload, bit for bit (a negative zero included).
func FuzzStrokeDecoder(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		b, err := EncodePayload(randomStroke(rng))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `null`, ` {"points":[]} `, `{"points":null}`, `{"part":1.0}`, `{"part":-0}`, `{"part":01}`,
		`{"width":-0}`, `{"width":1e400}`, `{"width":1E-400}`, `{"width":0.1000000000000000055511151231257827}`,
		`{"points":[[1,2,3,4],[-0.0,1e2,5,0.1]]}`, `{"points":[[1,2,3.5,4]]}`, `{"points":[[1,2,3]]}`,
		`{"points":[[1.,2,3,4]]}`, `{"points":[[-.5,2,3,4]]}`, `{"points":[[1,2,3,4,5]]}`,
		`{"object":"0f0e0d0c-0b0a-4908-8706-050403020100","Object":"0f0e0d0c-0b0a-4908-8706-050403020100"}`,
		`{"object":"{0f0e0d0c-0b0a-4908-8706-050403020100}"}`, `{"object":"0f0e0d0c0b0a490887060504030201000"}`,
		`{"tool":"pen","tool":"eraser"}`, `{"color":"\u00e9"}`, "{\"color\":\"\xff\"}", `{"slide":{"deck":"","page":2}}`,
		`{"slide":{"page":2,"page":3}}`, `{"tool":"pen"} x`, "{\"tool\":\"pen\"}\v", `{"tool":"pen",}`, `{"extra":1}`,
		`{"points":[[123456789012345,0.000000000000000000001,1099511627776,1e22]]}`,
		`{"points":[[1234567890123456,12345678901234567890,1099511627777,9007199254740993]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := decodeStrokeDrawn(b)
		slow, err := decodePayloadJSON(KindStrokeDrawn, b)
		if !ok {
			return // DecodePayload takes encoding/json's answer
		}
		if err != nil {
			t.Fatalf("the one-pass decoder took %q, which encoding/json refuses: %v", b, err)
		}
		if got, want := exactString(fast), exactString(slow.(*StrokeDrawn)); got != want {
			t.Fatalf("%q decodes to\n%s\nnot, as encoding/json decodes it,\n%s", b, got, want)
		}
	})
}

// exactString prints a stroke with its floats' bits, so that two strokes
// print the same only when every field is the same (nil and empty points
// apart).
func exactString(p *StrokeDrawn) string {
	s := fmt.Sprintf("%q %v %d %q %q %x nil=%t", p.Object, p.Slide, p.Part, p.Tool, p.Color,
		math.Float64bits(p.Width), p.Points == nil)
	for _, pt := range p.Points {
		s += fmt.Sprintf(" [%x %x %d %x]", math.Float64bits(pt.X), math.Float64bits(pt.Y), pt.T,
			math.Float64bits(pt.Pressure))
	}
	return s
}

// TestStrokeDecoderTakesEncodedStrokes checks that the one-pass decoder
// takes what EncodePayload writes (else every stroke would take the slow
// path unnoticed) and decodes it as encoding/json does.
func TestStrokeDecoderTakesEncodedStrokes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		b, err := EncodePayload(randomStroke(rng))
		if err != nil {
			t.Fatal(err)
		}
		fast, ok := decodeStrokeDrawn(b)
		if !ok {
			t.Fatalf("the one-pass decoder left %s to encoding/json", b)
		}
		slow, err := decodePayloadJSON(KindStrokeDrawn, b)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := exactString(fast), exactString(slow.(*StrokeDrawn)); got != want {
			t.Fatalf("%s decodes to\n%s\nnot\n%s", b, got, want)
		}
	}
}

// randomStroke is a stroke as a board draws one, with coordinates of every
// precision, from whole pixels to full float64s.
func randomStroke(rng *rand.Rand) *StrokeDrawn {
	coord := func() float64 {
		switch rng.IntN(4) {
		case 0:
			return float64(rng.IntN(4000) - 100)
		case 1:
			return math.Round(rng.Float64()*400000) / 100
		case 2:
			return rng.Float64() * 1e-8
		default:
			return (rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(40)-20))
		}
	}
	p := &StrokeDrawn{Object: uuid.New(), Slide: Slide{Deck: uuid.New(), Page: rng.IntN(50)}, Part: rng.IntN(100),
		Tool: ToolPen, Color: "#1e90ff", Width: float64(rng.IntN(20)) / 2}
	for i := range rng.IntN(60) {
		p.Points = append(p.Points, Point{X: coord(), Y: coord(), T: int64(i * 8), Pressure: math.Round(rng.Float64()*1000) / 1000})
	}
	return p
}

// FuzzChatDecoder checks the one-pass chat decoder against encoding/json,
// as FuzzStrokeDecoder does the stroke's.
func FuzzChatDecoder(f *testing.F) {
	for _, s := range []string{
		`{"text":"Could you repeat the last step?"}`, `{"text":"é ✓"}`, ` { "text" : "a" } `, `{}`, `null`,
		`{"text":"a\"b"}`, `{"text":"a\nb"}`, "{\"text\":\"\xff\"}", `{"Text":"a"}`, `{"text":"a","text":"b"}`,
		`{"text":null}`, `{"text":1}`, `{"text":"a"}x`, `{"text":"a",}`, `{"text":"a","extra":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := decodeChatPosted(b)
		slow, err := decodePayloadJSON(KindChatPosted, b)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("the one-pass decoder took %q, which encoding/json refuses: %v", b, err)
		}
		if *fast != *slow.(*ChatPosted) {
			t.Fatalf("%q decodes to %+v, not, as encoding/json decodes it, %+v", b, fast, slow)
		}
	})
}

// TestChatDecoderTakesEncodedChat checks that the one-pass decoder takes
// what EncodePayload writes for a line without escapes.
func TestChatDecoderTakesEncodedChat(t *testing.T) {
	for _, text := range []string{"Could you repeat the last step?", "½ + ¼ = ¾ ✓", "x"} {
		b, err := EncodePayload(&ChatPosted{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := decodeChatPosted(b); !ok || p.Text != text {
			t.Fatalf("%s: got %+v, %t", b, p, ok)
		}
	}
}
