package domain

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// restoreWithJSON is RestoreSnapshot as it was before the fast path:
// encoding/json alone. It is the reference the fast path is held to.
func restoreWithJSON(b []byte) (*State, error) {
	s := NewState()
	if err := json.Unmarshal(b, s); err != nil {
		return nil, Errorf(CodeInvalid, "malformed lesson snapshot: %v", err)
	}
	if s.Participants == nil {
		s.Participants = map[string]*Participant{}
	}
	if s.Boards == nil {
		s.Boards = map[string]*Board{}
	}
	for k, b := range s.Boards {
		if b == nil {
			return nil, Errorf(CodeInvalid, "malformed lesson snapshot: board %q is null", k)
		}
		for _, o := range b.Objects {
			if o == nil {
				return nil, Errorf(CodeInvalid, "malformed lesson snapshot: a null object")
			}
		}
		b.reindex()
	}
	return s, nil
}

// sameRestore checks that RestoreSnapshot and restoreWithJSON agree on b:
// both refuse it with CodeInvalid, RestoreSnapshot with encoding/json's
// message, or both accept it as states that encode alike.
func sameRestore(t *testing.T, b []byte) (*State, error) {
	t.Helper()
	got, err := RestoreSnapshot(b)
	want, wantErr := restoreWithJSON(b)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%.200q: RestoreSnapshot says %v, encoding/json says %v", b, err, wantErr)
	}
	if err != nil {
		if ErrorCode(err) != CodeInvalid {
			t.Fatalf("%.200q: refused with %v, want invalid", b, err)
		}
		if !strings.Contains(wantErr.Error(), "null object") && err.Error() != wantErr.Error() {
			t.Fatalf("%.200q: refused with\n%v\nencoding/json refuses with\n%v", b, err, wantErr)
		}
		return nil, err
	}
	gotB, err := got.MarshalSnapshot()
	if err != nil {
		t.Fatalf("%.200q: restored state does not encode: %v", b, err)
	}
	wantB, err := want.MarshalSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotB, wantB) {
		t.Fatalf("%.200q restores as\n%.500s\nencoding/json makes\n%.500s", b, gotB, wantB)
	}
	for k, bd := range got.Boards {
		for i, o := range bd.Objects {
			if bd.index == nil || bd.object(o.ID) == nil {
				t.Fatalf("%.200q: board %q object %d is not indexed", b, k, i)
			}
		}
	}
	return got, nil
}

// TestRestoreSnapshotFastPath checks that what MarshalSnapshot writes takes
// the fast path and restores to the same bytes.
func TestRestoreSnapshotFastPath(t *testing.T) {
	p := fullLesson(t)
	for cut := range len(p.log) + 1 {
		snap, err := replay(p.log[:cut]).MarshalSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		s, ok := decodeSnapshot(snap)
		if !ok {
			t.Fatalf("cut %d: the fast path does not take %s", cut, snap)
		}
		again, err := s.MarshalSnapshot()
		if err != nil || !bytes.Equal(again, snap) {
			t.Fatalf("cut %d: %s\nrestores as\n%s", cut, snap, again)
		}
		sameRestore(t, snap)
	}
}

