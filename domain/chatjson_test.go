package domain

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"
)

// checkChatJSON fails the test unless appendChat encodes chat as
// encoding/json does, or fails where encoding/json fails.
func checkChatJSON(t *testing.T, chat []ChatMessage) {
	t.Helper()
	want, wantErr := json.Marshal(chat)
	got, err := appendChat([]byte("x"), chat)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("appendChat error %v, encoding/json's %v", err, wantErr)
	}
	if err != nil {
		return
	}
	if !bytes.Equal(got[1:], want) || got[0] != 'x' {
		t.Fatalf("appendChat differs from encoding/json:\n got %s\nwant x%s", got, want)
	}
}

// TestChatJSON holds the snapshot's hand-written chat encoding to what
// encoding/json makes of it: strings it escapes (HTML, control characters,
// U+2028 and U+2029, invalid UTF-8), times in other zones, with and without
// fractions, the zero time, zones and years it refuses, and the nil and
// empty chat.
func TestChatJSON(t *testing.T) {
	paris := time.FixedZone("Paris", 3600)
	odd := time.FixedZone("odd", -(3*3600 + 30*60))
	at := time.Date(2026, 12, 7, 9, 30, 15, 123456789, time.UTC)
	for _, chat := range [][]ChatMessage{
		nil,
		{},
		{{Seq: 2, Actor: "student-1", Time: at, Text: "Could you repeat the last step?"}},
		{
			{Seq: math.MaxInt64, Actor: `<b>"Ann" & 'Bob'</b>`, Time: at.In(paris), Text: "a\tb\nc\rd\x00e\x1f\\f/"},
			{Seq: math.MinInt64, Actor: "", Time: time.Time{}, Text: "line\u2028sep\u2029para"},
			{Seq: 0, Actor: "\xff\xfe bad", Time: at.Truncate(time.Second).In(odd), Text: "日本語 ünïcödé 🙂 \xe2\x82"},
			{Seq: 7, Actor: "x", Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), Text: "\u007f\u0080"},
		},
	} {
		checkChatJSON(t, chat)
	}
	for _, zone := range []*time.Location{time.FixedZone("far", 24*3600), time.FixedZone("far west", -24*3600-60), time.FixedZone("seconds", 3600+30)} {
		checkChatJSON(t, []ChatMessage{{Seq: 4, Actor: "a", Time: at.In(zone), Text: "t"}})
	}
	for _, year := range []int{-1, 10000} {
		chat := []ChatMessage{{Seq: 3, Actor: "a", Time: time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC), Text: "t"}}
		if _, err := json.Marshal(chat); err == nil {
			t.Fatalf("encoding/json took the year %d", year)
		}
		if _, err := appendChat(nil, chat); err == nil {
			t.Errorf("appendChat took the year %d, which RFC 3339 cannot write", year)
		}
	}
}

// FuzzChatJSON holds appendChat to encoding/json for any strings, sequence
// numbers and times.
func FuzzChatJSON(f *testing.F) {
	f.Add(int64(2), "student-1", int64(1796636415), int64(123456789), 0, "Could you repeat the last step?")
	f.Add(int64(-1), "<&>\u2028", int64(-62135596800), int64(0), -12600, "\xff\x00\"\\")
	f.Fuzz(func(t *testing.T, seq int64, actor string, sec, nsec int64, offset int, text string) {
		at := time.Unix(sec, nsec).In(time.FixedZone("z", offset))
		checkChatJSON(t, []ChatMessage{{Seq: seq, Actor: actor, Time: at, Text: text}, {Seq: seq ^ 1, Actor: text, Time: at.UTC(), Text: actor}})
	})
}

// BenchmarkMarshalSnapshotChat encodes the snapshot of a lesson whose state
// is its chat, 1,000 and 10,000 lines (MaxChatMessagesKept), beside
// encoding/json's encoding of the same state as the baseline.
func BenchmarkMarshalSnapshotChat(b *testing.B) {
	for _, n := range []int{1000, MaxChatMessagesKept} {
		s := NewState()
		at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		for i := range n {
			s.Chat = append(s.Chat, ChatMessage{Seq: int64(i + 2), Actor: "student-" + string(rune('a'+i%26)),
				Time: at.Add(time.Duration(i) * 1357 * time.Millisecond), Text: "Could you repeat the last step, please?"})
		}
		b.Run("MarshalSnapshot/"+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.MarshalSnapshot(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("encoding-json/"+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := json.Marshal(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
