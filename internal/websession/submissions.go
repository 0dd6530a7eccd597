package websession

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Submission is the state of a form's idempotency key.
type Submission struct {
	Done     bool
	Location string // where the finished submission sent the browser
	Created  time.Time
}

// Reserve claims a form's key for a user: true when this submission is the
// first with it (it then runs, and calls Complete or Release); false when
// another took it, whose state Lookup tells. It returns the database's
// error.
func (s *Store) Reserve(ctx context.Context, userID uuid.UUID, key string) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO websession_submissions (user_id, form_key, created_ms) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, form_key) DO NOTHING`, userID.String(), key, s.now().UnixMilli())
	if err != nil {
		return false, fmt.Errorf("reserve form key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("reserve form key: %w", err)
	}
	return n == 1, nil
}

// Lookup returns the state of a reserved key; ok is false when there is
// none. It returns the database's error.
func (s *Store) Lookup(ctx context.Context, userID uuid.UUID, key string) (Submission, bool, error) {
	var sub Submission
	var done int
	var created int64
	err := s.db.SQL().QueryRowContext(ctx, `SELECT done, location, created_ms FROM websession_submissions WHERE user_id = $1 AND form_key = $2`,
		userID.String(), key).Scan(&done, &sub.Location, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Submission{}, false, nil
	}
	if err != nil {
		return Submission{}, false, fmt.Errorf("look up form key: %w", err)
	}
	sub.Done, sub.Created = done == 1, time.UnixMilli(created)
	return sub, true, nil
}

// Complete records where a finished submission sent the browser: a
// second submission with the key goes there too. It returns the
// database's error.
func (s *Store) Complete(ctx context.Context, userID uuid.UUID, key, location string) error {
	if _, err := s.exec(ctx, `UPDATE websession_submissions SET done = 1, location = $3 WHERE user_id = $1 AND form_key = $2`,
		userID.String(), key, location); err != nil {
		return fmt.Errorf("complete form key: %w", err)
	}
	return nil
}

// Release forgets a key whose submission stored nothing (refused input,
// a failure), so that the form can be sent again with it. It returns the
// database's error.
func (s *Store) Release(ctx context.Context, userID uuid.UUID, key string) error {
	if _, err := s.exec(ctx, `DELETE FROM websession_submissions WHERE user_id = $1 AND form_key = $2 AND done = 0`,
		userID.String(), key); err != nil {
		return fmt.Errorf("release form key: %w", err)
	}
	return nil
}

// Purge deletes what has ended before cutoff: submissions, used or expired
// links, and ended sessions. It returns the database's error.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) error {
	ms := cutoff.UnixMilli()
	for _, q := range []string{
		`DELETE FROM websession_submissions WHERE created_ms < $1`,
		`DELETE FROM websession_links WHERE expires_ms < $1`,
		`DELETE FROM websession_sessions WHERE expires_ms < $1 OR (revoked_ms <> 0 AND revoked_ms < $1)`,
	} {
		if _, err := s.exec(ctx, q, ms); err != nil {
			return fmt.Errorf("purge: %w", err)
		}
	}
	return nil
}
