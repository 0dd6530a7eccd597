package httpapi

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/reso-fr/reso/sqldb"
)

// idemStore keeps the first response of every keyed POST, per principal.
//
// No personal data is kept in it: a need's response is stored without its
// contact (the replay reopens the contact from the log, so an erasure is
// respected), and every stored body is sealed with AES-256-GCM under a key
// derived from the caller's bearer token and the idempotency key, neither
// of which is stored: a database dump alone cannot read them (a new user's
// token in the response of POST /api/users, for one).
type idemStore struct {
	db sqldb.DB // writes go through it (on SQLite, in their turn)
}

func (s *idemStore) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.db.Exec(ctx, q, args...)
}

// idemRecord is one stored response.
type idemRecord struct {
	RequestHash string
	Done        bool
	Status      int
	Headers     string // JSON object of the replayed headers
	Body        []byte // sealed
	NeedID      string // "" unless the body is a need without its contact
	CreatedAt   time.Time
}

func (s *idemStore) migrate(ctx context.Context) error {
	blob := "BLOB"
	if s.db.Dialect() == sqldb.Postgres {
		blob = "BYTEA"
	}
	q := `CREATE TABLE IF NOT EXISTS http_idempotency (
	principal    TEXT    NOT NULL,
	idem_key     TEXT    NOT NULL,
	request_hash TEXT    NOT NULL,
	done         INTEGER NOT NULL DEFAULT 0,
	status       INTEGER NOT NULL DEFAULT 0,
	headers      TEXT    NOT NULL DEFAULT '{}',
	body         ` + blob + `,
	need_id      TEXT    NOT NULL DEFAULT '',
	created_ms   BIGINT  NOT NULL,
	PRIMARY KEY (principal, idem_key)
)`
	if _, err := s.db.Exec(ctx, q); err != nil {
		return fmt.Errorf("create http_idempotency: %w", err)
	}
	return nil
}

// reserve inserts a pending record; it reports false when the key is
// already taken (by a finished or a running request).
func (s *idemStore) reserve(ctx context.Context, principal, key, hash string, now time.Time) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO http_idempotency (principal, idem_key, request_hash, created_ms)
VALUES ($1, $2, $3, $4) ON CONFLICT (principal, idem_key) DO NOTHING`, principal, key, hash, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("reserve idempotency key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("reserve idempotency key: %w", err)
	}
	return n == 1, nil
}

// get returns the record of key; sql.ErrNoRows when there is none.
func (s *idemStore) get(ctx context.Context, principal, key string) (idemRecord, error) {
	var rec idemRecord
	var done int
	var ms int64
	err := s.db.SQL().QueryRowContext(ctx, `SELECT request_hash, done, status, headers, body, need_id, created_ms
FROM http_idempotency WHERE principal = $1 AND idem_key = $2`, principal, key).
		Scan(&rec.RequestHash, &done, &rec.Status, &rec.Headers, &rec.Body, &rec.NeedID, &ms)
	if err != nil {
		return idemRecord{}, fmt.Errorf("read idempotency key: %w", err)
	}
	rec.Done = done == 1
	rec.CreatedAt = time.UnixMilli(ms)
	return rec, nil
}

// complete stores the response of a reserved key.
func (s *idemStore) complete(ctx context.Context, principal, key string, rec idemRecord) error {
	_, err := s.exec(ctx, `UPDATE http_idempotency SET done = 1, status = $3, headers = $4, body = $5, need_id = $6
WHERE principal = $1 AND idem_key = $2`, principal, key, rec.Status, rec.Headers, rec.Body, rec.NeedID)
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// release forgets a reserved key, so that a request that failed on the
// server's side can be retried with it.
func (s *idemStore) release(ctx context.Context, principal, key string) error {
	if _, err := s.exec(ctx, `DELETE FROM http_idempotency WHERE principal = $1 AND idem_key = $2`, principal, key); err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// releaseStale forgets a pending record older than cutoff (its request
// died with its process).
func (s *idemStore) releaseStale(ctx context.Context, principal, key string, cutoff time.Time) error {
	_, err := s.exec(ctx, `DELETE FROM http_idempotency WHERE principal = $1 AND idem_key = $2 AND done = 0 AND created_ms < $3`,
		principal, key, cutoff.UnixMilli())
	if err != nil {
		return fmt.Errorf("release stale idempotency key: %w", err)
	}
	return nil
}

// sealKey derives the body key from secrets the table never holds.
func sealKey(token, key string) []byte {
	h := sha256.Sum256([]byte("reso-idempotency\x00" + token + "\x00" + key))
	return h[:]
}

func sealBody(k, plain []byte) ([]byte, error) {
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plain, nil), nil
}

var errSealedBody = errors.New("idempotent response cannot be opened")

func openBody(k, sealed []byte) ([]byte, error) {
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, errSealedBody
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], nil)
	if err != nil {
		return nil, errSealedBody
	}
	return plain, nil
}
