package realtime

import (
	"bytes"
	"runtime"
	"testing"

	"classroom/realtime/protocol"
)

// TestCatchUpReusesCompressor: a catch-up compresses with a compressor an
// ended one gave back, not with a new one (about 800 KB) each time: twenty
// catch-ups of a message each allocate less than 64 KB a catch-up.
func TestCatchUpReusesCompressor(t *testing.T) {
	srv := &Server{deflaters: make(chan *protocol.Deflater, keptDeflaters)}
	msg := bytes.Repeat([]byte(`{"seq":1,"kind":"stroke.drawn","data":{"points":[1,2,3]}},`), 100)
	catchUp := func() {
		d := srv.takeDeflater()
		defer srv.giveDeflater(d)
		if d.Deflate(msg) == nil {
			t.Fatal("a repetitive message did not compress")
		}
	}
	catchUp() // the first makes a compressor
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 20
	for range n {
		catchUp()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 64<<10 {
		t.Fatalf("a catch-up allocates %d bytes, want less than 64 KB: its compressor is not reused", per)
	}
}
