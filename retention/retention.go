// Package retention deletes lessons for real, on the teacher's request or
// once they ended longer ago than the operator keeps lessons: everything the
// event store keeps of a lesson (its log, snapshots, decks) and its recorded
// media files. It never moves anything aside and never decides who may
// delete: callers check that, and bring the store and the recordings
// directory.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/lessonvideo"
)

// Files are the directories where the server keeps lessons' files beside
// the store; an empty one keeps none.
type Files struct {
	Recordings string // <lesson>/, the recorded media
	Videos     string // the rendered video (lessonvideo.Remove)
}

// Delete removes an ended lesson for real: its recordings directory, its
// rendered video, then everything the store keeps of it
// (eventstore.Deleter). A lesson that does not exist or has not ended is
// refused before anything is removed; a deletion cut short is finished by
// deleting again.
func Delete(ctx context.Context, store eventstore.Store, files Files, lesson uuid.UUID) error {
	d, ok := store.(eventstore.Deleter)
	if !ok {
		return fmt.Errorf("the %T store cannot delete lessons", store)
	}
	l, err := store.Lesson(ctx, lesson)
	if err != nil {
		return err
	}
	if l.Ended.IsZero() {
		return domain.Errorf(domain.CodeConflict, "end the lesson before deleting it")
	}
	if files.Recordings != "" {
		if err := os.RemoveAll(filepath.Join(files.Recordings, lesson.String())); err != nil {
			return fmt.Errorf("delete the lesson's recordings: %w", err)
		}
	}
	if files.Videos != "" {
		if err := lessonvideo.Remove(files.Videos, lesson); err != nil {
			return fmt.Errorf("delete the lesson's video: %w", err)
		}
	}
	return d.Delete(ctx, lesson)
}

// Expire deletes, as Delete does, every lesson that ended before cutoff,
// and returns how many it deleted.
func Expire(ctx context.Context, store eventstore.Store, files Files, cutoff time.Time) (int, error) {
	var old []uuid.UUID
	opts := eventstore.ListOptions{Limit: eventstore.MaxList, Before: cutoff} // ended before cutoff: created before it too
	for {
		page, err := store.Lessons(ctx, opts)
		if err != nil {
			return 0, err
		}
		for _, l := range page {
			if !l.Ended.IsZero() && l.Ended.Before(cutoff) {
				old = append(old, l.ID)
			}
		}
		if len(page) < opts.Limit {
			break
		}
		opts.Before = page[len(page)-1].Created
	}
	n := 0
	for _, id := range old {
		err := Delete(ctx, store, files, id)
		if domain.ErrorCode(err) == domain.CodeNotFound {
			continue // deleted meanwhile
		}
		if err != nil {
			return n, fmt.Errorf("delete lesson %s: %w", id, err)
		}
		n++
	}
	return n, nil
}

// Keep deletes the lessons that ended more than period ago, now and then
// every hour, until ctx ends. Failures are logged and tried again an hour
// later.
func Keep(ctx context.Context, log *slog.Logger, store eventstore.Store, files Files, period time.Duration, now func() time.Time) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		n, err := Expire(ctx, store, files, now().Add(-period))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("deleting lessons past their retention", "err", err, "deleted", n)
		case n > 0:
			log.Info("deleted lessons past their retention", "deleted", n, "retention", period)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// Parse reads a retention period: a number of days ("90d") or a
// Go duration ("2160h"); "" or "0" keep lessons for ever (0).
func Parse(s string) (time.Duration, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 100*365 {
			return 0, errors.New("a retention in days is a whole number of days from 1, such as 90d")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Hour {
		return 0, errors.New("a retention is a number of days (90d) or a duration of an hour or more (2160h)")
	}
	return d, nil
}
