package protocol_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"classroom/domain"
	"classroom/realtime/protocol"
)

const id = "6f1c1d3e-3d8e-4f3a-9a57-2b1f0c9d8e7a"

func wantInvalid(t *testing.T, what string, err error) {
	t.Helper()
	var e *domain.Error
	if !errors.As(err, &e) || e.Code != domain.CodeInvalid {
		t.Fatalf("%s: %v, want an invalid *domain.Error", what, err)
	}
}

func TestDecodeSignal(t *testing.T) {
	for _, ok := range []string{
		`{"type":"join","token":"x.y.z","name":"Ann","last_seq":12}`,
		`{"type":"join","token":"x.y.z","name":"Ann","version":1}`,
		`{"type":"offer","sdp":"v=0"}`,
		`{"type":"answer","sdp":"v=0"}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"type":"candidate"}`,
		`{"type":"leave"}`,
	} {
		if _, err := protocol.DecodeSignal([]byte(ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{
		``, `null`, `[]`, `{"type":"join"`, `{"type":"hello"}`, `{"type":"join","extra":1}`,
		`{"type":"join"} {}`, `{"type":"join","last_seq":-1}`, `{"type":"join","token":3}`, `{"type":"join","version":-1}`,
		`{"type":"offer","sdp":"` + strings.Repeat("a", protocol.MaxSignalBytes) + `"}`,
	} {
		_, err := protocol.DecodeSignal([]byte(bad))
		wantInvalid(t, bad, err)
	}
}

// TestCheckVersion: the server serves MinVersion to Version, a join that
// names no version as UnversionedClient, and refuses the others as
// incompatible.
func TestCheckVersion(t *testing.T) {
	for v := protocol.MinVersion; v <= protocol.Version; v++ {
		if err := protocol.CheckVersion(v); err != nil {
			t.Errorf("version %d: %v", v, err)
		}
	}
	if err := protocol.CheckVersion(0); (err == nil) != (protocol.UnversionedClient >= protocol.MinVersion) {
		t.Errorf("no version (that is, %d): %v", protocol.UnversionedClient, err)
	}
	for _, v := range []int{protocol.MinVersion - 1, protocol.Version + 1, protocol.Version + 10} {
		if v == 0 {
			continue // no version, above
		}
		err := protocol.CheckVersion(v)
		wantInvalid(t, fmt.Sprint("version ", v), err)
		if domain.ErrorReason(err) != domain.ReasonIncompatible {
			t.Errorf("version %d: reason %q, want incompatible", v, domain.ErrorReason(err))
		}
	}
}

func TestDecodeCommand(t *testing.T) {
	gotID, p, err := protocol.DecodeCommand([]byte(`{"type":"command","id":"` + id + `","kind":"chat.posted","data":{"text":"hello"}}`))
	if err != nil || gotID.String() != id || p.(*domain.ChatPosted).Text != "hello" {
		t.Fatalf("valid command: %v %v %v", gotID, p, err)
	}
	for _, bad := range []string{
		`{}`,
		`{"type":"ack","id":"` + id + `","seq":3}`,
		`{"type":"command","kind":"chat.posted","data":{"text":"x"}}`,
		`{"type":"command","id":"` + id + `","kind":"chat.removed","data":{}}`,
		`{"type":"command","id":"` + id + `","kind":"chat.posted"}`,
		`{"type":"command","id":"` + id + `","kind":"chat.posted","data":{"text":"x","to":"bob"}}`,
		`{"type":"command","id":"` + id + `","kind":"chat.posted","data":{"text":"x"},"seq":4,"bogus":1}`,
		`{"type":"command","id":"not-a-uuid","kind":"chat.posted","data":{"text":"x"}}`,
		`{"type":"command","id":"` + id + `","kind":"chat.posted","data":{"text":"` + strings.Repeat("a", protocol.MaxCommandBytes) + `"}}`,
	} {
		_, _, err := protocol.DecodeCommand([]byte(bad))
		wantInvalid(t, bad, err)
	}
}

func TestDecodeEphemeral(t *testing.T) {
	for _, ok := range []string{
		`{"type":"cursor","slide":{"deck":"00000000-0000-0000-0000-000000000000","page":0},"x":1,"y":2}`,
		`{"type":"cursor","slide":{"deck":"00000000-0000-0000-0000-000000000000","page":2},"x":1,"y":2,"laser":true,"actor":"forged"}`,
		`{"type":"preview","slide":{"deck":"00000000-0000-0000-0000-000000000000","page":0},"object":"` + id + `","color":"#ff0000","width":3,"points":[[1,2,0,0.5]]}`,
	} {
		e, err := protocol.DecodeEphemeral([]byte(ok))
		if err != nil || e.Actor != "" {
			t.Errorf("%s: %+v, %v", ok, e, err)
		}
	}
	many := strings.TrimSuffix(strings.Repeat(`[1,2,0,0.5],`, protocol.MaxPreviewPoints+1), ",")
	for _, bad := range []string{
		`{"type":"wave"}`,
		`{"type":"cursor","slide":{"page":0},"x":1e9,"y":0}`,
		`{"type":"cursor","slide":{"page":-1},"x":0,"y":0}`,
		`{"type":"cursor","slide":{"page":0},"points":[[1,2,0,0.5]]}`,
		`{"type":"preview","slide":{"page":0},"points":[[1,2,0,0.5]]}`,
		`{"type":"preview","slide":{"page":0},"object":"` + id + `","points":[` + many + `]}`,
		`{"type":"preview","slide":{"page":0},"object":"` + id + `","points":[[1e9,2,0,0.5]]}`,
		`{"type":"cursor","slide":{"page":0},"color":"` + strings.Repeat("f", 20) + `"}`,
		`{"type":"cursor"}}`,
	} {
		_, err := protocol.DecodeEphemeral([]byte(bad))
		wantInvalid(t, bad, err)
	}
}

func FuzzDecodeSignal(f *testing.F) {
	for _, s := range []string{`{"type":"join","token":"a.b.c","name":"Ann","last_seq":3}`, `{"type":"offer","sdp":"v=0\r\n"}`,
		`{"type":"candidate","candidate":{"candidate":"c","sdpMid":"0","sdpMLineIndex":1,"usernameFragment":"u"}}`, `{"type":"leave"}`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := protocol.DecodeSignal(b)
		if err != nil {
			wantInvalid(t, "signal", err)
			return
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := protocol.DecodeSignal(again)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", again, err)
		}
		if b2, _ := json.Marshal(s2); !bytes.Equal(b2, again) {
			t.Fatalf("not stable: %s then %s", again, b2)
		}
	})
}

func FuzzDecodeCommand(f *testing.F) {
	for _, s := range []string{
		`{"type":"command","id":"` + id + `","kind":"chat.posted","data":{"text":"hello"}}`,
		`{"type":"command","id":"` + id + `","kind":"stroke.drawn","data":{"object":"` + id + `","slide":{"deck":"00000000-0000-0000-0000-000000000000","page":0},"part":0,"tool":"pen","color":"#000000","width":2,"points":[[1,2,0,0.5]]}}`,
		`{"type":"command","id":"` + id + `","kind":"hand.raised","data":{}}`,
		`{"type":"command","id":"` + id + `","kind":"floor.granted","data":{"participant":"p"}}`,
		`{"type":"command","id":"` + id + `","kind":"lobby.changed","data":{"on":true}}`,
		`{"type":"command","id":"` + id + `","kind":"lesson.locked","data":{"locked":false}}`,
		`{"type":"command","id":"` + id + `","kind":"participant.admitted","data":{}}`,
		`{"type":"command","id":"` + id + `","kind":"participant.denied","data":{"participant":"p"}}`,
		`{"type":"command","id":"` + id + `","kind":"participant.removed","data":{"participant":"p","keep_open":true}}`,
		`{"type":"command","id":"` + id + `","kind":"media.muted","data":{"audio":true,"video":false}}`,
		`{"type":"command","id":"` + id + `","kind":"media.unmuted","data":{"audio":false,"video":true}}`,
		`{"type":"command","id":"` + id + `","kind":"unmute.asked","data":{"participant":"p"}}`,
		`{"type":"command","id":"` + id + `","kind":"chat.permitted","data":{"allowed":false}}`,
		`{"type":"command","id":"` + id + `","kind":"poll.asked","data":{"poll":"` + id + `","question":"2+2?","choices":["3","4"],"correct":[1],"anonymous":true}}`,
		`{"type":"command","id":"` + id + `","kind":"poll.answered","data":{"poll":"` + id + `","choices":[0,1]}}`,
		`{"type":"command","id":"` + id + `","kind":"poll.answered","data":{"poll":"` + id + `","text":"because"}}`,
		`{"type":"command","id":"` + id + `","kind":"poll.closed","data":{"poll":"` + id + `"}}`,
		`{"type":"command","id":"` + id + `","kind":"poll.results_shown","data":{"poll":"` + id + `","counts":[1,2]}}`,
		`{"type":"command","id":"` + id + `","kind":"groups.formed","data":{"groups":[{"id":"` + id + `","name":"One","members":["p"]}],"seconds":600}}`,
		`{"type":"command","id":"` + id + `","kind":"group.joined","data":{"group":"` + id + `","participant":"p"}}`,
		`{"type":"command","id":"` + id + `","kind":"group.left","data":{}}`,
		`{"type":"command","id":"` + id + `","kind":"groups.messaged","data":{"text":"back soon"}}`,
		`{"type":"command","id":"` + id + `","kind":"groups.recalled","data":{"seconds":30}}`,
		`{"type":"command","id":"` + id + `","kind":"groups.ended","data":{}}`,
		`{"type":"command","id":"` + id + `","kind":"group.board.shown","data":{"group":"` + id + `"}}`,
		`{"type":"command","id":"` + id + `","kind":"group.chat.posted","data":{"group":"` + id + `","text":"over here"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		gotID, p, err := protocol.DecodeCommand(b)
		if err != nil {
			wantInvalid(t, "command", err)
			return
		}
		data, err := domain.EncodePayload(p)
		if err != nil {
			// Decoding checks the form, not the bounds: Decide refuses those.
			wantInvalid(t, "encode", err)
			return
		}
		msg, _ := json.Marshal(protocol.Message{Type: protocol.TypeCommand, ID: gotID, Kind: p.Kind(), Data: data})
		id2, p2, err := protocol.DecodeCommand(msg)
		if err != nil || id2 != gotID || p2.Kind() != p.Kind() {
			t.Fatalf("re-encoded %s: %v %v %v", msg, id2, p2, err)
		}
		if data2, _ := domain.EncodePayload(p2); !bytes.Equal(data, data2) {
			t.Fatalf("payload not stable: %s then %s", data, data2)
		}
	})
}

func FuzzDecodeEphemeral(f *testing.F) {
	for _, s := range []string{`{"type":"cursor","slide":{"page":1},"x":3,"y":4,"laser":true}`,
		`{"type":"preview","slide":{"page":0},"object":"` + id + `","color":"#123456","width":2,"points":[[1,2,0,0.5],[3,4,16,0.5]]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := protocol.DecodeEphemeral(b)
		if err != nil {
			wantInvalid(t, "ephemeral", err)
			return
		}
		again, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := protocol.DecodeEphemeral(again)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", again, err)
		}
		if b2, _ := json.Marshal(e2); !bytes.Equal(b2, again) {
			t.Fatalf("not stable: %s then %s", again, b2)
		}
	})
}
