package auth

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/sqldb"
	"github.com/reso-fr/reso/sqlmigrate"
)

// ErrUnauthenticated means the token is unknown, expired or revoked; the
// error says which.
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrNotFound means no token has that id.
var ErrNotFound = errors.New("token not found")

// User is who a token authenticates.
type User struct {
	ID             uuid.UUID
	Name           string
	Role           domain.Role
	OrganisationID uuid.UUID
	ReferentID     uuid.UUID
	Territories    []domain.Zone
	// TokenID names the token that authenticated the user (set by
	// Authenticate).
	TokenID string
}

// TokenInfo is what may be shown of a token: never the token itself.
type TokenInfo struct {
	ID         string     `json:"id"`
	UserID     uuid.UUID  `json:"user_id"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// CacheTTL bounds how long a token stays valid in memory after its row was
// read: a token revoked on another replica is refused here within it.
const CacheTTL = 500 * time.Millisecond

// DefaultTokenTTL is how long a token lives unless configured otherwise.
const DefaultTokenTTL = 90 * 24 * time.Hour

// lastUsedEvery is how stale a token's last-used time may get: refreshing
// it on every request would make every read a write.
const lastUsedEvery = time.Minute

// Store authenticates tokens and registers users. It is safe for concurrent
// use.
type Store struct {
	db     sqldb.DB
	events eventstore.Store
	now    func() time.Time
	ttl    time.Duration

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	user    User
	expires time.Time // of the cache entry, not of the token
}

//go:embed migrations/*.sql
var files embed.FS

// Migrations are the credentials table's numbered migrations, the same
// files on SQLite and PostgreSQL.
var Migrations = sqlmigrate.Set{Name: "credentials", SQLite: sqlmigrate.Dir(files, "migrations"), Postgres: sqlmigrate.Dir(files, "migrations")}

// Migrate applies the credentials table's migrations not yet applied to
// db. It returns the database error.
func Migrate(ctx context.Context, db sqldb.DB) error {
	_, err := sqlmigrate.Apply(ctx, db, Migrations)
	return err
}

// New returns a Store writing user events to events and credentials
// through db, whose credentials table Migrate created. It returns an error
// wrapping sqlmigrate.ErrPending when db was not migrated, or the database
// error.
func New(ctx context.Context, db sqldb.DB, events eventstore.Store) (*Store, error) {
	if err := sqlmigrate.Check(ctx, db, Migrations); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	s := &Store{db: db, events: events, now: time.Now, ttl: DefaultTokenTTL, cache: map[string]cached{}}
	// Tokens issued before tokens expired start their life now.
	if _, err := db.Exec(ctx, `UPDATE reso_credentials SET expires_at = $1 WHERE expires_at IS NULL`,
		stamp(s.now().Add(s.ttl))); err != nil {
		return nil, fmt.Errorf("auth: give old tokens an expiry: %w", err)
	}
	return s, nil
}

// UseTokenTTL sets how long new tokens live (default DefaultTokenTTL).
// Call it before any use.
func (s *Store) UseTokenTTL(d time.Duration) {
	if d > 0 {
		s.ttl = d
	}
}

// UseClock sets the store's clock (tests).
func (s *Store) UseClock(now func() time.Time) { s.now = now }

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseStamp(s sql.NullString) *time.Time {
	if !s.Valid || s.String == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil {
		return nil
	}
	return &t
}

// Authenticate returns the user a token belongs to. It returns an error
// wrapping ErrUnauthenticated for a token unknown, expired or revoked. A
// row read is kept for CacheTTL, so that a burst of requests costs one
// query, and a revocation on another replica is seen within it.
func (s *Store) Authenticate(ctx context.Context, token string) (User, error) {
	if token == "" {
		return User{}, ErrUnauthenticated
	}
	h := HashToken(token)
	now := s.now()
	s.mu.Lock()
	c, ok := s.cache[h]
	s.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.user, nil
	}
	u, info, err := s.lookup(ctx, h)
	if err != nil {
		return User{}, err
	}
	switch {
	case info.RevokedAt != nil:
		return User{}, fmt.Errorf("%w: this token was revoked", ErrUnauthenticated)
	case !now.Before(info.ExpiresAt):
		return User{}, fmt.Errorf("%w: this token expired on %s", ErrUnauthenticated, info.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if info.LastUsedAt == nil || now.Sub(*info.LastUsedAt) > lastUsedEvery {
		if _, err := s.db.Exec(ctx, `UPDATE reso_credentials SET last_used_at = $1 WHERE token_hash = $2`, stamp(now), h); err != nil {
			return User{}, fmt.Errorf("record token use: %w", err)
		}
	}
	// A cache entry never outlives the token.
	until := now.Add(CacheTTL)
	if info.ExpiresAt.Before(until) {
		until = info.ExpiresAt
	}
	s.mu.Lock()
	if len(s.cache) > 10000 {
		// Bound memory: dropping everything is rare and only costs queries.
		s.cache = map[string]cached{}
	}
	s.cache[h] = cached{user: u, expires: until}
	s.mu.Unlock()
	return u, nil
}

const credentialColumns = `user_id, name, role, organisation_id, referent_id, territories, token_id, created_at, expires_at, last_used_at, revoked_at`

// lookup reads a token's row. It returns ErrUnauthenticated when there is
// none.
func (s *Store) lookup(ctx context.Context, hash string) (User, TokenInfo, error) {
	u, info, err := scanCredential(s.db.SQL().QueryRowContext(ctx,
		`SELECT `+credentialColumns+` FROM reso_credentials WHERE token_hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, TokenInfo{}, fmt.Errorf("%w: unknown token", ErrUnauthenticated)
	}
	return u, info, err
}

