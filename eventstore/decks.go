package eventstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"classroom/domain"
)

// Limits of what a store keeps of one slide deck.
const (
	MaxPageBytes = 10 << 20  // one page image
	MaxDeckBytes = 100 << 20 // all the page images of one deck
)

// Page content types a store keeps.
const (
	PNG  = "image/png"
	JPEG = "image/jpeg"
	WebP = "image/webp"
)

// Deck is a slide deck's entry in the store.
type Deck struct {
	Lesson  uuid.UUID
	ID      uuid.UUID
	Name    string
	Pages   int
	Bytes   int64 // the size of all its page images
	Created time.Time
}

// Page is one page of a slide deck: an image.
type Page struct {
	ContentType string // PNG, JPEG or WebP
	Data        []byte
	// SHA256 is the hash of Data. PutDeck computes it; Page returns it.
	SHA256 [sha256.Size]byte
}

// Decks keeps the page images of slide decks, beside the lessons they
// belong to, so that every server node sharing the database serves them.
// A deck is stored whole or not at all, and never changes afterwards.
// Both stores implement it. Every method is safe for concurrent use.
//
// Decks checks that what it stores is well formed (a known content type,
// sizes within MaxPageBytes and MaxDeckBytes, 1 to domain.MaxDeckPages
// pages); that the bytes really are such images is the caller's to check.
type Decks interface {
	// PutDeck stores a deck of pages, numbered from 0, in one transaction,
	// and sets each page's SHA256.
	// The lesson must exist (CodeNotFound) and not have ended
	// (CodeConflict); a deck id the lesson holds already is refused with
	// CodeConflict; malformed decks with CodeInvalid.
	PutDeck(ctx context.Context, lesson, deck uuid.UUID, name string, pages []Page) error

	// Deck returns a deck of a lesson; CodeNotFound when the lesson holds
	// no such deck.
	Deck(ctx context.Context, lesson, deck uuid.UUID) (Deck, error)

	// LessonDecks lists a lesson's decks, oldest first; none for a lesson
	// that holds none or does not exist.
	LessonDecks(ctx context.Context, lesson uuid.UUID) ([]Deck, error)

	// Page returns page n (from 0) of a lesson's deck; CodeNotFound when
	// there is none.
	Page(ctx context.Context, lesson, deck uuid.UUID, n int) (Page, error)
}

var (
	_ Decks = (*Postgres)(nil)
	_ Decks = (*SQLite)(nil)
)

// checkDeck checks a deck before it is stored, fills in the pages' hashes,
// and returns the size of all its pages.
func checkDeck(deck uuid.UUID, name string, pages []Page) (int64, error) {
	if deck == uuid.Nil {
		return 0, domain.Errorf(domain.CodeInvalid, "the deck has no id")
	}
	if name == "" {
		return 0, domain.Errorf(domain.CodeInvalid, "the deck has no name")
	}
	if len(pages) < 1 || len(pages) > domain.MaxDeckPages {
		return 0, domain.Errorf(domain.CodeInvalid, "a deck has 1 to %d pages, not %d", domain.MaxDeckPages, len(pages))
	}
	var total int64
	for i := range pages {
		p := &pages[i]
		switch p.ContentType {
		case PNG, JPEG, WebP:
		default:
			return 0, domain.Errorf(domain.CodeInvalid, "page %d is %q, not a PNG, JPEG or WebP image", i, p.ContentType)
		}
		if len(p.Data) == 0 || len(p.Data) > MaxPageBytes {
			return 0, domain.Errorf(domain.CodeInvalid, "page %d has %d bytes; a page has 1 to %d", i, len(p.Data), MaxPageBytes)
		}
		total += int64(len(p.Data))
		p.SHA256 = sha256.Sum256(p.Data)
	}
	if total > MaxDeckBytes {
		return 0, domain.Errorf(domain.CodeInvalid, "the deck has %d bytes, more than %d", total, MaxDeckBytes)
	}
	return total, nil
}

