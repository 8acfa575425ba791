package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"classroom/domain"
)

// LTILink is a platform's resource link (a course's activity) and the lesson
// it opens now.
type LTILink struct {
	Issuer, ClientID, ResourceLink string
	Deployment, Context            string
	Lesson                         uuid.UUID
	// Series: a launch in a later week than the lesson's opens a new lesson.
	Series bool
	// Lobby: students wait to be admitted.
	Lobby bool
	// LineItems is the course's Assignment and Grade Services line items
	// URL; empty when the platform offers none.
	LineItems string
}

// LTILesson is what a lesson an LTI launch opened belongs to.
type LTILesson struct {
	Issuer, ClientID, Context, ResourceLink string
	// LineItems is the course's line items URL (empty: no gradebook);
	// LineItem the gradebook column made for the lesson's attendance,
	// empty until one was.
	LineItems, LineItem string
}

// RosterMember is one member of a course as the platform's Names and Role
// Provisioning service lists them.
type RosterMember struct {
	// Participant is the id the member joins a lesson with (the tool
	// derives it from the platform's issuer and the user's id), so that a
	// roster joins with a lesson's attendance.
	Participant string
	// UserID is the member's id on the platform, which its gradebook
	// knows them by.
	UserID string
	Name   string
	Role   domain.Role
}

// LTI keeps what an LTI 1.3 tool must remember across the server's nodes.
// Both stores implement it. Every method is safe for concurrent use.
type LTI interface {
	// UseNonce records a launch's nonce, which it keeps until expires; a
	// nonce of the issuer recorded already is refused with CodeConflict.
	UseNonce(ctx context.Context, issuer, nonce string, expires time.Time) error
	// LTILink returns the lesson a resource link opens; CodeNotFound when
	// none was opened yet.
	LTILink(ctx context.Context, issuer, clientID, resourceLink string) (LTILink, error)
	// PutLTILink records the lesson a resource link opens and the course
	// the lesson belongs to, if the link opens prev now (uuid.Nil: the
	// link is new), and returns the link as stored: when two launches race
	// to open a link's next lesson, the one stored first wins and both get
	// it. The lesson must exist.
	PutLTILink(ctx context.Context, l LTILink, prev uuid.UUID) (LTILink, error)
	// PutRoster replaces a course's roster.
	PutRoster(ctx context.Context, issuer, clientID, course string, members []RosterMember) error
	// Roster returns the roster of the course a lesson opened from a
	// platform belongs to, ordered by participant; none for a lesson no
	// launch opened, or whose course's roster was never fetched.
	Roster(ctx context.Context, lesson uuid.UUID) ([]RosterMember, error)
	// LTILesson returns what a lesson an LTI launch opened belongs to;
	// CodeNotFound for a lesson no launch opened.
	LTILesson(ctx context.Context, lesson uuid.UUID) (LTILesson, error)
	// SetLineItem records the gradebook column made for a lesson.
	SetLineItem(ctx context.Context, lesson uuid.UUID, lineItem string) error
}

// notLaunched is the refusal of a lesson no launch opened.
func notLaunched(lesson uuid.UUID) error {
	return domain.Errorf(domain.CodeNotFound, "lesson %s was not opened from a learning platform", lesson)
}

var (
	_ LTI = (*Postgres)(nil)
	_ LTI = (*SQLite)(nil)
)

// nonceConflict is the refusal of a nonce seen before.
func nonceConflict() error {
	return domain.Errorf(domain.CodeConflict, "this launch was used already (its nonce was seen before)")
}

