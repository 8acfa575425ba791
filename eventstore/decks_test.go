package eventstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"testing"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
)

func TestSQLiteDecks(t *testing.T) {
	dir := t.TempDir()
	testDecks(t, func(t *testing.T) eventstore.Store {
		s, err := eventstore.OpenSQLite(context.Background(), dir, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestPostgresDecks(t *testing.T) {
	testDecks(t, func(t *testing.T) eventstore.Store { return openPostgres(t) })
}

// testDecks runs the contract of eventstore.Decks on a store.
func testDecks(t *testing.T, open opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, opener)
	}{
		{"PutAndRead", testDecksPutAndRead},
		{"LessonMustBeOpen", testDecksLessonMustBeOpen},
		{"Malformed", testDecksMalformed},
		{"Duplicate", testDecksDuplicate},
		{"ConcurrentDuplicate", testDecksConcurrentDuplicate},
		{"PerLesson", testDecksPerLesson},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

func decksOf(t *testing.T, s eventstore.Store) eventstore.Decks {
	t.Helper()
	d, ok := s.(eventstore.Decks)
	if !ok {
		t.Fatalf("%T does not keep decks", s)
	}
	return d
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// wantNoDeck checks that a lesson holds no trace of a deck.
func wantNoDeck(t *testing.T, d eventstore.Decks, lesson, deck uuid.UUID) {
	t.Helper()
	list, err := d.LessonDecks(context.Background(), lesson)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range list {
		if got.ID == deck {
			t.Fatalf("lesson %s lists deck %s", lesson, deck)
		}
	}
	_, err = d.Deck(context.Background(), lesson, deck)
	wantCode(t, err, domain.CodeNotFound)
	_, err = d.Page(context.Background(), lesson, deck, 0)
	wantCode(t, err, domain.CodeNotFound)
}

func testDecksPutAndRead(t *testing.T, open opener) {
	s := open(t)
	lesson := newLesson(t, s)
	deck := uuid.New()
	pages := []eventstore.Page{
		{ContentType: eventstore.PNG, Data: randomBytes(t, 100)},
		{ContentType: eventstore.WebP, Data: randomBytes(t, 5<<20)}, // a large page survives byte for byte
		{ContentType: eventstore.JPEG, Data: []byte{0xff, 0xd8, 0, 0xff, 0xd9}},
	}
	var want [][]byte
	var total int64
	for _, p := range pages {
		want = append(want, bytes.Clone(p.Data))
		total += int64(len(p.Data))
	}
	ctx := context.Background()
	if err := decksOf(t, s).PutDeck(ctx, lesson, deck, "Fractions — week 3.pdf", pages); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Read back through a new store on the same database.
	d := decksOf(t, open(t))
	got, err := d.Deck(ctx, lesson, deck)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lesson != lesson || got.ID != deck || got.Name != "Fractions — week 3.pdf" || got.Pages != 3 ||
		got.Bytes != total || got.Created.IsZero() || got.Created.Location().String() != "UTC" {
		t.Fatalf("deck: %+v", got)
	}
	for i, p := range pages {
		pg, err := d.Page(ctx, lesson, deck, i)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		if pg.ContentType != p.ContentType || !bytes.Equal(pg.Data, want[i]) || pg.SHA256 != sha256.Sum256(want[i]) {
			t.Fatalf("page %d: %s, %d bytes, hash %x", i, pg.ContentType, len(pg.Data), pg.SHA256)
		}
	}
	for _, n := range []int{-1, 3, domain.MaxDeckPages} {
		_, err := d.Page(ctx, lesson, deck, n)
		wantCode(t, err, domain.CodeNotFound)
	}
}

func testDecksLessonMustBeOpen(t *testing.T, open opener) {
	s := open(t)
	d := decksOf(t, s)
	ctx := context.Background()
	page := []eventstore.Page{{ContentType: eventstore.PNG, Data: []byte("png")}}

	ghost, deck := uuid.New(), uuid.New()
	wantCode(t, d.PutDeck(ctx, ghost, deck, "Ghost", page), domain.CodeNotFound)
	wantNoDeck(t, d, ghost, deck)

	ended := newLesson(t, s)
	mustAppend(t, s, event(ended, "teacher", &domain.LessonEnded{}))
	wantCode(t, d.PutDeck(ctx, ended, deck, "Too late", page), domain.CodeConflict)
	wantNoDeck(t, d, ended, deck)
}

func testDecksMalformed(t *testing.T, open opener) {
	s := open(t)
	d := decksOf(t, s)
	lesson := newLesson(t, s)
	ctx := context.Background()
	png := func(n int) eventstore.Page {
		return eventstore.Page{ContentType: eventstore.PNG, Data: make([]byte, n)}
	}
	many := func(n int, p eventstore.Page) []eventstore.Page {
		out := make([]eventstore.Page, n)
		for i := range out {
			out[i] = p // the same backing array: big decks cost little memory
		}
		return out
	}
	for _, tt := range []struct {
		name  string
		deck  uuid.UUID
		title string
		pages []eventstore.Page
	}{
		{"no deck id", uuid.Nil, "Deck", many(1, png(1))},
		{"no name", uuid.New(), "", many(1, png(1))},
		{"no pages", uuid.New(), "Deck", nil},
		{"too many pages", uuid.New(), "Deck", many(domain.MaxDeckPages+1, png(1))},
		{"empty page", uuid.New(), "Deck", []eventstore.Page{png(1), png(0)}},
		{"page too large", uuid.New(), "Deck", many(1, png(eventstore.MaxPageBytes+1))},
		{"deck too large", uuid.New(), "Deck", many(eventstore.MaxDeckBytes/eventstore.MaxPageBytes+1, png(eventstore.MaxPageBytes))},
		{"not an image type", uuid.New(), "Deck", []eventstore.Page{png(1), {ContentType: "application/pdf", Data: []byte("%PDF")}}},
		{"no type", uuid.New(), "Deck", []eventstore.Page{{Data: []byte("x")}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, d.PutDeck(ctx, lesson, tt.deck, tt.title, tt.pages), domain.CodeInvalid)
			wantNoDeck(t, d, lesson, tt.deck)
		})
	}
	// The largest deck allowed is stored.
	deck := uuid.New()
	if err := d.PutDeck(ctx, lesson, deck, "Full", many(domain.MaxDeckPages, png(eventstore.MaxDeckBytes/domain.MaxDeckPages))); err != nil {
		t.Fatalf("the largest deck: %v", err)
	}
	if got, err := d.Deck(ctx, lesson, deck); err != nil || got.Pages != domain.MaxDeckPages {
		t.Fatalf("the largest deck: %+v, %v", got, err)
	}
}

func testDecksDuplicate(t *testing.T, open opener) {
	s := open(t)
	d := decksOf(t, s)
	lesson := newLesson(t, s)
	ctx := context.Background()
	deck := uuid.New()
	first := []eventstore.Page{{ContentType: eventstore.PNG, Data: []byte("first")}}
	if err := d.PutDeck(ctx, lesson, deck, "First", first); err != nil {
		t.Fatal(err)
	}
	second := []eventstore.Page{{ContentType: eventstore.JPEG, Data: []byte("second")}, {ContentType: eventstore.JPEG, Data: []byte("2")}}
	wantCode(t, d.PutDeck(ctx, lesson, deck, "Second", second), domain.CodeConflict)
	got, err := d.Deck(ctx, lesson, deck)
	if err != nil || got.Name != "First" || got.Pages != 1 {
		t.Fatalf("after a refused duplicate: %+v, %v", got, err)
	}
	if pg, err := d.Page(ctx, lesson, deck, 0); err != nil || string(pg.Data) != "first" {
		t.Fatalf("page 0 after a refused duplicate: %q, %v", pg.Data, err)
	}
	_, err = d.Page(ctx, lesson, deck, 1)
	wantCode(t, err, domain.CodeNotFound)
}

// testDecksConcurrentDuplicate: two uploads of one deck id at once; exactly
// one is stored, whole.
func testDecksConcurrentDuplicate(t *testing.T, open opener) {
	s := open(t)
	d := decksOf(t, s)
	lesson := newLesson(t, s)
	deck := uuid.New()
	const uploads = 4
	errs := make([]error, uploads)
	var wg sync.WaitGroup
	for i := range uploads {
		wg.Go(func() {
			pages := make([]eventstore.Page, i+1)
			for k := range pages {
				pages[k] = eventstore.Page{ContentType: eventstore.PNG, Data: bytes.Repeat([]byte{byte(i)}, 64<<10)}
			}
			errs[i] = d.PutDeck(context.Background(), lesson, deck, "Race", pages)
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch domain.ErrorCode(err) {
		case "":
			if winner >= 0 {
				t.Fatalf("uploads %d and %d both stored", winner, i)
			}
			winner = i
		case domain.CodeConflict:
		default:
			t.Fatalf("upload %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no upload was stored")
	}
	got, err := d.Deck(context.Background(), lesson, deck)
	if err != nil || got.Pages != winner+1 {
		t.Fatalf("deck %+v, %v; upload %d won", got, err, winner)
	}
	for k := range got.Pages {
		pg, err := d.Page(context.Background(), lesson, deck, k)
		if err != nil || pg.Data[0] != byte(winner) {
			t.Fatalf("page %d is not the winner's: %v", k, err)
		}
	}
}

func testDecksPerLesson(t *testing.T, open opener) {
	s := open(t)
	d := decksOf(t, s)
	a, b := newLesson(t, s), newLesson(t, s)
	ctx := context.Background()
	deck := uuid.New()
	if err := d.PutDeck(ctx, a, deck, "A's", []eventstore.Page{{ContentType: eventstore.PNG, Data: []byte("a")}}); err != nil {
		t.Fatal(err)
	}
	// Another lesson does not see it...
	wantNoDeck(t, d, b, deck)
	// ...and may hold its own deck of the same id without touching A's.
	if err := d.PutDeck(ctx, b, deck, "B's", []eventstore.Page{{ContentType: eventstore.JPEG, Data: []byte("b")}}); err != nil {
		t.Fatal(err)
	}
	for lesson, want := range map[uuid.UUID]string{a: "a", b: "b"} {
		if pg, err := d.Page(ctx, lesson, deck, 0); err != nil || string(pg.Data) != want {
			t.Fatalf("lesson's page: %q, %v; want %q", pg.Data, err, want)
		}
	}
	// Each lesson lists its own, oldest first.
	later := uuid.New()
	if err := d.PutDeck(ctx, a, later, "A's second", []eventstore.Page{{ContentType: eventstore.PNG, Data: []byte("a2")}}); err != nil {
		t.Fatal(err)
	}
	listA, err := d.LessonDecks(ctx, a)
	if err != nil || len(listA) != 2 || listA[0].ID != deck || listA[0].Name != "A's" || listA[1].ID != later || listA[1].Lesson != a {
		t.Fatalf("lesson A's decks: %+v, %v", listA, err)
	}
	listB, err := d.LessonDecks(ctx, b)
	if err != nil || len(listB) != 1 || listB[0].Name != "B's" || listB[0].Pages != 1 || listB[0].Bytes != 1 {
		t.Fatalf("lesson B's decks: %+v, %v", listB, err)
	}
	if none, err := d.LessonDecks(ctx, uuid.New()); err != nil || len(none) != 0 {
		t.Fatalf("an unknown lesson's decks: %+v, %v", none, err)
	}
}
