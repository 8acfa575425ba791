package eventstore

import (
	"context"
	"time"

	"github.com/google/uuid"

	"classroom/domain"
)

// Owners keeps who created a lesson when signed in (an OpenID Connect
// account), so that the lesson is theirs on any device. Both stores
// implement it. Every method is safe for concurrent use.
type Owners interface {
	// SetOwner records the lesson's owner, once: a lesson that has one
	// keeps it (CodeConflict); an unknown lesson is CodeNotFound.
	SetOwner(ctx context.Context, lesson uuid.UUID, owner string) error
	// OwnedLessons lists an owner's lessons as Lessons lists all.
	OwnedLessons(ctx context.Context, owner string, opts ListOptions) ([]Lesson, error)
}

var (
	_ Owners = (*Postgres)(nil)
	_ Owners = (*SQLite)(nil)
)

// SetOwner implements Owners.
func (p *Postgres) SetOwner(ctx context.Context, lesson uuid.UUID, owner string) error {
	tag, err := p.pool.Exec(ctx, `INSERT INTO lesson_owners (lesson_id, owner) SELECT id, $2 FROM lessons WHERE id = $1
		ON CONFLICT (lesson_id) DO NOTHING`, pgUUID(lesson), owner)
	if err != nil {
		return p.unavailable("record a lesson's owner", err)
	}
	if tag.RowsAffected() == 0 {
		return ownerRefusal(ctx, p, lesson)
	}
	return nil
}

// OwnedLessons implements Owners.
func (p *Postgres) OwnedLessons(ctx context.Context, owner string, opts ListOptions) ([]Lesson, error) {
	var before *time.Time
	if !opts.Before.IsZero() {
		before = &opts.Before
	}
	return p.queryLessons(ctx, `
		SELECT `+lessonColumns+` FROM lessons
		WHERE id IN (SELECT lesson_id FROM lesson_owners WHERE owner = $3) AND ($1::timestamptz IS NULL OR created_at < $1)
		ORDER BY created_at DESC, id DESC LIMIT $2`, before, opts.limit(), owner)
}

// SetOwner implements Owners.
func (s *SQLite) SetOwner(ctx context.Context, lesson uuid.UUID, owner string) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO lesson_owners (lesson_id, owner) SELECT id, ?2 FROM lessons WHERE id = ?1
		ON CONFLICT (lesson_id) DO NOTHING`, lesson.String(), owner)
	if err != nil {
		return s.unavailable("record a lesson's owner", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.unavailable("record a lesson's owner", err)
	} else if n == 0 {
		return ownerRefusal(ctx, s, lesson)
	}
	return nil
}

// OwnedLessons implements Owners.
func (s *SQLite) OwnedLessons(ctx context.Context, owner string, opts ListOptions) ([]Lesson, error) {
	var before any
	if !opts.Before.IsZero() {
		before = opts.Before.UnixMicro()
	}
	return s.queryLessons(ctx, `
		SELECT `+lessonColumns+` FROM lessons
		WHERE id IN (SELECT lesson_id FROM lesson_owners WHERE owner = ?3) AND (?1 IS NULL OR created_at < ?1)
		ORDER BY created_at DESC, id DESC LIMIT ?2`, before, opts.limit(), owner)
}

// ownerRefusal says why no owner was recorded: the lesson is unknown, or
// has one already.
func ownerRefusal(ctx context.Context, s Store, lesson uuid.UUID) error {
	if _, err := s.Lesson(ctx, lesson); err != nil {
		return err
	}
	return domain.Errorf(domain.CodeConflict, "lesson %s has an owner already", lesson)
}
