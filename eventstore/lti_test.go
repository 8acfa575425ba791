package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
)

func TestSQLiteLTI(t *testing.T) {
	s, err := eventstore.OpenSQLite(context.Background(), t.TempDir(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	testLTI(t, s)
}

func TestPostgresLTI(t *testing.T) { testLTI(t, openPostgres(t)) }

// testLTI runs the contract of eventstore.LTI on a store.
func testLTI(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	l := s.(eventstore.LTI)
	issuer := "https://platform.example/" + uuid.NewString()

	if err := l.UseNonce(ctx, issuer, "n1", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := l.UseNonce(ctx, issuer, "n1", time.Now().Add(time.Minute)); domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("a nonce used twice: %v, want a conflict", err)
	}
	if err := l.UseNonce(ctx, issuer+"/other", "n1", time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("another issuer's nonce: %v", err)
	}

	if _, err := l.LTILink(ctx, issuer, "client", "rl1"); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("an unknown link: %v, want not found", err)
	}
	first, second := newLesson(t, s), newLesson(t, s)
	link := eventstore.LTILink{Issuer: issuer, ClientID: "client", ResourceLink: "rl1", Deployment: "d1",
		Context: "course", Lesson: first, Series: true, Lobby: true}
	if err := l.PutLTILink(ctx, link); err != nil {
		t.Fatal(err)
	}
	if got, err := l.LTILink(ctx, issuer, "client", "rl1"); err != nil || got != link {
		t.Fatalf("LTILink = %+v, %v; want %+v", got, err, link)
	}
	link.Lesson, link.Lobby = second, false
	if err := l.PutLTILink(ctx, link); err != nil {
		t.Fatal(err)
	}
	if got, err := l.LTILink(ctx, issuer, "client", "rl1"); err != nil || got != link {
		t.Fatalf("the series' next lesson: %+v, %v; want %+v", got, err, link)
	}

	if r, err := l.Roster(ctx, first); err != nil || len(r) != 0 {
		t.Fatalf("roster before any was fetched: %v, %v", r, err)
	}
	members := []eventstore.RosterMember{{Participant: "lti-a", Name: "Ada", Role: domain.RoleStudent},
		{Participant: "lti-b", Name: "Ben", Role: domain.RoleTeacher}}
	if err := l.PutRoster(ctx, issuer, "client", "course", members); err != nil {
		t.Fatal(err)
	}
	if err := l.PutRoster(ctx, issuer, "client", "other course", members[:1]); err != nil {
		t.Fatal(err)
	}
	for _, lesson := range []uuid.UUID{first, second} {
		r, err := l.Roster(ctx, lesson)
		if err != nil || len(r) != 2 || r[0] != members[0] || r[1] != members[1] {
			t.Fatalf("roster of %s: %+v, %v; want %+v", lesson, r, err, members)
		}
	}
	if err := l.PutRoster(ctx, issuer, "client", "course", members[1:]); err != nil {
		t.Fatal(err)
	}
	if r, err := l.Roster(ctx, first); err != nil || len(r) != 1 || r[0] != members[1] {
		t.Fatalf("a roster fetched again replaces the last: %+v, %v", r, err)
	}
	if r, err := l.Roster(ctx, newLesson(t, s)); err != nil || len(r) != 0 {
		t.Fatalf("roster of a lesson no launch opened: %v, %v", r, err)
	}
}
