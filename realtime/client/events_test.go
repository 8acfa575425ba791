package client

import (
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/realtime/protocol"
)

// TestCompressedMessages: a client of version protocol.Compressed folds a
// compressed events message as the same message in text, takes one that
// does not inflate for a protocol violation (its Err, not a hang or a
// silent skip), and a client of version 2 never takes a binary message
// outside a snapshot for a compressed one.
func TestCompressedMessages(t *testing.T) {
	msg := []byte(`{"type":"events","events":[{"v":1,"id":"6f1c1d3e-3d8e-4f3a-9a57-2b1f0c9d8e7a",` +
		`"lesson":"ed62f47e-c3a7-4ce2-8776-8aca3758a71b","seq":1,"kind":"lesson.created","actor":"","role":"system",` +
		`"time":"2026-11-25T19:15:41.656353Z","data":{"title":"Fractions, week 3"}}]}`)
	var d protocol.Deflater
	packed := d.Deflate(msg)
	if packed == nil {
		t.Fatal("the message did not compress")
	}
	text := &Client{state: domain.NewState()}
	text.onMessage(msg)
	if err := text.Err(); err != nil || text.Seq() != 1 {
		t.Fatalf("the text message: seq %d, %v", text.Seq(), err)
	}
	for _, batches := range []*Batches{nil, {}} {
		c := &Client{state: domain.NewState(), opts: Options{Batches: batches}}
		c.onBinary(packed)
		if err := c.Err(); err != nil || c.Seq() != 1 || c.Hash() != text.Hash() {
			t.Fatalf("the compressed message: seq %d, %v", c.Seq(), err)
		}
	}

	broken := &Client{state: domain.NewState()}
	broken.onBinary(packed[:len(packed)-3])
	if err := broken.Err(); !errors.Is(err, protocol.ErrCompressed) || broken.Seq() != 0 {
		t.Fatalf("a compressed message cut short: seq %d, %v; want ErrCompressed", broken.Seq(), err)
	}

	old := &Client{state: domain.NewState(), opts: Options{Version: 2}}
	old.onBinary(packed)
	if old.Err() == nil || old.Seq() != 0 {
		t.Fatalf("a version 2 client took a binary message outside a snapshot: seq %d, %v", old.Seq(), old.Err())
	}
}

// TestCompressedMessagesOneDecompressor: a client inflates the compressed
// events messages it is sent with one decompressor, not one a message: a
// decompressor is more than 40 KB, many times a message, and a load tool's
// hundreds of clients, each sent a message for every event of the class,
// spent most of what they allocated on them (docs/benchmarks.md).
func TestCompressedMessagesOneDecompressor(t *testing.T) {
	const messages = 200
	var d protocol.Deflater
	packed := make([][]byte, messages)
	for i := range packed {
		msg := fmt.Appendf(nil, `{"type":"events","events":[{"v":1,"id":"%s","lesson":"ed62f47e-c3a7-4ce2-8776-8aca3758a71b",`+
			`"seq":%d,"kind":"lesson.created","actor":"","role":"system","time":"2026-11-25T19:15:41.656353Z",`+
			`"data":{"title":"Fractions, week 3"}}]}`, uuid.New(), i+1)
		if packed[i] = d.Deflate(msg); packed[i] == nil {
			t.Fatal("the message did not compress")
		}
	}
	c := &Client{state: domain.NewState()}
	c.onBinary(packed[0]) // the decompressor is made once
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, b := range packed[1:] {
		c.onBinary(b)
	}
	runtime.ReadMemStats(&after)
	if err := c.Err(); err != nil || c.Seq() != messages {
		t.Fatalf("seq %d, %v; want %d", c.Seq(), err, messages)
	}
	// A decompressor's window alone is 32 KB.
	if per := (after.TotalAlloc - before.TotalAlloc) / (messages - 1); per > 16<<10 {
		t.Errorf("%d bytes allocated a message; want a decompressor reused, not made for each", per)
	}
}