// lessonOpen refuses a deck for a lesson that is unknown or has ended;
// ended is the lesson's ended_at, and found whether there was a row.
func lessonOpen(lesson uuid.UUID, found, ended bool) error {
	if !found {
		return domain.Errorf(domain.CodeNotFound, "no lesson %s", lesson)
	}
	if ended {
		return domain.Errorf(domain.CodeConflict, "lesson %s has ended", lesson)
	}
	return nil
}

// PutDeck implements Decks.
func (p *Postgres) PutDeck(ctx context.Context, lesson, deck uuid.UUID, name string, pages []Page) error {
	total, err := checkDeck(deck, name, pages)
	if err != nil {
		return err
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return p.unavailable("store a deck", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	var ended *time.Time
	err = tx.QueryRow(ctx, `SELECT ended_at FROM lessons WHERE id = $1`, lesson).Scan(&ended)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return p.unavailable("store a deck", err)
	}
	if err := lessonOpen(lesson, err == nil, ended != nil); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO decks (lesson_id, deck_id, name, pages, bytes) VALUES ($1, $2, $3, $4, $5)`,
		lesson, deck, name, len(pages), total)
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return domain.Errorf(domain.CodeConflict, "lesson %s has a deck %s already", lesson, deck)
	}
	if err != nil {
		return p.unavailable("store a deck", err)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"deck_pages"},
		[]string{"lesson_id", "deck_id", "page", "content_type", "sha256", "data"},
		pgx.CopyFromSlice(len(pages), func(i int) ([]any, error) {
			return []any{lesson, deck, i, pages[i].ContentType, pages[i].SHA256[:], pages[i].Data}, nil
		}))
	if err != nil {
		return p.unavailable("store a deck's pages", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return p.unavailable("store a deck", err)
	}
	return nil
}

// Deck implements Decks.
func (p *Postgres) Deck(ctx context.Context, lesson, deck uuid.UUID) (Deck, error) {
	d := Deck{Lesson: lesson, ID: deck}
	err := p.pool.QueryRow(ctx, `SELECT name, pages, bytes, created_at FROM decks WHERE lesson_id = $1 AND deck_id = $2`,
		lesson, deck).Scan(&d.Name, &d.Pages, &d.Bytes, &d.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return Deck{}, domain.Errorf(domain.CodeNotFound, "lesson %s has no deck %s", lesson, deck)
	}
	if err != nil {
		return Deck{}, p.unavailable("read a deck", err)
	}
	d.Created = d.Created.UTC()
	return d, nil
}

// LessonDecks implements Decks.
func (p *Postgres) LessonDecks(ctx context.Context, lesson uuid.UUID) ([]Deck, error) {
	rows, err := p.pool.Query(ctx, `SELECT deck_id, name, pages, bytes, created_at FROM decks
		WHERE lesson_id = $1 ORDER BY created_at, deck_id`, lesson)
	if err != nil {
		return nil, p.unavailable("list decks", err)
	}
	defer rows.Close()
	var out []Deck
	for rows.Next() {
		d := Deck{Lesson: lesson}
		if err := rows.Scan(&d.ID, &d.Name, &d.Pages, &d.Bytes, &d.Created); err != nil {
			return nil, p.unavailable("list decks", err)
		}
		d.Created = d.Created.UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, p.unavailable("list decks", err)
	}
	return out, nil
}

// Page implements Decks.
func (p *Postgres) Page(ctx context.Context, lesson, deck uuid.UUID, n int) (Page, error) {
	var pg Page
	var sum []byte
	err := p.pool.QueryRow(ctx, `SELECT content_type, sha256, data FROM deck_pages
		WHERE lesson_id = $1 AND deck_id = $2 AND page = $3`, lesson, deck, n).Scan(&pg.ContentType, &sum, &pg.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return Page{}, domain.Errorf(domain.CodeNotFound, "deck %s has no page %d", deck, n)
	}
	if err != nil {
		return Page{}, p.unavailable("read a deck page", err)
	}
	if copy(pg.SHA256[:], sum) != sha256.Size {
		return Page{}, fmt.Errorf("page %d of deck %s has a corrupt hash", n, deck)
	}
	return pg, nil
}

// PutDeck implements Decks. The transaction holds the database's one write
// lock while it inserts the pages, which for the largest decks delays other
// appends by a fraction of a second.
func (s *SQLite) PutDeck(ctx context.Context, lesson, deck uuid.UUID, name string, pages []Page) error {
	total, err := checkDeck(deck, name, pages)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the one writer
	if err != nil {
		return s.unavailable("store a deck", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	var ended sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT ended_at FROM lessons WHERE id = ?`, lesson.String()).Scan(&ended)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s.unavailable("store a deck", err)
	}
	if err := lessonOpen(lesson, err == nil, ended.Valid); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO decks (lesson_id, deck_id, name, pages, bytes, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (lesson_id, deck_id) DO NOTHING`,
		lesson.String(), deck.String(), name, len(pages), total, time.Now().UnixMicro())
	if err != nil {
		return s.unavailable("store a deck", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.Errorf(domain.CodeConflict, "lesson %s has a deck %s already", lesson, deck)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO deck_pages (lesson_id, deck_id, page, content_type, sha256, data)
		VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return s.unavailable("store a deck's pages", err)
	}
	defer stmt.Close()
	for i, pg := range pages {
		if _, err := stmt.ExecContext(ctx, lesson.String(), deck.String(), i, pg.ContentType, pg.SHA256[:], pg.Data); err != nil {
			return s.unavailable("store a deck's pages", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.unavailable("store a deck", err)
	}
	return nil
}

// Deck implements Decks.
func (s *SQLite) Deck(ctx context.Context, lesson, deck uuid.UUID) (Deck, error) {
	d := Deck{Lesson: lesson, ID: deck}
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT name, pages, bytes, created_at FROM decks WHERE lesson_id = ? AND deck_id = ?`,
		lesson.String(), deck.String()).Scan(&d.Name, &d.Pages, &d.Bytes, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Deck{}, domain.Errorf(domain.CodeNotFound, "lesson %s has no deck %s", lesson, deck)
	}
	if err != nil {
		return Deck{}, s.unavailable("read a deck", err)
	}
	d.Created = time.UnixMicro(created).UTC()
	return d, nil
}

