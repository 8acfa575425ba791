package eventstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"classroom/domain"
)

// KeyKind says what a stream key admits.
type KeyKind string

// The kinds of stream key.
const (
	// KeyPublish admits a WHIP publisher to the lesson's stage as the teacher.
	KeyPublish KeyKind = "publish"
	// KeyView admits a WHEP viewer of the lesson's stage.
	KeyView KeyKind = "view"
)

// MaxKeyLabelRunes bounds a stream key's label.
const MaxKeyLabelRunes = 100

// StreamKey is a key the teacher made for an encoder or a player. The key
// itself is never stored, only its SHA-256 (Hash), so a stolen database
// admits nobody.
type StreamKey struct {
	Lesson  uuid.UUID
	ID      uuid.UUID
	Kind    KeyKind
	Label   string
	Hash    [sha256.Size]byte
	Created time.Time
	Revoked time.Time // zero while the key admits
}

// StreamKeys keeps the lessons' stream keys, in rows beside the lessons
// rather than as lesson events: a key is a credential, not something that
// happened in the lesson, and must neither be replayed nor exported, and a
// revocation must hold on every server node at once, with the lesson live
// or not. Both stores implement it. Every method is safe for concurrent use.
type StreamKeys interface {
	// PutKey stores a new key. CodeNotFound when the lesson does not
	// exist, CodeInvalid for a malformed key, CodeConflict when its id or
	// hash is taken.
	PutKey(ctx context.Context, k StreamKey) error
	// Keys lists a lesson's keys, revoked ones too, oldest first.
	Keys(ctx context.Context, lesson uuid.UUID) ([]StreamKey, error)
	// RevokeKey marks a key revoked at now; revoking it again keeps the
	// first time. CodeNotFound when the lesson has no such key.
	RevokeKey(ctx context.Context, lesson, id uuid.UUID, now time.Time) error
	// KeyByHash finds a lesson's key by its hash, revoked or not;
	// CodeNotFound when the lesson has none with that hash.
	KeyByHash(ctx context.Context, lesson uuid.UUID, hash [sha256.Size]byte) (StreamKey, error)
}

func checkKey(k StreamKey) error {
	if k.ID == uuid.Nil || (k.Kind != KeyPublish && k.Kind != KeyView) {
		return domain.Errorf(domain.CodeInvalid, "a key needs an id and a kind (publish or view)")
	}
	if n := utf8.RuneCountInString(k.Label); !utf8.ValidString(k.Label) || n > MaxKeyLabelRunes {
		return domain.Errorf(domain.CodeInvalid, "a key's label has at most %d characters", MaxKeyLabelRunes)
	}
	return nil
}

