package realtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
)

// TestDeckAddedNeedsUpload: over a real connection, the teacher's deck.added
// is refused unless the deck's pages were uploaded to this lesson, with as
// many pages as the command says; an uploaded deck is added and shown.
func TestDeckAddedNeedsUpload(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) { testDeckAddedNeedsUpload(t, kind) })
	}
}

func testDeckAddedNeedsUpload(t *testing.T, kind string) {
	ls := startServer(t, openStore(t, kind), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	decks, ok := ls.store.(eventstore.Decks)
	if !ok {
		t.Fatalf("%T keeps no decks", ls.store)
	}
	threePages := func() []eventstore.Page {
		var out []eventstore.Page
		for range 3 {
			out = append(out, eventstore.Page{ContentType: eventstore.PNG, Data: []byte("\x89PNG stand-in")})
		}
		return out
	}
	deck := uuid.New()
	if err := decks.PutDeck(ctx, ls.lesson, deck, "Fractions", threePages()); err != nil {
		t.Fatal(err)
	}
	// A deck uploaded to another lesson.
	other, foreign := uuid.New(), uuid.New()
	created, err := domain.NewLesson(other, uuid.New(), "Other", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, errs, err := ls.store.Append(ctx, created); err != nil || errs[0] != nil {
		t.Fatalf("create another lesson: %v %v", err, errs)
	}
	if err := decks.PutDeck(ctx, other, foreign, "Not yours", threePages()); err != nil {
		t.Fatal(err)
	}

	teacher := ls.mustJoin(ctx, domain.RoleTeacher, "Ms Lovelace")
	student := ls.mustJoin(ctx, domain.RoleStudent, "Bob")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})

	for _, tt := range []struct {
		name  string
		who   string
		added domain.DeckAdded
		code  domain.Code
	}{
		{"never uploaded", "teacher", domain.DeckAdded{Deck: uuid.New(), Name: "Ghost", Pages: 3}, domain.CodeNotFound},
		{"another lesson's deck", "teacher", domain.DeckAdded{Deck: foreign, Name: "Not yours", Pages: 3}, domain.CodeNotFound},
		{"too few pages", "teacher", domain.DeckAdded{Deck: deck, Name: "Fractions", Pages: 2}, domain.CodeInvalid},
		{"too many pages", "teacher", domain.DeckAdded{Deck: deck, Name: "Fractions", Pages: 4}, domain.CodeInvalid},
		{"by a student", "student", domain.DeckAdded{Deck: deck, Name: "Fractions", Pages: 3}, domain.CodeForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := teacher
			if tt.who == "student" {
				c = student
			}
			added := tt.added
			_, err := c.Send(ctx, &added)
			if got := domain.ErrorCode(err); got != tt.code {
				t.Fatalf("deck.added: %v (code %q), want %q", err, got, tt.code)
			}
		})
	}
	if n := len(ls.replay().Decks); n != 0 {
		t.Fatalf("%d decks in the log after the refusals", n)
	}

	// The uploaded deck, with its page count, is added; the class moves to
	// its last page, and no further.
	seq := mustSend(t, ctx, teacher, &domain.DeckAdded{Deck: deck, Name: "Fractions", Pages: 3})
	if seq == 0 {
		t.Fatal("deck.added acknowledged without a sequence")
	}
	mustSend(t, ctx, teacher, &domain.SlideChanged{Slide: domain.Slide{Deck: deck, Page: 2}})
	if _, err := teacher.Send(ctx, &domain.SlideChanged{Slide: domain.Slide{Deck: deck, Page: 3}}); err == nil {
		t.Fatal("moved past the deck's last page")
	}
	if _, err := teacher.Send(ctx, &domain.DeckAdded{Deck: deck, Name: "Fractions", Pages: 3}); domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("the same deck again: %v", err)
	}
	converge(t, ls, teacher, student)
	state := ls.replay()
	if len(state.Decks) != 1 || state.Decks[0].ID != deck || state.Decks[0].Pages != 3 || state.Slide != (domain.Slide{Deck: deck, Page: 2}) {
		t.Fatalf("decks %+v, slide %+v", state.Decks, state.Slide)
	}
}
