package realtime

import (
	"context"
	"slices"

	"github.com/google/uuid"
)

// RoomPeek is what a test reads of a lesson's room, on the room's goroutine.
type RoomPeek struct {
	Pending int      // events decided, not yet handed to the store
	OnStage []string // who the stage was last told is on it
	Lobby   []string // the participants waiting in the lobby
	Muted   []string // who the stage was last told is muted
}

// peek reads the room on its goroutine, between two of its requests.
type peek struct{ reply chan RoomPeek }

func (p *peek) do(_ context.Context, r *Room) { p.whileReloading(r, nil) }
func (p *peek) whileReloading(r *Room, _ error) {
	v := RoomPeek{Pending: len(r.pending), OnStage: slices.Clone(r.onStage)}
	for s := range r.lobby {
		v.Lobby = append(v.Lobby, s.participant)
	}
	for id := range r.muted {
		v.Muted = append(v.Muted, id)
	}
	p.reply <- v
}

// Peek reads the room of lesson as its goroutine has it between two
// requests, opening it when it is not live.
func (s *Server) Peek(ctx context.Context, lesson uuid.UUID) (RoomPeek, error) {
	r, err := s.acquire(ctx, lesson)
	if err != nil {
		return RoomPeek{}, err
	}
	defer s.release(r)
	p := &peek{reply: make(chan RoomPeek, 1)}
	if err := r.send(ctx, p); err != nil {
		return RoomPeek{}, err
	}
	select {
	case v := <-p.reply:
		return v, nil
	case <-r.stopped:
		return RoomPeek{}, errRoomGone
	case <-ctx.Done():
		return RoomPeek{}, ctx.Err()
	}
}

// JoinerFold is how many events after its snapshot a joiner is sent, at most.
const JoinerFold = joinerFold