// PutKey implements StreamKeys.
func (p *Postgres) PutKey(ctx context.Context, k StreamKey) error {
	if err := checkKey(k); err != nil {
		return err
	}
	_, err := p.pool.Exec(ctx, `INSERT INTO stream_keys (lesson_id, key_id, kind, label, sha256, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, pgUUID(k.Lesson), pgUUID(k.ID), string(k.Kind), k.Label, k.Hash[:], k.Created)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23503":
			return domain.Errorf(domain.CodeNotFound, "no lesson %s", k.Lesson)
		case "23505":
			return domain.Errorf(domain.CodeConflict, "the key exists")
		}
	}
	if err != nil {
		return p.unavailable("store a key", err)
	}
	return nil
}

const keyColumns = `lesson_id, key_id, kind, label, sha256, created_at, revoked_at`

// Keys implements StreamKeys.
func (p *Postgres) Keys(ctx context.Context, lesson uuid.UUID) ([]StreamKey, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+keyColumns+` FROM stream_keys WHERE lesson_id = $1
		ORDER BY created_at, key_id`, pgUUID(lesson))
	if err != nil {
		return nil, p.unavailable("list keys", err)
	}
	defer rows.Close()
	var out []StreamKey
	for rows.Next() {
		k, err := scanPGKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, p.unavailable("list keys", err)
	}
	return out, nil
}

func scanPGKey(row pgx.Row) (StreamKey, error) {
	var k StreamKey
	var kind string
	var hash []byte
	var revoked *time.Time
	if err := row.Scan(&k.Lesson, &k.ID, &kind, &k.Label, &hash, &k.Created, &revoked); err != nil {
		return StreamKey{}, err
	}
	k.Kind = KeyKind(kind)
	copy(k.Hash[:], hash)
	k.Created = k.Created.UTC()
	if revoked != nil {
		k.Revoked = revoked.UTC()
	}
	return k, nil
}

// RevokeKey implements StreamKeys.
func (p *Postgres) RevokeKey(ctx context.Context, lesson, id uuid.UUID, now time.Time) error {
	tag, err := p.pool.Exec(ctx, `UPDATE stream_keys SET revoked_at = coalesce(revoked_at, $3)
		WHERE lesson_id = $1 AND key_id = $2`, pgUUID(lesson), pgUUID(id), now)
	if err != nil {
		return p.unavailable("revoke a key", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Errorf(domain.CodeNotFound, "the lesson has no key %s", id)
	}
	return nil
}

// KeyByHash implements StreamKeys.
func (p *Postgres) KeyByHash(ctx context.Context, lesson uuid.UUID, hash [sha256.Size]byte) (StreamKey, error) {
	k, err := scanPGKey(p.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM stream_keys
		WHERE lesson_id = $1 AND sha256 = $2`, pgUUID(lesson), hash[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return StreamKey{}, domain.Errorf(domain.CodeNotFound, "no such key")
	}
	if err != nil {
		return StreamKey{}, p.unavailable("find a key", err)
	}
	return k, nil
}

// PutKey implements StreamKeys.
func (s *SQLite) PutKey(ctx context.Context, k StreamKey) error {
	if err := checkKey(k); err != nil {
		return err
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM lessons WHERE id = ?`, k.Lesson.String()).Scan(&n); err != nil {
		return s.unavailable("store a key", err)
	}
	if n == 0 {
		return domain.Errorf(domain.CodeNotFound, "no lesson %s", k.Lesson)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO stream_keys (lesson_id, key_id, kind, label, sha256, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, k.Lesson.String(), k.ID.String(), string(k.Kind), k.Label, k.Hash[:],
		k.Created.UnixMicro())
	if err != nil {
		return s.unavailable("store a key", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.unavailable("store a key", err)
	} else if n == 0 {
		return domain.Errorf(domain.CodeConflict, "the key exists")
	}
	return nil
}

// Keys implements StreamKeys.
func (s *SQLite) Keys(ctx context.Context, lesson uuid.UUID) ([]StreamKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM stream_keys WHERE lesson_id = ?
		ORDER BY created_at, key_id`, lesson.String())
	if err != nil {
		return nil, s.unavailable("list keys", err)
	}
	defer rows.Close()
	var out []StreamKey
	for rows.Next() {
		k, err := scanSQLiteKey(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.unavailable("list keys", err)
	}
	return out, nil
}

func scanSQLiteKey(scan func(...any) error) (StreamKey, error) {
	var k StreamKey
	var lesson, id, kind string
	var hash []byte
	var created int64
	var revoked sql.NullInt64
	if err := scan(&lesson, &id, &kind, &k.Label, &hash, &created, &revoked); err != nil {
		return StreamKey{}, err
	}
	var err error
	if k.Lesson, err = uuid.Parse(lesson); err != nil {
		return StreamKey{}, fmt.Errorf("corrupt lesson id %q: %w", lesson, err)
	}
	if k.ID, err = uuid.Parse(id); err != nil {
		return StreamKey{}, fmt.Errorf("corrupt key id %q: %w", id, err)
	}
	k.Kind = KeyKind(kind)
	copy(k.Hash[:], hash)
	k.Created = time.UnixMicro(created).UTC()
	if revoked.Valid {
		k.Revoked = time.UnixMicro(revoked.Int64).UTC()
	}
	return k, nil
}

// RevokeKey implements StreamKeys.
func (s *SQLite) RevokeKey(ctx context.Context, lesson, id uuid.UUID, now time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE stream_keys SET revoked_at = coalesce(revoked_at, ?)
		WHERE lesson_id = ? AND key_id = ?`, now.UnixMicro(), lesson.String(), id.String())
	if err != nil {
		return s.unavailable("revoke a key", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.unavailable("revoke a key", err)
	} else if n == 0 {
		return domain.Errorf(domain.CodeNotFound, "the lesson has no key %s", id)
	}
	return nil
}

// KeyByHash implements StreamKeys.
func (s *SQLite) KeyByHash(ctx context.Context, lesson uuid.UUID, hash [sha256.Size]byte) (StreamKey, error) {
	k, err := scanSQLiteKey(s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM stream_keys
		WHERE lesson_id = ? AND sha256 = ?`, lesson.String(), hash[:]).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return StreamKey{}, domain.Errorf(domain.CodeNotFound, "no such key")
	}
	if err != nil {
		return StreamKey{}, s.unavailable("find a key", err)
	}
	return k, nil
}