func scanCredential(row interface{ Scan(...any) error }) (User, TokenInfo, error) {
	var userID, name, role, org, ref, terr, tokenID, created string
	var expires, lastUsed, revoked sql.NullString
	if err := row.Scan(&userID, &name, &role, &org, &ref, &terr, &tokenID, &created, &expires, &lastUsed, &revoked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return User{}, TokenInfo{}, err
		}
		return User{}, TokenInfo{}, fmt.Errorf("look up token: %w", err)
	}
	u := User{Name: name, Role: domain.Role(role), TokenID: tokenID}
	var err error
	if u.ID, err = uuid.Parse(userID); err != nil {
		return User{}, TokenInfo{}, fmt.Errorf("credentials user id %q: %w", userID, err)
	}
	if u.OrganisationID, err = parseOptional(org); err != nil {
		return User{}, TokenInfo{}, fmt.Errorf("credentials organisation id: %w", err)
	}
	if u.ReferentID, err = parseOptional(ref); err != nil {
		return User{}, TokenInfo{}, fmt.Errorf("credentials referent id: %w", err)
	}
	if err := json.Unmarshal([]byte(terr), &u.Territories); err != nil {
		return User{}, TokenInfo{}, fmt.Errorf("credentials territories: %w", err)
	}
	info := TokenInfo{ID: tokenID, UserID: u.ID, LastUsedAt: parseStamp(lastUsed), RevokedAt: parseStamp(revoked)}
	if t := parseStamp(sql.NullString{String: created, Valid: true}); t != nil {
		info.CreatedAt = *t
	}
	if t := parseStamp(expires); t != nil {
		info.ExpiresAt = *t
	}
	return u, info, nil
}

func parseOptional(s string) (uuid.UUID, error) {
	if s == "" {
		return uuid.Nil, nil
	}
	return uuid.Parse(s)
}

func optional(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	return id.String()
}

// AddToken stores the credentials binding token to u, living the store's
// token lifetime. Adding a token that exists already changes nothing, so a
// fixed token (RESO_ADMIN_TOKEN) can be added at every start. It returns
// the database error, if any.
func (s *Store) AddToken(ctx context.Context, u User, token string) (TokenInfo, error) {
	terr, err := json.Marshal(u.Territories)
	if err != nil {
		return TokenInfo{}, fmt.Errorf("add token: %w", err)
	}
	if u.Territories == nil {
		terr = []byte("[]")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return TokenInfo{}, fmt.Errorf("add token: %w", err)
	}
	now := s.now().UTC()
	info := TokenInfo{ID: id.String(), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.ttl)}
	_, err = s.db.Exec(ctx, `
		INSERT INTO reso_credentials (token_hash, user_id, name, role, organisation_id, referent_id, territories, created_at, token_id, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (token_hash) DO NOTHING`,
		HashToken(token), u.ID.String(), u.Name, string(u.Role), optional(u.OrganisationID), optional(u.ReferentID),
		string(terr), stamp(now), info.ID, stamp(info.ExpiresAt))
	if err != nil {
		return TokenInfo{}, fmt.Errorf("add token for %s: %w", u.ID, err)
	}
	return info, nil
}

