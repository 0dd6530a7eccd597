package websession

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/internal/app"
)

// Errors of sessions.
var (
	// ErrNoSession: the cookie is missing, malformed, badly signed, or
	// names no session.
	ErrNoSession = errors.New("no session")
	// ErrExpired: the session existed but ended (idle too long, too old,
	// or revoked): the user signs in again.
	ErrExpired = errors.New("session expired")
)

// Session is an open browser session.
type Session struct {
	// ID is the session's secret, as the cookie carries it (signed);
	// the table keeps its hash only.
	ID        string
	Principal app.Principal
	Created   time.Time
	Expires   time.Time // the latest it may last
}

// seenEvery bounds how often a request writes the session's last use.
const seenEvery = time.Minute

// Open starts a session for p and returns it. It returns the database's
// error.
func (s *Store) Open(ctx context.Context, p app.Principal) (Session, error) {
	id, err := randomHex(32)
	if err != nil {
		return Session{}, err
	}
	pj, err := json.Marshal(p)
	if err != nil {
		return Session{}, fmt.Errorf("open session: %w", err)
	}
	now := s.now()
	sess := Session{ID: id, Principal: p, Created: now, Expires: now.Add(s.Max)}
	if _, err := s.exec(ctx, `INSERT INTO websession_sessions (id_hash, user_id, principal, created_ms, seen_ms, expires_ms)
		VALUES ($1, $2, $3, $4, $5, $6)`, hash(id), p.UserID.String(), string(pj), now.UnixMilli(), now.UnixMilli(),
		sess.Expires.UnixMilli()); err != nil {
		return Session{}, fmt.Errorf("open session: %w", err)
	}
	return sess, nil
}

// Get returns the session id names, and records its use (at most once a
// minute). It returns ErrNoSession for an unknown id, ErrExpired for one
// that ended, and the database's error.
func (s *Store) Get(ctx context.Context, id string) (Session, error) {
	var pj string
	var created, seen, expires, revoked int64
	err := s.db.SQL().QueryRowContext(ctx, `SELECT principal, created_ms, seen_ms, expires_ms, revoked_ms
		FROM websession_sessions WHERE id_hash = $1`, hash(id)).Scan(&pj, &created, &seen, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("read session: %w", err)
	}
	now := s.now()
	if revoked != 0 || now.UnixMilli() >= expires || now.Sub(time.UnixMilli(seen)) >= s.Idle {
		return Session{}, ErrExpired
	}
	sess := Session{ID: id, Created: time.UnixMilli(created), Expires: time.UnixMilli(expires)}
	if err := json.Unmarshal([]byte(pj), &sess.Principal); err != nil {
		return Session{}, fmt.Errorf("read session: %w", err)
	}
	if now.Sub(time.UnixMilli(seen)) >= seenEvery {
		if _, err := s.exec(ctx, `UPDATE websession_sessions SET seen_ms = $2 WHERE id_hash = $1`, hash(id), now.UnixMilli()); err != nil {
			return Session{}, fmt.Errorf("touch session: %w", err)
		}
	}
	return sess, nil
}

// Revoke ends a session now (sign-out). Revoking an unknown or ended
// session is not an error. It returns the database's error.
func (s *Store) Revoke(ctx context.Context, id string) error {
	if _, err := s.exec(ctx, `UPDATE websession_sessions SET revoked_ms = $2 WHERE id_hash = $1 AND revoked_ms = 0`,
		hash(id), s.now().UnixMilli()); err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// RevokeUser ends every session of a user and returns how many were
// open. It returns the database's error.
func (s *Store) RevokeUser(ctx context.Context, userID uuid.UUID) (int, error) {
	res, err := s.exec(ctx, `UPDATE websession_sessions SET revoked_ms = $2 WHERE user_id = $1 AND revoked_ms = 0`,
		userID.String(), s.now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("revoke sessions of %s: %w", userID, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Cookie is the signed value a cookie carries for session id:
// the id, a dot, and its HMAC-SHA-256 under the store's secret.
func (s *Store) Cookie(id string) string {
	return id + "." + s.sign(id)
}

// FromCookie checks a cookie's signature and returns the session id it
// carries. It returns ErrNoSession when the value was not signed here.
func (s *Store) FromCookie(v string) (string, error) {
	id, sig, ok := strings.Cut(v, ".")
	if !ok || id == "" || !hmac.Equal([]byte(sig), []byte(s.sign(id))) {
		return "", ErrNoSession
	}
	return id, nil
}

func (s *Store) sign(id string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("reso-session\x00" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
