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

// ErrUnauthenticated means the token is unknown.
var ErrUnauthenticated = errors.New("unauthenticated")

// User is who a token authenticates.
type User struct {
	ID             uuid.UUID
	Name           string
	Role           domain.Role
	OrganisationID uuid.UUID
	ReferentID     uuid.UUID
	Territories    []domain.Zone
}

// CacheTTL bounds how long a token stays valid in memory after its row was
// read: a revoked token may still work that long on a replica.
const CacheTTL = 30 * time.Second

// Store authenticates tokens and registers users. It is safe for concurrent
// use.
type Store struct {
	db     sqldb.DB
	events eventstore.Store
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	user    User
	expires time.Time
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
	return &Store{db: db, events: events, now: time.Now, cache: map[string]cached{}}, nil
}

// Authenticate returns the user a token belongs to, or ErrUnauthenticated.
// Rows are cached for CacheTTL so that a request costs no query.
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
	u, err := s.lookup(ctx, h)
	if err != nil {
		return User{}, err
	}
	s.mu.Lock()
	if len(s.cache) > 10000 {
		// Bound memory: dropping everything is rare and only costs queries.
		s.cache = map[string]cached{}
	}
	s.cache[h] = cached{user: u, expires: now.Add(CacheTTL)}
	s.mu.Unlock()
	return u, nil
}

func (s *Store) lookup(ctx context.Context, hash string) (User, error) {
	var userID, name, role, org, ref, terr string
	err := s.db.SQL().QueryRowContext(ctx,
		`SELECT user_id, name, role, organisation_id, referent_id, territories FROM reso_credentials WHERE token_hash = $1`,
		hash).Scan(&userID, &name, &role, &org, &ref, &terr)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrUnauthenticated
	}
	if err != nil {
		return User{}, fmt.Errorf("look up token: %w", err)
	}
	u := User{Name: name, Role: domain.Role(role)}
	if u.ID, err = uuid.Parse(userID); err != nil {
		return User{}, fmt.Errorf("credentials user id %q: %w", userID, err)
	}
	if u.OrganisationID, err = parseOptional(org); err != nil {
		return User{}, fmt.Errorf("credentials organisation id: %w", err)
	}
	if u.ReferentID, err = parseOptional(ref); err != nil {
		return User{}, fmt.Errorf("credentials referent id: %w", err)
	}
	if err := json.Unmarshal([]byte(terr), &u.Territories); err != nil {
		return User{}, fmt.Errorf("credentials territories: %w", err)
	}
	return u, nil
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

// AddToken stores the credentials binding token to u. Adding a token that
// exists already is a no-op, so a fixed token (RESO_ADMIN_TOKEN) can be
// added at every start. It returns the database error, if any.
func (s *Store) AddToken(ctx context.Context, u User, token string) error {
	terr, err := json.Marshal(u.Territories)
	if err != nil {
		return fmt.Errorf("add token: %w", err)
	}
	if u.Territories == nil {
		terr = []byte("[]")
	}
	_, err = s.db.Exec(ctx, `
		INSERT INTO reso_credentials (token_hash, user_id, name, role, organisation_id, referent_id, territories, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (token_hash) DO NOTHING`,
		HashToken(token), u.ID.String(), u.Name, string(u.Role), optional(u.OrganisationID), optional(u.ReferentID),
		string(terr), s.now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("add token for %s: %w", u.ID, err)
	}
	return nil
}

// IssueToken creates a new token for an existing user and returns it; it is
// shown once and only its hash is kept. It returns the database error, if any.
func (s *Store) IssueToken(ctx context.Context, u User) (string, error) {
	tok, err := NewToken()
	if err != nil {
		return "", err
	}
	if err := s.AddToken(ctx, u, tok); err != nil {
		return "", err
	}
	return tok, nil
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