// IssueToken creates a new token for an existing user and returns it; it is
// shown once and only its hash is kept. It returns the database error, if any.
func (s *Store) IssueToken(ctx context.Context, u User) (string, error) {
	tok, _, err := s.NewToken(ctx, u)
	return tok, err
}

// NewToken is IssueToken, with what may be shown of the new token.
func (s *Store) NewToken(ctx context.Context, u User) (string, TokenInfo, error) {
	tok, err := NewToken()
	if err != nil {
		return "", TokenInfo{}, err
	}
	info, err := s.AddToken(ctx, u, tok)
	if err != nil {
		return "", TokenInfo{}, err
	}
	return tok, info, nil
}

// Tokens lists a user's tokens, the newest first, revoked and expired ones
// included. It returns the database error, if any.
func (s *Store) Tokens(ctx context.Context, userID uuid.UUID) ([]TokenInfo, error) {
	rows, err := s.db.SQL().QueryContext(ctx,
		`SELECT `+credentialColumns+` FROM reso_credentials WHERE user_id = $1 ORDER BY created_at DESC, token_id`, userID.String())
	if err != nil {
		return nil, fmt.Errorf("list tokens of %s: %w", userID, err)
	}
	defer rows.Close()
	out := []TokenInfo{}
	for rows.Next() {
		_, info, err := scanCredential(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens of %s: %w", userID, err)
	}
	return out, nil
}

// Token returns what may be shown of one token, whose owner it names. It
// returns ErrNotFound for an unknown id.
func (s *Store) Token(ctx context.Context, tokenID string) (TokenInfo, error) {
	_, info, err := scanCredential(s.db.SQL().QueryRowContext(ctx,
		`SELECT `+credentialColumns+` FROM reso_credentials WHERE token_id = $1`, tokenID))
	if errors.Is(err, sql.ErrNoRows) {
		return TokenInfo{}, ErrNotFound
	}
	return info, err
}

// Revoke ends a token now. This process refuses it at once; other replicas
// within CacheTTL. Revoking a revoked token changes nothing. It returns
// ErrNotFound for an unknown id, or the database error.
func (s *Store) Revoke(ctx context.Context, tokenID string) (TokenInfo, error) {
	if _, err := s.db.Exec(ctx, `UPDATE reso_credentials SET revoked_at = $1 WHERE token_id = $2 AND revoked_at IS NULL`,
		stamp(s.now()), tokenID); err != nil {
		return TokenInfo{}, fmt.Errorf("revoke token %s: %w", tokenID, err)
	}
	info, err := s.Token(ctx, tokenID)
	if err != nil {
		return TokenInfo{}, err
	}
	s.mu.Lock()
	for h, c := range s.cache {
		if c.user.TokenID == tokenID {
			delete(s.cache, h)
		}
	}
	s.mu.Unlock()
	return info, nil
}

// Register appends ev (a validated UserRegistered) to the user's stream and
// issues the user's first token. It returns the store's error (an
// eventstore.ErrConcurrency when the user exists) or the database error.
func (s *Store) Register(ctx context.Context, ev domain.UserRegistered, id uuid.UUID, meta eventstore.Metadata) (string, eventstore.Position, error) {
	typ, ver, data, err := domain.Marshal(ev)
	if err != nil {
		return "", eventstore.Position{}, err
	}
	res, err := s.events.Append(ctx, domain.UserStream(ev.UserID), eventstore.NoStream,
		eventstore.NewEvent{ID: id, Type: typ, SchemaVersion: ver, Data: data, Metadata: meta})
	if err != nil {
		return "", eventstore.Position{}, fmt.Errorf("register user %s: %w", ev.UserID, err)
	}
	tok, err := s.IssueToken(ctx, UserFromEvent(ev))
	if err != nil {
		return "", eventstore.Position{}, err
	}
	return tok, res.Position, nil
}

// UserFromEvent is the principal data a UserRegistered event gives.
func UserFromEvent(ev domain.UserRegistered) User {
	return User{
		ID: ev.UserID, Name: ev.Name, Role: ev.Role, OrganisationID: ev.OrganisationID,
		ReferentID: ev.ReferentID, Territories: ev.Territories,
	}
}
