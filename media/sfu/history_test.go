package sfu

import (
	"testing"
	"time"
)

// TestHistory: a sequence number sent is found with the source packet and
// timestamp it carried, until historySize later ones replace it; one never
// sent is not found.
func TestHistory(t *testing.T) {
	var h history
	now := time.Now()
	layer, _ := testPublication()
	h.record(layer, 65535, 10, 3000)
	h.record(nil, 0, 11, 6000)
	if s, ok := h.resend(65535, now); !ok || s.from != layer || s.in != 10 || s.ts != 3000 {
		t.Fatalf("65535: %+v, %v", s, ok)
	}
	if s, ok := h.resend(0, now); !ok || s.from != nil || s.in != 11 || s.ts != 6000 {
		t.Fatalf("0: %+v, %v", s, ok)
	}
	if _, ok := h.resend(1, now); ok {
		t.Fatal("a sequence number never sent is found")
	}
	h.record(nil, historySize, 12, 9000) // the slot of 0
	if _, ok := h.resend(0, now); ok {
		t.Fatal("a sequence number replaced is still found")
	}
}

// TestHistoryResendLimit: a packet is resent once per hold-off however
// often it is asked for, and at most maxResends times; a packet recorded in
// its slot afterwards starts afresh.
func TestHistoryResendLimit(t *testing.T) {
	var h history
	h.record(nil, 7, 70, 0)
	start := time.Now()
	resent := 0
	// A NACK every 10 ms for two seconds: every 100 ms may pass, up to the
	// limit.
	for i := range 200 {
		if _, ok := h.resend(7, start.Add(time.Duration(i)*10*time.Millisecond)); ok {
			resent++
			if i%10 != 0 {
				t.Fatalf("resent %v after the last resend", time.Duration(i%10)*10*time.Millisecond)
			}
		}
	}
	if resent != maxResends {
		t.Fatalf("resent %d times, want %d", resent, maxResends)
	}
	h.record(nil, 7+historySize, 71, 0)
	if _, ok := h.resend(7+historySize, start.Add(3*time.Second)); !ok {
		t.Fatal("a new packet in the slot is refused")
	}
}

// TestHistoryHoldOffFollowsRTT: with a known round-trip time the hold-off
// is twice that, but never more than resendHoldOff.
func TestHistoryHoldOffFollowsRTT(t *testing.T) {
	for _, c := range []struct {
		rtt, holdOff time.Duration
	}{
		{0, resendHoldOff},
		{20 * time.Millisecond, 40 * time.Millisecond},
		{80 * time.Millisecond, resendHoldOff},
	} {
		var h history
		h.setRTT(c.rtt)
		h.record(nil, 1, 1, 0)
		start := time.Now()
		if _, ok := h.resend(1, start); !ok {
			t.Fatalf("RTT %v: the first NACK is refused", c.rtt)
		}
		if _, ok := h.resend(1, start.Add(c.holdOff-time.Millisecond)); ok {
			t.Errorf("RTT %v: resent again within %v", c.rtt, c.holdOff)
		}
		if _, ok := h.resend(1, start.Add(c.holdOff)); !ok {
			t.Errorf("RTT %v: not resent again after %v", c.rtt, c.holdOff)
		}
	}
}

// TestRoundTripTime: a reception report answering a sender report sent
// 150 ms ago and held 30 ms by the receiver tells 120 ms.
func TestRoundTripTime(t *testing.T) {
	now := time.Now()
	lsr := ntpMiddle(now.Add(-150 * time.Millisecond))
	dlsr := uint32(30 * 65536 / 1000)
	rtt, ok := roundTripTime(now, lsr, dlsr)
	if !ok || rtt < 119*time.Millisecond || rtt > 121*time.Millisecond {
		t.Fatalf("round trip %v, %v; want 120 ms", rtt, ok)
	}
	if _, ok := roundTripTime(now, 0, 0); ok {
		t.Fatal("a report before any sender report tells a round trip")
	}
	if _, ok := roundTripTime(now, ntpMiddle(now.Add(time.Second)), 0); ok {
		t.Fatal("a sender report from the future tells a round trip")
	}
}
