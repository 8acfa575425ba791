package web

import (
	"context"
	"slices"
	"sync"

	"github.com/google/uuid"

	"classroom/domain/timeline"
	"classroom/eventstore"
	"classroom/lessonlog"
)

// maxRemovedSets bounds the lessons whose removed students are remembered.
const maxRemovedSets = 1024

// removedSets remember, per lesson, the students the teacher removed as of
// the lesson's last event, so that a student's playback requests (every
// events page, state request and recording range request) do not fold the
// log again to check them. A lesson that has a new event (a removal among
// them) has a new LastSeq, and is folded again.
type removedSets struct {
	mu   sync.Mutex
	sets map[uuid.UUID]removedSet
}

type removedSet struct {
	seq     int64 // the lesson's LastSeq it was folded to
	removed []string
}

// isRemoved reports whether the teacher removed participant from lesson.
func (c *removedSets) isRemoved(ctx context.Context, store eventstore.Store, lesson eventstore.Lesson, participant string) (bool, error) {
	c.mu.Lock()
	s, ok := c.sets[lesson.ID]
	c.mu.Unlock()
	if !ok || s.seq != lesson.LastSeq {
		st, err := lessonlog.Seek(ctx, store, lesson.ID, timeline.AtSeq(lesson.LastSeq))
		if err != nil {
			return false, err
		}
		s = removedSet{seq: lesson.LastSeq, removed: slices.Clone(st.Removed)}
		c.mu.Lock()
		if c.sets == nil {
			c.sets = map[uuid.UUID]removedSet{}
		}
		if _, ok := c.sets[lesson.ID]; !ok && len(c.sets) >= maxRemovedSets {
			for id := range c.sets { // any one: a forgotten lesson is folded again
				delete(c.sets, id)
				break
			}
		}
		c.sets[lesson.ID] = s
		c.mu.Unlock()
	}
	return slices.Contains(s.removed, participant), nil
}