// UseNonce implements LTI.
func (p *Postgres) UseNonce(ctx context.Context, issuer, nonce string, expires time.Time) error {
	if _, err := p.pool.Exec(ctx, `DELETE FROM lti_nonces WHERE expires_at < now()`); err != nil {
		return p.unavailable("forget expired nonces", err)
	}
	tag, err := p.pool.Exec(ctx, `INSERT INTO lti_nonces (issuer, nonce, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, issuer, nonce, expires)
	if err != nil {
		return p.unavailable("record a nonce", err)
	}
	if tag.RowsAffected() == 0 {
		return nonceConflict()
	}
	return nil
}

// LTILink implements LTI.
func (p *Postgres) LTILink(ctx context.Context, issuer, clientID, resourceLink string) (LTILink, error) {
	l := LTILink{Issuer: issuer, ClientID: clientID, ResourceLink: resourceLink}
	err := p.pool.QueryRow(ctx, `SELECT deployment_id, context_id, lesson_id, series, lobby, lineitems FROM lti_links
		WHERE issuer = $1 AND client_id = $2 AND resource_link = $3`, issuer, clientID, resourceLink).
		Scan(&l.Deployment, &l.Context, &l.Lesson, &l.Series, &l.Lobby, &l.LineItems)
	if errors.Is(err, pgx.ErrNoRows) {
		return LTILink{}, domain.Errorf(domain.CodeNotFound, "no lesson for this resource link")
	}
	if err != nil {
		return LTILink{}, p.unavailable("read a resource link", err)
	}
	return l, nil
}

// PutLTILink implements LTI.
func (p *Postgres) PutLTILink(ctx context.Context, l LTILink, prev uuid.UUID) (LTILink, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return LTILink{}, p.unavailable("record a resource link", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `INSERT INTO lti_links (issuer, client_id, resource_link, deployment_id, context_id, lesson_id, series, lobby, lineitems)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10)
		ON CONFLICT (issuer, client_id, resource_link) DO UPDATE SET deployment_id = $4, context_id = $5, lesson_id = $6, series = $7, lobby = $8, lineitems = $10
		WHERE lti_links.lesson_id = $9`,
		l.Issuer, l.ClientID, l.ResourceLink, l.Deployment, l.Context, pgUUID(l.Lesson), l.Series, l.Lobby, pgUUID(prev), l.LineItems); err != nil {
		return LTILink{}, p.unavailable("record a resource link", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO lti_lessons (lesson_id, issuer, client_id, context_id, resource_link, lineitems)
		SELECT lesson_id, issuer, client_id, context_id, resource_link, lineitems FROM lti_links WHERE issuer = $1 AND client_id = $2 AND resource_link = $3
		ON CONFLICT (lesson_id) DO NOTHING`, l.Issuer, l.ClientID, l.ResourceLink); err != nil {
		return LTILink{}, p.unavailable("record a resource link", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return LTILink{}, p.unavailable("record a resource link", err)
	}
	return p.LTILink(ctx, l.Issuer, l.ClientID, l.ResourceLink)
}