// snapshotCases are inputs beside MarshalSnapshot's own: some the fast path
// takes, some it leaves to encoding/json, and malformed ones.
var snapshotCases = []struct {
	name, in string
	ok       bool
}{
	{"empty object", `{}`, true},
	{"null", `null`, true},
	{"white space", " \n\t{ \"seq\" : 3 , \"boards\" : { \"k\" : { \"objects\" : [ { \"id\" : \"11111111-2222-4333-8444-555555555555\" , \"points\" : [ [ 1 , 2 , 3 , 0.5 ] ] } ] , \"history\" : null } } }\r\n", true},
	{"keys in any order", `{"boards":{"k":{"history":{"ann":{"redo":null,"undo":[{"objects":["11111111-2222-4333-8444-555555555555"],"op":"add"}]}},"objects":[]}},"seq":1}`, true},
	{"escaped and unicode strings", `{"title":"a\"b\\c\u00e9\ud83d\ude00 ½","boards":{"k":{"objects":[{"owner":"Zo\u00eb","kind":"text","text":"<b>&\u2028","color":"\u0023fff"}]}}}`, true},
	{"invalid UTF-8 becomes U+FFFD", "{\"title\":\"a\xffb\",\"floor\":\"\xc3\"}", true},
	{"uuid forms", `{"lesson":"{11111111-2222-4333-8444-555555555555}","boards":{"k":{"objects":[{"id":"urn:uuid:11111111-2222-4333-8444-555555555555"},{"id":"11111111222243338444555555555555"}]}}}`, true},
	{"number forms", `{"seq":-0,"boards":{"k":{"objects":[{"seq":12,"width":1E2,"size":-0.0,"points":[[1e-7,-2.5e+3,4E1,0.1234567890123456789],[0,-0,0,1234567890123456]],"from":[-1.5,2e0],"at":[0.000001,1e21]}]}}}`, true},
	{"long mantissas", `{"boards":{"k":{"objects":[{"points":[[100000000000000000000000,1234567890123456,1234567890,0.30000000000000004],[123456789012345,-0.1234567890123456,0,1]]}]}}}`, true},
	{"short pair", `{"boards":{"k":{"objects":[{"from":[1]}]}}}`, true},
	{"long pair", `{"boards":{"k":{"objects":[{"to":[1,2,3]}]}}}`, true},
	{"key in another case", `{"Seq":4}`, true},
	{"unknown key", `{"seq":4,"extra":[1,{"a":"]"}]}`, true},
	{"key twice", `{"seq":4,"seq":5}`, true},
	{"board twice", `{"boards":{"k":{"objects":[{"kind":"a"}]},"k":{"objects":[]}}}`, true},
	{"null where a value is", `{"seq":null,"title":null,"boards":{"k":{"objects":[{"id":null,"points":null,"hidden":null}]}}}`, true},
	{"null history entry", `{"boards":{"k":{"history":{"ann":null}}}}`, true},
	{"participants, decks, chat", `{"participants":{"ann":{"id":"ann","name":"Ann","role":"student","present":true,"drawing":false}},"decks":[{"id":"11111111-2222-4333-8444-555555555555","name":"D","pages":3}],"slide":{"deck":"11111111-2222-4333-8444-555555555555","page":2},"chat":[{"seq":3,"actor":"ann","time":"2024-03-01T09:00:00.5Z","text":"hi"}],"created":"2024-03-01T09:00:00+02:00","hands":["ann"],"recording":true,"drawing_allowed":false}`, true},

	{"nothing", ``, false},
	{"not JSON", `nope`, false},
	{"array", `[]`, false},
	{"trailing data", `{}}`, false},
	{"trailing value", `{} {}`, false},
	{"seq a string", `{"seq":"x"}`, false},
	{"seq a fraction", `{"seq":1.5}`, false},
	{"seq too large", `{"seq":9223372036854775808}`, false},
	{"bad uuid", `{"lesson":"11111111-2222"}`, false},
	{"null board", `{"boards":{"k":null}}`, false},
	{"null object", `{"boards":{"k":{"objects":[null]}}}`, false},
	{"point time a fraction", `{"boards":{"k":{"objects":[{"points":[[1,2,3.5,0]]}]}}}`, false},
	{"point time too large", `{"boards":{"k":{"objects":[{"points":[[1,2,2199023255553,0]]}]}}}`, false},
	{"point of three numbers", `{"boards":{"k":{"objects":[{"points":[[1,2,3]]}]}}}`, false},
	{"point of five numbers", `{"boards":{"k":{"objects":[{"points":[[1,2,3,4,5]]}]}}}`, false},
	{"point not an array", `{"boards":{"k":{"objects":[{"points":[1,2,3,4]}]}}}`, false},
	{"point with a string", `{"boards":{"k":{"objects":[{"points":[["1",2,3,4]]}]}}}`, false},
	{"point with null", `{"boards":{"k":{"objects":[{"points":[[null,2,3,4]]}]}}}`, false},
	{"points an object", `{"boards":{"k":{"objects":[{"points":{}}]}}}`, false},
	{"point out of range", `{"boards":{"k":{"objects":[{"points":[[1e400,2,3,4]]}]}}}`, false},
	{"point number malformed", `{"boards":{"k":{"objects":[{"points":[[01,2,3,4]]}]}}}`, false},
	{"point number with plus", `{"boards":{"k":{"objects":[{"points":[[+1,2,3,4]]}]}}}`, false},
	{"point number bare point", `{"boards":{"k":{"objects":[{"points":[[1.,2,3,4]]}]}}}`, false},
	{"point number bare exponent", `{"boards":{"k":{"objects":[{"points":[[1e,2,3,4]]}]}}}`, false},
	{"points unclosed", `{"boards":{"k":{"objects":[{"points":[[1,2,3,4]`, false},
	{"points trailing comma", `{"boards":{"k":{"objects":[{"points":[[1,2,3,4],]}]}}}`, false},
	{"width out of range", `{"boards":{"k":{"objects":[{"width":-1e999}]}}}`, false},
	{"hidden a number", `{"boards":{"k":{"objects":[{"hidden":1}]}}}`, false},
	{"control character", "{\"title\":\"a\x01\"}", false},
	{"bad escape", `{"title":"a\x"}`, false},
	{"unclosed string", `{"title":"a`, false},
	{"syntax error after a type error", `{"seq":"x","title":}`, false},
	{"bad chat time", `{"chat":[{"time":"yesterday"}]}`, false},
	{"history not an object", `{"boards":{"k":{"history":[]}}}`, false},
	{"action objects not uuids", `{"boards":{"k":{"history":{"a":{"undo":[{"op":"add","objects":[1]}]}}}}}`, false},
}

