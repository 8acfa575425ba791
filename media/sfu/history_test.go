package sfu

import "testing"

// TestHistory: a sequence number sent is found with the source packet and
// timestamp it carried, until historySize later ones replace it; one never
// sent is not found.
func TestHistory(t *testing.T) {
	var h history
	layer, _ := testPublication()
	h.record(layer, 65535, 10, 3000)
	h.record(nil, 0, 11, 6000)
	if s, ok := h.resend(65535); !ok || s.from != layer || s.in != 10 || s.ts != 3000 {
		t.Fatalf("65535: %+v, %v", s, ok)
	}
	if s, ok := h.resend(0); !ok || s.from != nil || s.in != 11 || s.ts != 6000 {
		t.Fatalf("0: %+v, %v", s, ok)
	}
	if _, ok := h.resend(1); ok {
		t.Fatal("a sequence number never sent is found")
	}
	h.record(nil, historySize, 12, 9000) // the slot of 0
	if _, ok := h.resend(0); ok {
		t.Fatal("a sequence number replaced is still found")
	}
}
