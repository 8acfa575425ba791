package eventstore_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
)

func TestSQLiteStreamKeys(t *testing.T) {
	dir := t.TempDir()
	testStreamKeys(t, func(t *testing.T) eventstore.Store {
		s, err := eventstore.OpenSQLite(context.Background(), dir, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestPostgresStreamKeys(t *testing.T) {
	testStreamKeys(t, func(t *testing.T) eventstore.Store { return openPostgres(t) })
}

// testStreamKeys runs the contract of eventstore.StreamKeys on a store: a
// key is found by its hash in its own lesson only, revoking keeps the first
// time, and malformed keys, unknown lessons and taken hashes are refused.
func testStreamKeys(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t)
	keys, ok := s.(eventstore.StreamKeys)
	if !ok {
		t.Fatalf("%T does not keep stream keys", s)
	}
	lesson, other := newLesson(t, s), newLesson(t, s)
	created := time.Now().UTC().Truncate(time.Microsecond)
	k := eventstore.StreamKey{Lesson: lesson, ID: uuid.New(), Kind: eventstore.KeyPublish, Label: "OBS in room 12",
		Hash: sha256.Sum256([]byte(uuid.NewString())), Created: created}
	if err := keys.PutKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	v := eventstore.StreamKey{Lesson: lesson, ID: uuid.New(), Kind: eventstore.KeyView, Hash: sha256.Sum256([]byte(uuid.NewString())),
		Created: created.Add(time.Second)}
	if err := keys.PutKey(ctx, v); err != nil {
		t.Fatal(err)
	}
	got, err := keys.KeyByHash(ctx, lesson, k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got != k {
		t.Errorf("found %+v, want %+v", got, k)
	}
	_, err = keys.KeyByHash(ctx, other, k.Hash)
	wantCode(t, err, domain.CodeNotFound)

	dup := v
	dup.ID = uuid.New()
	wantCode(t, keys.PutKey(ctx, dup), domain.CodeConflict) // the hash is taken
	wantCode(t, keys.PutKey(ctx, eventstore.StreamKey{Lesson: uuid.New(), ID: uuid.New(), Kind: eventstore.KeyView,
		Hash: sha256.Sum256([]byte("x")), Created: created}), domain.CodeNotFound)
	wantCode(t, keys.PutKey(ctx, eventstore.StreamKey{Lesson: lesson, ID: uuid.New(), Kind: "admin",
		Hash: sha256.Sum256([]byte("y")), Created: created}), domain.CodeInvalid)

	at := created.Add(time.Minute)
	if err := keys.RevokeKey(ctx, lesson, k.ID, at); err != nil {
		t.Fatal(err)
	}
	if err := keys.RevokeKey(ctx, lesson, k.ID, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, keys.RevokeKey(ctx, other, k.ID, at), domain.CodeNotFound)
	list, err := keys.Keys(ctx, lesson)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != k.ID || list[1].ID != v.ID {
		t.Fatalf("keys %+v, want the publishing key then the viewing key", list)
	}
	if !list[0].Revoked.Equal(at) || !list[1].Revoked.IsZero() {
		t.Errorf("revoked at %v and %v, want %v and never", list[0].Revoked, list[1].Revoked, at)
	}
	if none, err := keys.Keys(ctx, other); err != nil || len(none) != 0 {
		t.Errorf("another lesson's keys: %v, %v", none, err)
	}
}
