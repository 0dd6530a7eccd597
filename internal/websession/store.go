package websession

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/reso-fr/reso/sqldb"
	"github.com/reso-fr/reso/sqlmigrate"
)

// Store holds sessions, sign-in links and form submissions in one SQL
// database. It is safe for concurrent use.
type Store struct {
	db     sqldb.DB
	now    func() time.Time
	secret []byte // signs session cookies
	// Idle and Max bound a session: it ends after Idle without a request,
	// and Max after it opened whatever happens.
	Idle, Max time.Duration
}

// Options tune a Store; the zero value is usable.
type Options struct {
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Idle (default 8 h) and Max (default 7 days) bound sessions.
	Idle, Max time.Duration
}

// New loads or creates the cookie secret in db, whose tables Migrate
// created, and returns the Store. It returns an error wrapping
// sqlmigrate.ErrPending when db was not migrated, and the database's error.
func New(ctx context.Context, db sqldb.DB, o Options) (*Store, error) {
	if err := sqlmigrate.Check(ctx, db, Migrations); err != nil {
		return nil, fmt.Errorf("websession: %w", err)
	}
	s := &Store{db: db, now: o.Now, Idle: o.Idle, Max: o.Max}
	if s.now == nil {
		s.now = time.Now
	}
	if s.Idle <= 0 {
		s.Idle = 8 * time.Hour
	}
	if s.Max <= 0 {
		s.Max = 7 * 24 * time.Hour
	}
	secret, err := s.cookieSecret(ctx)
	if err != nil {
		return nil, err
	}
	s.secret = secret
	return s, nil
}

// cookieSecret returns the secret every replica signs cookies with,
// creating it on the first start.
func (s *Store) cookieSecret(ctx context.Context) ([]byte, error) {
	fresh, err := randomHex(32)
	if err != nil {
		return nil, err
	}
	if _, err := s.exec(ctx, `INSERT INTO websession_settings (name, value) VALUES ('cookie_secret', $1)
		ON CONFLICT (name) DO NOTHING`, fresh); err != nil {
		return nil, fmt.Errorf("cookie secret: %w", err)
	}
	var v string
	if err := s.db.SQL().QueryRowContext(ctx, `SELECT value FROM websession_settings WHERE name = 'cookie_secret'`).Scan(&v); err != nil {
		return nil, fmt.Errorf("cookie secret: %w", err)
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) < 32 {
		return nil, errors.New("cookie secret: stored value is not 32 bytes of hex")
	}
	return b, nil
}

// exec runs a write through the database's handle, which takes the
// embedded file's turn among its writers.
func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.db.Exec(ctx, q, args...)
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// hash is what the tables keep of a secret value (a session id, a link's
// token): 256 random bits need no slow hash, and a stolen table gives no
// way back.
func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
