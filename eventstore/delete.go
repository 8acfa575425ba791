package eventstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"classroom/domain"
)

// Deleter removes lessons for real. Both stores implement it.
type Deleter interface {
	// Delete removes an ended lesson and everything the store keeps of it
	// (its entry, events, snapshots, decks and their pages) in one
	// transaction. CodeNotFound when there is no such lesson, CodeConflict
	// when it has not ended: a live lesson is ended first.
	Delete(ctx context.Context, lesson uuid.UUID) error
}

// lessonTables are the tables that hold a lesson's rows, by its lesson_id,
// in the order they are emptied (pages before their decks); the lessons
// table, keyed by id, goes last.
var lessonTables = []string{"deck_pages", "decks", "snapshots", "events"}

// Delete implements Deleter.
func (p *Postgres) Delete(ctx context.Context, lesson uuid.UUID) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return p.unavailable("delete a lesson", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	var ended *bool
	err = tx.QueryRow(ctx, `SELECT ended_at IS NOT NULL FROM lessons WHERE id = $1 FOR UPDATE`, pgUUID(lesson)).Scan(&ended)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return p.unavailable("delete a lesson", err)
	}
	if err := deletable(lesson, ended); err != nil {
		return err
	}
	for _, table := range lessonTables {
		if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE lesson_id = $1`, pgUUID(lesson)); err != nil {
			return p.unavailable("delete a lesson's "+table, err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM lessons WHERE id = $1`, pgUUID(lesson)); err != nil {
		return p.unavailable("delete a lesson", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return p.unavailable("delete a lesson", err)
	}
	return nil
}

// Delete implements Deleter. The embedded store runs with secure_delete on,
// so that what it deletes is overwritten in the database file, not left in
// its free pages.
func (s *SQLite) Delete(ctx context.Context, lesson uuid.UUID) error {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the one writer
	if err != nil {
		return s.unavailable("delete a lesson", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var ended sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT ended_at FROM lessons WHERE id = ?`, lesson.String()).Scan(&ended)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s.unavailable("delete a lesson", err)
	}
	var isEnded *bool
	if err == nil {
		isEnded = &ended.Valid
	}
	if err := deletable(lesson, isEnded); err != nil {
		return err
	}
	for _, table := range lessonTables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE lesson_id = ?`, lesson.String()); err != nil {
			return s.unavailable("delete a lesson's "+table, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM lessons WHERE id = ?`, lesson.String()); err != nil {
		return s.unavailable("delete a lesson", err)
	}
	if err := tx.Commit(); err != nil {
		return s.unavailable("delete a lesson", err)
	}
	// The write-ahead log still holds the deleted pages' old content until
	// it is checkpointed into the database file: do it now.
	if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return s.unavailable("checkpoint a deletion", err)
	}
	return nil
}

// deletable refuses to delete a lesson that does not exist (ended nil) or
// has not ended.
func deletable(lesson uuid.UUID, ended *bool) error {
	switch {
	case ended == nil:
		return domain.Errorf(domain.CodeNotFound, "no lesson %s", lesson)
	case !*ended:
		return domain.Errorf(domain.CodeConflict, "end the lesson before deleting it")
	}
	return nil
}

var (
	_ Deleter = (*Postgres)(nil)
	_ Deleter = (*SQLite)(nil)
)
