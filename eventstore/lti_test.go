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
		Context: "course", Lesson: first, Series: true, Lobby: true, LineItems: "https://platform.example/lineitems"}
	if got, err := l.PutLTILink(ctx, link, uuid.Nil); err != nil || got != link {
		t.Fatalf("PutLTILink = %+v, %v; want %+v", got, err, link)
	}
	if got, err := l.LTILink(ctx, issuer, "client", "rl1"); err != nil || got != link {
		t.Fatalf("LTILink = %+v, %v; want %+v", got, err, link)
	}
	// A second first launch, racing the first, gets the first's lesson.
	loser := link
	loser.Lesson = newLesson(t, s)
	if got, err := l.PutLTILink(ctx, loser, uuid.Nil); err != nil || got != link {
		t.Fatalf("a link put as new once more: %+v, %v; want the first %+v", got, err, link)
	}
	next := link
	next.Lesson, next.Lobby = second, false
	if got, err := l.PutLTILink(ctx, next, first); err != nil || got != next {
		t.Fatalf("the series' next lesson: %+v, %v; want %+v", got, err, next)
	}
	if got, err := l.PutLTILink(ctx, link, first); err != nil || got != next {
		t.Fatalf("a stale move to the next lesson: %+v, %v; want %+v kept", got, err, next)
	}
	link = next

	if r, err := l.Roster(ctx, first); err != nil || len(r) != 0 {
		t.Fatalf("roster before any was fetched: %v, %v", r, err)
	}
	members := []eventstore.RosterMember{{Participant: "lti-a", UserID: "a", Name: "Ada", Role: domain.RoleStudent},
		{Participant: "lti-b", UserID: "b", Name: "Ben", Role: domain.RoleTeacher}}
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

	want := eventstore.LTILesson{Issuer: issuer, ClientID: "client", Context: "course", ResourceLink: "rl1",
		LineItems: "https://platform.example/lineitems"}
	if got, err := l.LTILesson(ctx, second); err != nil || got != want {
		t.Fatalf("LTILesson = %+v, %v; want %+v", got, err, want)
	}
	if err := l.SetLineItem(ctx, second, "https://platform.example/lineitems/7"); err != nil {
		t.Fatal(err)
	}
	want.LineItem = "https://platform.example/lineitems/7"
	if got, err := l.LTILesson(ctx, second); err != nil || got != want {
		t.Fatalf("LTILesson after SetLineItem = %+v, %v; want %+v", got, err, want)
	}
	other := newLesson(t, s)
	if _, err := l.LTILesson(ctx, other); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("LTILesson of a lesson no launch opened: %v", err)
	}
	if err := l.SetLineItem(ctx, other, "x"); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("SetLineItem of a lesson no launch opened: %v", err)
	}
}

func TestSQLiteOwners(t *testing.T) {
	s, err := eventstore.OpenSQLite(context.Background(), t.TempDir(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	testOwners(t, s)
}

func TestPostgresOwners(t *testing.T) { testOwners(t, openPostgres(t)) }

// testOwners runs the contract of eventstore.Owners on a store.
func testOwners(t *testing.T, s eventstore.Store) {
	ctx := context.Background()
	o := s.(eventstore.Owners)
	owner := "https://accounts.school.example " + uuid.NewString()
	a, b, other := newLesson(t, s), newLesson(t, s), newLesson(t, s)
	for _, l := range []uuid.UUID{a, b} {
		if err := o.SetOwner(ctx, l, owner); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.SetOwner(ctx, other, owner+"-2"); err != nil {
		t.Fatal(err)
	}
	if err := o.SetOwner(ctx, a, owner+"-2"); domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("a lesson's second owner: %v, want a conflict", err)
	}
	if err := o.SetOwner(ctx, uuid.New(), owner); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("an unknown lesson's owner: %v, want not found", err)
	}
	got, err := o.OwnedLessons(ctx, owner, eventstore.ListOptions{})
	if err != nil || len(got) != 2 || !(got[0].ID == a && got[1].ID == b || got[0].ID == b && got[1].ID == a) {
		t.Fatalf("owned lessons %+v, %v; want %s and %s", got, err, a, b)
	}
	if one, err := o.OwnedLessons(ctx, owner, eventstore.ListOptions{Limit: 1}); err != nil || len(one) != 1 || one[0].ID != got[0].ID {
		t.Fatalf("owned lessons, limit 1: %+v, %v; want the newest, %s", one, err, got[0].ID)
	}
}