// PutRoster implements LTI.
func (p *Postgres) PutRoster(ctx context.Context, issuer, clientID, course string, members []RosterMember) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return p.unavailable("record a roster", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `DELETE FROM lti_roster WHERE issuer = $1 AND client_id = $2 AND context_id = $3`,
		issuer, clientID, course); err != nil {
		return p.unavailable("record a roster", err)
	}
	now := time.Now()
	for _, m := range members {
		if _, err := tx.Exec(ctx, `INSERT INTO lti_roster (issuer, client_id, context_id, participant, user_id, name, role, fetched_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
			issuer, clientID, course, m.Participant, m.UserID, m.Name, string(m.Role), now); err != nil {
			return p.unavailable("record a roster", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return p.unavailable("record a roster", err)
	}
	return nil
}

// Roster implements LTI.
func (p *Postgres) Roster(ctx context.Context, lesson uuid.UUID) ([]RosterMember, error) {
	rows, err := p.pool.Query(ctx, `SELECT r.participant, r.user_id, r.name, r.role FROM lti_lessons l
		JOIN lti_roster r ON r.issuer = l.issuer AND r.client_id = l.client_id AND r.context_id = l.context_id
		WHERE l.lesson_id = $1 ORDER BY r.participant`, pgUUID(lesson))
	if err != nil {
		return nil, p.unavailable("read a roster", err)
	}
	var out []RosterMember
	var m RosterMember
	_, err = pgx.ForEachRow(rows, []any{&m.Participant, &m.UserID, &m.Name, &m.Role}, func() error {
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, p.unavailable("read a roster", err)
	}
	return out, nil
}

// UseNonce implements LTI.
func (s *SQLite) UseNonce(ctx context.Context, issuer, nonce string, expires time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM lti_nonces WHERE expires_at < ?`, time.Now().UnixMicro()); err != nil {
		return s.unavailable("forget expired nonces", err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO lti_nonces (issuer, nonce, expires_at) VALUES (?, ?, ?)
		ON CONFLICT DO NOTHING`, issuer, nonce, expires.UnixMicro())
	if err != nil {
		return s.unavailable("record a nonce", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.unavailable("record a nonce", err)
	} else if n == 0 {
		return nonceConflict()
	}
	return nil
}

// LTILink implements LTI.
func (s *SQLite) LTILink(ctx context.Context, issuer, clientID, resourceLink string) (LTILink, error) {
	l := LTILink{Issuer: issuer, ClientID: clientID, ResourceLink: resourceLink}
	var lesson string
	err := s.db.QueryRowContext(ctx, `SELECT deployment_id, context_id, lesson_id, series, lobby, lineitems FROM lti_links
		WHERE issuer = ? AND client_id = ? AND resource_link = ?`, issuer, clientID, resourceLink).
		Scan(&l.Deployment, &l.Context, &lesson, &l.Series, &l.Lobby, &l.LineItems)
	if errors.Is(err, sql.ErrNoRows) {
		return LTILink{}, domain.Errorf(domain.CodeNotFound, "no lesson for this resource link")
	}
	if err != nil {
		return LTILink{}, s.unavailable("read a resource link", err)
	}
	if l.Lesson, err = uuid.Parse(lesson); err != nil {
		return LTILink{}, s.unavailable("read a resource link", err)
	}
	return l, nil
}

// PutLTILink implements LTI.
func (s *SQLite) PutLTILink(ctx context.Context, l LTILink, prev uuid.UUID) (LTILink, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return LTILink{}, s.unavailable("record a resource link", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `INSERT INTO lti_links (issuer, client_id, resource_link, deployment_id, context_id, lesson_id, series, lobby, lineitems)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10)
		ON CONFLICT (issuer, client_id, resource_link) DO UPDATE SET deployment_id = ?4, context_id = ?5, lesson_id = ?6, series = ?7, lobby = ?8, lineitems = ?10
		WHERE lti_links.lesson_id = ?9`,
		l.Issuer, l.ClientID, l.ResourceLink, l.Deployment, l.Context, l.Lesson.String(), l.Series, l.Lobby, prev.String(), l.LineItems); err != nil {
		return LTILink{}, s.unavailable("record a resource link", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lti_lessons (lesson_id, issuer, client_id, context_id, resource_link, lineitems)
		SELECT lesson_id, issuer, client_id, context_id, resource_link, lineitems FROM lti_links WHERE issuer = ?1 AND client_id = ?2 AND resource_link = ?3
		ON CONFLICT (lesson_id) DO NOTHING`, l.Issuer, l.ClientID, l.ResourceLink); err != nil {
		return LTILink{}, s.unavailable("record a resource link", err)
	}
	if err := tx.Commit(); err != nil {
		return LTILink{}, s.unavailable("record a resource link", err)
	}
	return s.LTILink(ctx, l.Issuer, l.ClientID, l.ResourceLink)
}

