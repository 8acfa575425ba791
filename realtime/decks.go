package realtime

import (
	"context"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
)

// deckCheckTimeout bounds the store lookup a deck.added command waits for.
const deckCheckTimeout = 5 * time.Second

// DeckFinder finds an uploaded slide deck; eventstore.Decks is one. A room
// asks it before it lets a deck.added through, so that a lesson only ever
// names decks whose pages every participant can fetch.
type DeckFinder interface {
	// Deck returns a lesson's deck; an error with CodeNotFound when the
	// lesson holds no such deck.
	Deck(ctx context.Context, lesson, deck uuid.UUID) (eventstore.Deck, error)
}

// checkDeck refuses a deck.added event whose deck was not uploaded to this
// lesson, or was uploaded with another number of pages. Other events pass.
// It runs on the room's goroutine and blocks it for one indexed lookup,
// which is rare: a lesson adds at most domain.MaxDecks decks.
func (r *Room) checkDeck(ev domain.Event) error {
	added, ok := ev.Payload.(*domain.DeckAdded)
	if !ok {
		return nil
	}
	finder := r.srv.cfg.Decks
	if finder == nil {
		return domain.Errorf(domain.CodeUnavailable, "this server keeps no slide decks")
	}
	ctx, cancel := context.WithTimeout(r.srv.ctx, deckCheckTimeout)
	defer cancel()
	deck, err := finder.Deck(ctx, r.lesson, added.Deck)
	switch {
	case domain.ErrorCode(err) == domain.CodeNotFound:
		return domain.Errorf(domain.CodeNotFound, "deck %s was not uploaded to this lesson: upload its pages first", added.Deck)
	case ctx.Err() != nil:
		return domain.Errorf(domain.CodeUnavailable, "the deck could not be looked up in time; try again")
	case err != nil:
		return err
	case deck.Pages != added.Pages:
		return domain.Errorf(domain.CodeInvalid, "deck %s has %d pages, not %d", added.Deck, deck.Pages, added.Pages)
	}
	return nil
}