// LessonDecks implements Decks.
func (s *SQLite) LessonDecks(ctx context.Context, lesson uuid.UUID) ([]Deck, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT deck_id, name, pages, bytes, created_at FROM decks
		WHERE lesson_id = ? ORDER BY created_at, deck_id`, lesson.String())
	if err != nil {
		return nil, s.unavailable("list decks", err)
	}
	defer rows.Close()
	var out []Deck
	for rows.Next() {
		d := Deck{Lesson: lesson}
		var id string
		var created int64
		if err := rows.Scan(&id, &d.Name, &d.Pages, &d.Bytes, &created); err != nil {
			return nil, s.unavailable("list decks", err)
		}
		if d.ID, err = uuid.Parse(id); err != nil {
			return nil, fmt.Errorf("corrupt deck id %q: %w", id, err)
		}
		d.Created = time.UnixMicro(created).UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, s.unavailable("list decks", err)
	}
	return out, nil
}

// Page implements Decks.
func (s *SQLite) Page(ctx context.Context, lesson, deck uuid.UUID, n int) (Page, error) {
	var pg Page
	var sum []byte
	err := s.db.QueryRowContext(ctx, `SELECT content_type, sha256, data FROM deck_pages
		WHERE lesson_id = ? AND deck_id = ? AND page = ?`, lesson.String(), deck.String(), n).Scan(&pg.ContentType, &sum, &pg.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return Page{}, domain.Errorf(domain.CodeNotFound, "deck %s has no page %d", deck, n)
	}
	if err != nil {
		return Page{}, s.unavailable("read a deck page", err)
	}
	if copy(pg.SHA256[:], sum) != sha256.Size {
		return Page{}, fmt.Errorf("page %d of deck %s has a corrupt hash", n, deck)
	}
	return pg, nil
}