// PutRoster implements LTI.
func (s *SQLite) PutRoster(ctx context.Context, issuer, clientID, course string, members []RosterMember) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.unavailable("record a roster", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `DELETE FROM lti_roster WHERE issuer = ? AND client_id = ? AND context_id = ?`,
		issuer, clientID, course); err != nil {
		return s.unavailable("record a roster", err)
	}
	now := time.Now().UnixMicro()
	for _, m := range members {
		if _, err := tx.ExecContext(ctx, `INSERT INTO lti_roster (issuer, client_id, context_id, participant, user_id, name, role, fetched_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			issuer, clientID, course, m.Participant, m.UserID, m.Name, string(m.Role), now); err != nil {
			return s.unavailable("record a roster", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.unavailable("record a roster", err)
	}
	return nil
}

// Roster implements LTI.
func (s *SQLite) Roster(ctx context.Context, lesson uuid.UUID) ([]RosterMember, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.participant, r.user_id, r.name, r.role FROM lti_lessons l
		JOIN lti_roster r ON r.issuer = l.issuer AND r.client_id = l.client_id AND r.context_id = l.context_id
		WHERE l.lesson_id = ? ORDER BY r.participant`, lesson.String())
	if err != nil {
		return nil, s.unavailable("read a roster", err)
	}
	defer rows.Close()
	var out []RosterMember
	for rows.Next() {
		var m RosterMember
		if err := rows.Scan(&m.Participant, &m.UserID, &m.Name, &m.Role); err != nil {
			return nil, s.unavailable("read a roster", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.unavailable("read a roster", err)
	}
	return out, nil
}

// LTILesson implements LTI.
func (p *Postgres) LTILesson(ctx context.Context, lesson uuid.UUID) (LTILesson, error) {
	var l LTILesson
	err := p.pool.QueryRow(ctx, `SELECT issuer, client_id, context_id, resource_link, lineitems, lineitem FROM lti_lessons
		WHERE lesson_id = $1`, pgUUID(lesson)).Scan(&l.Issuer, &l.ClientID, &l.Context, &l.ResourceLink, &l.LineItems, &l.LineItem)
	if errors.Is(err, pgx.ErrNoRows) {
		return LTILesson{}, notLaunched(lesson)
	}
	if err != nil {
		return LTILesson{}, p.unavailable("read an LTI lesson", err)
	}
	return l, nil
}

// SetLineItem implements LTI.
func (p *Postgres) SetLineItem(ctx context.Context, lesson uuid.UUID, lineItem string) error {
	tag, err := p.pool.Exec(ctx, `UPDATE lti_lessons SET lineitem = $2 WHERE lesson_id = $1`, pgUUID(lesson), lineItem)
	if err != nil {
		return p.unavailable("record a line item", err)
	}
	if tag.RowsAffected() == 0 {
		return notLaunched(lesson)
	}
	return nil
}

// LTILesson implements LTI.
func (s *SQLite) LTILesson(ctx context.Context, lesson uuid.UUID) (LTILesson, error) {
	var l LTILesson
	err := s.db.QueryRowContext(ctx, `SELECT issuer, client_id, context_id, resource_link, lineitems, lineitem FROM lti_lessons
		WHERE lesson_id = ?`, lesson.String()).Scan(&l.Issuer, &l.ClientID, &l.Context, &l.ResourceLink, &l.LineItems, &l.LineItem)
	if errors.Is(err, sql.ErrNoRows) {
		return LTILesson{}, notLaunched(lesson)
	}
	if err != nil {
		return LTILesson{}, s.unavailable("read an LTI lesson", err)
	}
	return l, nil
}

// SetLineItem implements LTI.
func (s *SQLite) SetLineItem(ctx context.Context, lesson uuid.UUID, lineItem string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE lti_lessons SET lineitem = ? WHERE lesson_id = ?`, lineItem, lesson.String())
	if err != nil {
		return s.unavailable("record a line item", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.unavailable("record a line item", err)
	} else if n == 0 {
		return notLaunched(lesson)
	}
	return nil
}
