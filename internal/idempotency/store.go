// Package idempotency keeps the first response of every POST carrying an
// Idempotency-Key, per principal, so that a retry with the same key
// replays it instead of running the request again (the HTTP API's
// middleware decides what to keep and when). Records are written through
// the database handle (sqldb.DB), in their turn among the writers of the
// embedded SQLite file.
//
// No personal data is kept: a need's response is stored without its
// contact (the replay reopens the contact from the log, so an erasure is
// respected), and every stored body is sealed with AES-256-GCM under a key
// derived from the caller's bearer token and the idempotency key, neither
// of which is stored: a database dump alone cannot read them (a new
// user's token in the response of POST /api/users, for one).
package idempotency

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/reso-fr/reso/sqldb"
	"github.com/reso-fr/reso/sqlmigrate"
)

// Store keeps the records in the table http_idempotency. It is safe for
// concurrent use.
type Store struct {
	db sqldb.DB
}

// New returns the store of the records in db, whose table Migrate
// created. It returns an error wrapping sqlmigrate.ErrPending when db was
// not migrated, or the database error.
func New(ctx context.Context, db sqldb.DB) (*Store, error) {
	if err := sqlmigrate.Check(ctx, db, Migrations); err != nil {
		return nil, fmt.Errorf("idempotency: %w", err)
	}
	return &Store{db: db}, nil
}

// Record is one stored response.
type Record struct {
	RequestHash string
	Done        bool
	Status      int
	Headers     string // JSON object of the replayed headers
	Body        []byte // sealed
	NeedID      string // "" unless the body is a need without its contact
	CreatedAt   time.Time
}

//go:embed migrations
var files embed.FS

// Migrations are the records table's numbered migrations (the body's type
// differs: BLOB, BYTEA).
var Migrations = sqlmigrate.Set{Name: "http_idempotency",
	SQLite: sqlmigrate.Dir(files, "migrations/sqlite"), Postgres: sqlmigrate.Dir(files, "migrations/postgres")}

// Migrate applies the records table's migrations not yet applied to db.
// It returns the database error.
func Migrate(ctx context.Context, db sqldb.DB) error {
	_, err := sqlmigrate.Apply(ctx, db, Migrations)
	return err
}

// Reserve inserts a pending record of the request whose hash is hash; it
// reports false when the key is already taken (by a finished or a running
// request). It returns the database error.
func (s *Store) Reserve(ctx context.Context, principal, key, hash string, now time.Time) (bool, error) {
	res, err := s.db.Exec(ctx, `INSERT INTO http_idempotency (principal, idem_key, request_hash, created_ms)
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

// Get returns the record of key. It returns an error wrapping
// sql.ErrNoRows when there is none, or the database error.
func (s *Store) Get(ctx context.Context, principal, key string) (Record, error) {
	var rec Record
	var done int
	var ms int64
	err := s.db.SQL().QueryRowContext(ctx, `SELECT request_hash, done, status, headers, body, need_id, created_ms
FROM http_idempotency WHERE principal = $1 AND idem_key = $2`, principal, key).
		Scan(&rec.RequestHash, &done, &rec.Status, &rec.Headers, &rec.Body, &rec.NeedID, &ms)
	if err != nil {
		return Record{}, fmt.Errorf("read idempotency key: %w", err)
	}
	rec.Done = done == 1
	rec.CreatedAt = time.UnixMilli(ms)
	return rec, nil
}

// Complete stores the response of a reserved key. It returns the database
// error.
func (s *Store) Complete(ctx context.Context, principal, key string, rec Record) error {
	_, err := s.db.Exec(ctx, `UPDATE http_idempotency SET done = 1, status = $3, headers = $4, body = $5, need_id = $6
WHERE principal = $1 AND idem_key = $2`, principal, key, rec.Status, rec.Headers, rec.Body, rec.NeedID)
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// Release forgets a reserved key, so that a request that failed on the
// server's side can be retried with it. It returns the database error.
func (s *Store) Release(ctx context.Context, principal, key string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM http_idempotency WHERE principal = $1 AND idem_key = $2`, principal, key); err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// ReleaseReservation forgets the pending record that a Reserve of hash at
// now may have stored: for a Reserve that returned an error, whose INSERT
// may still have committed (the database went down before it answered).
// Left there, that record would keep the key "in progress" for the
// request's repeats until it went stale. The creation time and the hash
// single out that reservation: one made by another request with the same
// key stays. It returns the database error.
func (s *Store) ReleaseReservation(ctx context.Context, principal, key, hash string, now time.Time) error {
	_, err := s.db.Exec(ctx, `DELETE FROM http_idempotency WHERE principal = $1 AND idem_key = $2 AND done = 0 AND created_ms = $3 AND request_hash = $4`,
		principal, key, now.UnixMilli(), hash)
	if err != nil {
		return fmt.Errorf("release idempotency reservation: %w", err)
	}
	return nil
}

// ReleaseStale forgets a pending record older than cutoff (its request
// died with its process). It returns the database error.
func (s *Store) ReleaseStale(ctx context.Context, principal, key string, cutoff time.Time) error {
	_, err := s.db.Exec(ctx, `DELETE FROM http_idempotency WHERE principal = $1 AND idem_key = $2 AND done = 0 AND created_ms < $3`,
		principal, key, cutoff.UnixMilli())
	if err != nil {
		return fmt.Errorf("release stale idempotency key: %w", err)
	}
	return nil
}

// Purge deletes the records created before cutoff, finished or pending,
// and returns how many it deleted: a kept response lives a day (TTL), after
// which its key is free again. It returns the database error.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.Exec(ctx, `DELETE FROM http_idempotency WHERE created_ms < $1`, cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}

// TTL is how long a kept response is replayed before the purge forgets it.
const TTL = 24 * time.Hour

// SealKey derives the key of a body from secrets the table never holds:
// the caller's bearer token and the idempotency key.
func SealKey(token, key string) []byte {
	h := sha256.Sum256([]byte("reso-idempotency\x00" + token + "\x00" + key))
	return h[:]
}

// newGCM is AES-256-GCM under k.
func newGCM(k []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts a body under k (SealKey) with AES-256-GCM. It returns the
// error of a key of the wrong size or of the random source.
func Seal(k, plain []byte) ([]byte, error) {
	gcm, err := newGCM(k)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plain, nil), nil
}

// ErrSealed means a stored body does not open under the key given.
var ErrSealed = errors.New("idempotent response cannot be opened")

// Open decrypts a body Seal encrypted under k. It returns ErrSealed when
// it does not authenticate.
func Open(k, sealed []byte) ([]byte, error) {
	gcm, err := newGCM(k)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, ErrSealed
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], nil)
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}
