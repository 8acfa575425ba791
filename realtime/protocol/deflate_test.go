package protocol_test

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"strings"
	"testing"

	"classroom/realtime/protocol"
)

// eventsMessage is an events message of n stroke parts, as the server
// sends them.
func eventsMessage(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"type":"events","events":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"v":1,"id":"6f1c1d3e-3d8e-4f3a-9a57-%012d","lesson":"ed62f47e-c3a7-4ce2-8776-8aca3758a71b","seq":%d,`+
			`"kind":"stroke.drawn","actor":"teacher","role":"teacher","time":"2026-11-25T19:15:44.%06dZ","data":{"object":"7e57ab1e-0000-4000-8000-00000000c0de",`+
			`"slide":{"deck":"00000000-0000-0000-0000-000000000000","page":0},"part":%d,"tool":"pen","color":"#1e40af","width":3,"points":[[%d,80,0,0.5],[124.5,%d,16,0.55]]}}`,
			i, 4+i, i*137, i, 100+i*7, 80+i*3)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// deflateRaw compresses b as one raw DEFLATE stream, as any encoder may.
// inflate inflates b with an Inflater of its own, as a client's first
// message is.
func inflate(b []byte) ([]byte, error) {
	var f protocol.Inflater
	return f.Inflate(b)
}

func deflateRaw(t testing.TB, b []byte, level int) []byte {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// TestDeflateRoundTrip: a message deflated inflates to itself, one
// Deflater serves message after message with nothing carried over (each
// inflates on its own), and a message compression would not shrink is
// left alone.
func TestDeflateRoundTrip(t *testing.T) {
	var d protocol.Deflater
	for _, n := range []int{1, 2, 12, 60} {
		msg := eventsMessage(n)
		packed := d.Deflate(msg)
		if packed == nil || len(packed) >= len(msg) {
			t.Fatalf("%d events: %d bytes deflated to %d", n, len(msg), len(packed))
		}
		if n == 12 && len(packed)*3 > len(msg) {
			t.Errorf("12 events: %d bytes deflated to %d, less than a third saved", len(msg), len(packed))
		}
		got, err := inflate(packed)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%d events: inflated %d bytes, %v; want the %d sent", n, len(got), err, len(msg))
		}
	}
	if packed := d.Deflate([]byte(`{"type":"live","seq":4}`)); packed != nil {
		t.Errorf("a message of 23 bytes deflated to %d, want it left alone", len(packed))
	}
	// Another encoder's stream (stored blocks, other levels) reads the same.
	msg := eventsMessage(3)
	for _, level := range []int{flate.NoCompression, flate.BestSpeed, flate.BestCompression, flate.HuffmanOnly} {
		if got, err := inflate(deflateRaw(t, msg, level)); err != nil || !bytes.Equal(got, msg) {
			t.Errorf("level %d: %v", level, err)
		}
	}
}

// TestInflateRefuses: what is not one whole raw DEFLATE stream of a
// message the server could send is an error, never a hang or a partial
// message.
func TestInflateRefuses(t *testing.T) {
	var d protocol.Deflater
	msg := eventsMessage(12)
	packed := d.Deflate(msg)
	bomb := deflateRaw(t, bytes.Repeat([]byte("a"), protocol.MaxServerMessage+1), flate.BestCompression)
	for name, b := range map[string][]byte{
		"empty":               {},
		"cut short":           packed[:len(packed)/2],
		"its last byte lost":  packed[:len(packed)-1],
		"bytes after its end": append(bytes.Clone(packed), 0),
		"two streams":         append(bytes.Clone(packed), packed...),
		"not deflate":         []byte(`{"type":"events","events":[]}`),
		"a zlib stream":       append([]byte{0x78, 0x9c}, packed...),
		"too large inflated":  bomb,
	} {
		got, err := inflate(b)
		if !errors.Is(err, protocol.ErrCompressed) {
			t.Errorf("%s: %d bytes, %v; want ErrCompressed", name, len(got), err)
		}
	}
	at := deflateRaw(t, bytes.Repeat([]byte("a"), protocol.MaxServerMessage), flate.BestCompression)
	if got, err := inflate(at); err != nil || len(got) != protocol.MaxServerMessage {
		t.Errorf("a message of exactly the largest size: %d bytes, %v", len(got), err)
	}
}

// FuzzInflate: whatever the bytes, an Inflater answers (no panic), never more
// than MaxServerMessage bytes, and what it answers deflates and inflates
// back to itself.
func FuzzInflate(f *testing.F) {
	var d protocol.Deflater
	for _, n := range []int{1, 5} {
		p := d.Deflate(eventsMessage(n))
		f.Add(p)
		f.Add(p[:len(p)-2])
	}
	f.Add(deflateRaw(f, []byte("{}"), flate.NoCompression))
	f.Add([]byte{0x03, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := inflate(b)
		if err != nil {
			if !errors.Is(err, protocol.ErrCompressed) || msg != nil {
				t.Fatalf("%v with %d bytes", err, len(msg))
			}
			return
		}
		if len(msg) > protocol.MaxServerMessage {
			t.Fatalf("inflated to %d bytes", len(msg))
		}
		var d protocol.Deflater
		packed := d.Deflate(msg)
		if packed == nil {
			return // no smaller compressed: sent as it is
		}
		if again, err := inflate(packed); err != nil || !bytes.Equal(again, msg) {
			t.Fatalf("deflated again: %v", err)
		}
	})
}

// TestInflateRefusesNotUTF8: a stream that inflates to bytes that are not
// UTF-8 is no message (docs/protocol.md, section 4.1).
func TestInflateRefusesNotUTF8(t *testing.T) {
	if msg, err := inflate(deflateRaw(t, []byte{'{', 0xff, '}'}, flate.BestCompression)); !errors.Is(err, protocol.ErrCompressed) {
		t.Fatalf("bytes not UTF-8 inflate to %q, %v; want ErrCompressed", msg, err)
	}
}

// TestInflaterReused: one Inflater inflates message after message as a
// fresh one does, refuses what a fresh one refuses, and inflates the next message
// whole after a refusal: after a message cut short, one with bytes after
// its end, one that inflates past MaxServerMessage, and one not UTF-8.
func TestInflaterReused(t *testing.T) {
	var d protocol.Deflater
	var f protocol.Inflater
	packed := d.Deflate(eventsMessage(12))
	bomb := deflateRaw(t, bytes.Repeat([]byte("a"), protocol.MaxServerMessage+1), flate.BestCompression)
	notUTF8 := deflateRaw(t, []byte{'{', 0xff, '}'}, flate.BestCompression)
	for i, n := range []int{1, 12, 0, 2, -1, 60, -2, 3, -3, 4} {
		var b, want []byte
		switch n {
		case 0:
			b = packed[:len(packed)/2]
		case -1:
			b = append(bytes.Clone(packed), 0)
		case -2:
			b = bomb
		case -3:
			b = notUTF8
		default:
			want = eventsMessage(n)
			b = d.Deflate(want)
		}
		got, err := f.Inflate(b)
		if want == nil {
			if !errors.Is(err, protocol.ErrCompressed) || got != nil {
				t.Errorf("message %d, malformed: %d bytes, %v; want ErrCompressed", i, len(got), err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("message %d, %d events: inflated %d bytes, %v; want the %d sent", i, n, len(got), err, len(want))
		}
	}
}