// TestRestoreSnapshotAgreesWithJSON checks RestoreSnapshot on the cases
// against encoding/json: the same states and the same refusals.
func TestRestoreSnapshotAgreesWithJSON(t *testing.T) {
	for _, c := range snapshotCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sameRestore(t, []byte(c.in))
			if (err == nil) != c.ok {
				t.Fatalf("%s: got %v, want ok=%v", c.in, err, c.ok)
			}
		})
	}
}

// FuzzRestoreSnapshot feeds arbitrary bytes to RestoreSnapshot, which must
// never panic and must agree with encoding/json (sameRestore); what it
// accepts and MarshalSnapshot would write as it is must take the fast path.
func FuzzRestoreSnapshot(f *testing.F) {
	p := fullLesson(f)
	for _, cut := range []int{0, 3, len(p.log) / 2, len(p.log)} {
		snap, err := replay(p.log[:cut]).MarshalSnapshot()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(snap)
	}
	for _, c := range snapshotCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := sameRestore(t, b)
		if err != nil {
			return
		}
		canonical, _ := s.MarshalSnapshot()
		if bytes.Equal(canonical, b) {
			if _, ok := decodeSnapshot(b); !ok {
				t.Fatalf("the fast path does not take the canonical %q", b)
			}
		}
	})
}

// FuzzAppendFloat holds appendFloat to encoding/json's formatting of a
// float64, on arbitrary floats and on decimals of up to 6 places, which take
// its short path or just miss it.
func FuzzAppendFloat(f *testing.F) {
	for _, v := range []float64{0, 1, -1, 0.1, 123.45, -98765.4321, 1e-4, 9.9999e-5, 999999999.9999, 1e9, 0.30000000000000004, 5e-324, 1e21} {
		f.Add(v, int64(0), uint8(0))
	}
	f.Add(0.0, int64(12345), uint8(2))
	f.Add(0.0, int64(-99999999999999), uint8(5))
	f.Fuzz(func(t *testing.T, v float64, m int64, k uint8) {
		check := func(v float64) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return
			}
			want, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendFloat(nil, v); !bytes.Equal(got, want) {
				t.Fatalf("%v (bits %x) formats as %s, encoding/json writes %s", v, math.Float64bits(v), got, want)
			}
		}
		check(v)
		check(float64(m) / math.Pow10(int(k%7)))
		check(math.Nextafter(float64(m)/math.Pow10(int(k%7)), math.Inf(1)))
	})
}
