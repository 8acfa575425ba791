package client

import (
	"fmt"
	"testing"

	"classroom/domain"
)

// TestBatchesKeepRecentMessages: a message decoded once is found by its
// bytes, another message is not, and one older than two generations is
// forgotten.
func TestBatchesKeepRecentMessages(t *testing.T) {
	var d Batches
	msg := func(i int) []byte { return fmt.Appendf(nil, `{"type":"events","events":[{"seq":%d}]}`, i) }
	d.put(msg(0), []domain.Event{{Seq: 1}})
	if got, ok := d.get(msg(0)); !ok || len(got) != 1 || got[0].Seq != 1 {
		t.Fatalf("the message decoded: %v, %v", got, ok)
	}
	if _, ok := d.get(msg(1)); ok {
		t.Fatal("a message never decoded was found")
	}
	for i := 1; i <= batchesKept; i++ {
		d.put(msg(i), []domain.Event{{Seq: int64(i + 1)}})
	}
	if _, ok := d.get(msg(0)); !ok {
		t.Fatal("the message decoded one generation ago was forgotten")
	}
	for i := batchesKept + 1; i <= 2*batchesKept; i++ {
		d.put(msg(i), []domain.Event{{Seq: int64(i + 1)}})
	}
	if _, ok := d.get(msg(0)); ok {
		t.Fatal("a message two generations old was kept")
	}
	if got, ok := d.get(msg(2 * batchesKept)); !ok || got[0].Seq != int64(2*batchesKept+1) {
		t.Fatalf("the last message: %v, %v", got, ok)
	}
}
