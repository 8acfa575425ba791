// Package token issues and checks the signed join tokens that admit people
// to a lesson: JWTs (HS256, golang-jwt) carrying the lesson, the role, the
// participant and an expiry. A teacher's link carries a teacher token; the
// link shared with a class carries a student invitation that names no one,
// and each student who joins with it is given a token of their own, with
// which they resume after a dropped connection.
//
// The package only signs and checks; it must never decide what a role may
// do in a lesson (that is domain's) or store anything.
package token

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"classroom/domain"
)

// KeyBytes is the size of a signing key.
const KeyBytes = 32

const (
	issuer   = "classroom"
	audience = "classroom-lesson"
	leeway   = 5 * time.Second
)

// Claims is what a token says.
type Claims struct {
	Lesson      uuid.UUID
	Role        domain.Role
	Participant string // empty in an invitation, which admits anyone of Role
	Name        string // the display name, when the token names someone
	Expires     time.Time
	// Invitation identifies an invitation (JWT ID), so that a lesson can
	// tell the link it gave last from those it replaced; uuid.Nil in a
	// token that names someone, and in invitations signed before it was.
	Invitation uuid.UUID
}

type jwtClaims struct {
	jwt.RegisteredClaims
	Lesson string      `json:"lesson"`
	Role   domain.Role `json:"role"`
	Name   string      `json:"name,omitempty"`
}

// Keeper signs and verifies tokens with one key.
type Keeper struct {
	key []byte
	now func() time.Time
}

// NewKeeper returns a Keeper for key, which must be at least KeyBytes long.
// now is the clock expiry is checked against; nil means time.Now.
func NewKeeper(key []byte, now func() time.Time) (*Keeper, error) {
	if len(key) < KeyBytes {
		return nil, fmt.Errorf("token key must be at least %d bytes, not %d", KeyBytes, len(key))
	}
	if now == nil {
		now = time.Now
	}
	return &Keeper{key: key, now: now}, nil
}

// Issue signs claims. The expiry must be in the future.
func (k *Keeper) Issue(c Claims) (string, error) {
	if c.Lesson == uuid.Nil {
		return "", errors.New("token: no lesson")
	}
	if c.Role != domain.RoleTeacher && c.Role != domain.RoleStudent {
		return "", fmt.Errorf("token: role %q cannot join a lesson", c.Role)
	}
	now := k.now()
	if !c.Expires.After(now) {
		return "", errors.New("token: expiry is not in the future")
	}
	jc := jwtClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Audience:  jwt.ClaimStrings{audience},
			Subject:   c.Participant,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(c.Expires),
		},
		Lesson: c.Lesson.String(),
		Role:   c.Role,
		Name:   c.Name,
	}
	if c.Invitation != uuid.Nil {
		jc.ID = c.Invitation.String()
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jc).SignedString(k.key)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return s, nil
}

// Verify checks a token's signature and expiry and that it admits to lesson.
// Every refusal is a *domain.Error with CodeUnauthorized and a message that
// says why, without echoing the token.
func (k *Keeper) Verify(s string, lesson uuid.UUID) (Claims, error) {
	var jc jwtClaims
	_, err := jwt.ParseWithClaims(s, &jc, func(*jwt.Token) (any, error) { return k.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(k.now),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Claims{}, domain.Errorf(domain.CodeUnauthorized, "the link has expired; ask the teacher for a new one")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return Claims{}, domain.Errorf(domain.CodeUnauthorized, "the token's signature is not valid")
	case err != nil:
		return Claims{}, domain.Errorf(domain.CodeUnauthorized, "the token is not valid")
	}
	id, err := uuid.Parse(jc.Lesson)
	if err != nil {
		return Claims{}, domain.Errorf(domain.CodeUnauthorized, "the token names no lesson")
	}
	if id != lesson {
		return Claims{}, domain.Errorf(domain.CodeUnauthorized, "the token is for another lesson")
	}
	if jc.Role != domain.RoleTeacher && jc.Role != domain.RoleStudent {
		return Claims{}, domain.Errorf(domain.CodeUnauthorized, "the token's role is not valid")
	}
	var invitation uuid.UUID
	if jc.ID != "" {
		if invitation, err = uuid.Parse(jc.ID); err != nil {
			return Claims{}, domain.Errorf(domain.CodeUnauthorized, "the token's invitation is not valid")
		}
	}
	return Claims{Lesson: id, Role: jc.Role, Participant: jc.Subject, Name: jc.Name, Expires: jc.ExpiresAt.Time.UTC(),
		Invitation: invitation}, nil
}

// CheckInvitation refuses an invitation that the lesson has replaced:
// current is the invitation its teacher was given last, uuid.Nil when none
// was recorded (every invitation of the lesson admits then). A token that
// names someone is never refused here: replacing the class's link does not
// turn away those who joined with it.
func (c Claims) CheckInvitation(current uuid.UUID) error {
	if c.Participant == "" && current != uuid.Nil && c.Invitation != current {
		return domain.Errorf(domain.CodeUnauthorized, "this students' link has been replaced by a newer one; ask the teacher for it").
			Because(domain.ReasonLinkReplaced)
	}
	return nil
}

// LoadOrCreateKey reads the signing key kept at path, or creates one with a
// random value (mode 0600) when the file does not exist.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) < KeyBytes {
			return nil, fmt.Errorf("token key %s is shorter than %d bytes", path, KeyBytes)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read token key: %w", err)
	}
	key = make([]byte, KeyBytes)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate token key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create token key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process made it first
			return LoadOrCreateKey(path)
		}
		return nil, fmt.Errorf("create token key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("write token key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write token key: %w", err)
	}
	return key, nil
}
