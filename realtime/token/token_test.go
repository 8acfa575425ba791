package token_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"classroom/domain"
	"classroom/realtime/token"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func keeper(t *testing.T, now *time.Time, key []byte) *token.Keeper {
	t.Helper()
	k, err := token.NewKeeper(key, func() time.Time { return *now })
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestIssueAndVerify(t *testing.T) {
	now := t0
	k := keeper(t, &now, bytes.Repeat([]byte{7}, 32))
	lesson := uuid.New()
	want := token.Claims{Lesson: lesson, Role: domain.RoleStudent, Participant: "p-1", Name: "Ann", Expires: t0.Add(time.Hour)}
	s, err := k.Issue(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Verify(s, lesson)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Verify = %+v, want %+v", got, want)
	}
	// An invitation names no one, and carries its id.
	id := uuid.New()
	inv, err := k.Issue(token.Claims{Lesson: lesson, Role: domain.RoleStudent, Expires: t0.Add(time.Hour), Invitation: id})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := k.Verify(inv, lesson); err != nil || c.Participant != "" || c.Invitation != id {
		t.Fatalf("invitation = %+v, %v; want no participant and invitation %s", c, err, id)
	}
}

func TestVerifyRefuses(t *testing.T) {
	now := t0
	key := bytes.Repeat([]byte{7}, 32)
	k := keeper(t, &now, key)
	lesson := uuid.New()
	good, err := k.Issue(token.Claims{Lesson: lesson, Role: domain.RoleTeacher, Participant: "t", Expires: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	other := keeper(t, &now, bytes.Repeat([]byte{8}, 32))
	forged, _ := other.Issue(token.Claims{Lesson: lesson, Role: domain.RoleTeacher, Participant: "t", Expires: t0.Add(time.Minute)})
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"lesson": lesson.String(), "role": "teacher",
		"exp": t0.Add(time.Hour).Unix(), "iss": "classroom", "aud": "classroom-lesson"})
	unsigned, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	badID, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"lesson": lesson.String(), "role": "student",
		"exp": t0.Add(time.Hour).Unix(), "iat": t0.Unix(), "iss": "classroom", "aud": "classroom-lesson", "jti": "not-a-uuid"}).SignedString(key)

	for _, tt := range []struct {
		name, tok string
		lesson    uuid.UUID
		at        time.Time
		msg       string
	}{
		{"expired", good, lesson, t0.Add(2 * time.Minute), "expired"},
		{"wrong lesson", good, uuid.New(), t0, "another lesson"},
		{"forged", forged, lesson, t0, "signature"},
		{"tampered", tampered, lesson, t0, "not valid"},
		{"alg none", unsigned, lesson, t0, "not valid"},
		{"garbage", "hello", lesson, t0, "not valid"},
		{"empty", "", lesson, t0, "not valid"},
		{"bad invitation id", badID, lesson, t0, "invitation is not valid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now = tt.at
			_, err := k.Verify(tt.tok, tt.lesson)
			if domain.ErrorCode(err) != domain.CodeUnauthorized || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Verify: %v, want unauthorized mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestIssueRefuses(t *testing.T) {
	now := t0
	k := keeper(t, &now, bytes.Repeat([]byte{7}, 32))
	for _, c := range []token.Claims{
		{Role: domain.RoleStudent, Expires: t0.Add(time.Hour)},
		{Lesson: uuid.New(), Role: domain.RoleSystem, Expires: t0.Add(time.Hour)},
		{Lesson: uuid.New(), Role: domain.RoleStudent, Expires: t0},
	} {
		if _, err := k.Issue(c); err == nil {
			t.Errorf("Issue(%+v) succeeded", c)
		}
	}
	if _, err := token.NewKeeper(make([]byte, 16), nil); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "token.key")
	a, err := token.LoadOrCreateKey(path)
	if err != nil || len(a) != token.KeyBytes {
		t.Fatalf("create: %d bytes, %v", len(a), err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	b, err := token.LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("load gave another key: %v", err)
	}
	short := filepath.Join(t.TempDir(), "short.key")
	os.WriteFile(short, []byte("tiny"), 0o600)
	if _, err := token.LoadOrCreateKey(short); err == nil {
		t.Fatal("a short key file was accepted")
	}
}

// TestCheckInvitation: an invitation is refused only once the lesson records
// another; a token that names someone never is.
func TestCheckInvitation(t *testing.T) {
	current, other := uuid.New(), uuid.New()
	for _, tt := range []struct {
		name    string
		c       token.Claims
		current uuid.UUID
		refused bool
	}{
		{"none recorded", token.Claims{Invitation: other}, uuid.Nil, false},
		{"no id, none recorded", token.Claims{}, uuid.Nil, false},
		{"the current one", token.Claims{Invitation: current}, current, false},
		{"a replaced one", token.Claims{Invitation: other}, current, true},
		{"no id, one recorded", token.Claims{}, current, true},
		{"a student's own", token.Claims{Participant: "p-1"}, current, false},
		{"the teacher's", token.Claims{Participant: "teacher", Role: domain.RoleTeacher}, current, false},
	} {
		err := tt.c.CheckInvitation(tt.current)
		if refused := err != nil; refused != tt.refused || (refused && domain.ErrorCode(err) != domain.CodeUnauthorized) {
			t.Errorf("%s: %v, want refused %v (unauthorized)", tt.name, err, tt.refused)
		}
	}
}
