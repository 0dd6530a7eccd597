package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/internal/auth"
	"github.com/reso-fr/reso/sqlmigrate"
)

func mustStore(t *testing.T) (*auth.Store, *sqlite.Store) {
	t.Helper()
	s, events, _ := mustStoreDB(t)
	return s, events
}

// mustStoreDB is mustStore with the database, for a second store on it.
func mustStoreDB(t *testing.T) (*auth.Store, *sqlite.Store, *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	events, err := sqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })
	if err := auth.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	s, err := auth.New(ctx, db, events)
	if err != nil {
		t.Fatal(err)
	}
	return s, events, db
}

func TestTokens(t *testing.T) {
	t.Parallel()
	a, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := auth.NewToken()
	if a == b || !strings.HasPrefix(a, "reso_") || len(a) < 40 {
		t.Errorf("tokens %q %q: want distinct, prefixed, 256-bit", a, b)
	}
	h := auth.HashToken(a)
	if h == a || strings.Contains(h, a[5:]) || len(h) != 64 || h != auth.HashToken(a) || h == auth.HashToken(b) {
		t.Errorf("hash %q of %q is not a stable SHA-256 hex", h, a)
	}
}

func TestRegisterAuthenticate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, events := mustStore(t)
	id := uuid.New()
	ev, err := domain.RegisterUser(domain.UserRegistration{
		UserID: id, Name: "Ana Animatrice", Email: "ana@example.fr", Role: domain.RoleAnimateur,
		Territories: []domain.Zone{{Level: domain.LevelDepartement, Code: "59"}},
	}, nil, domain.Actor{ID: uuid.New(), Role: domain.RoleAdmin}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok, pos, err := s.Register(ctx, ev, uuid.New(), eventstore.Metadata{ActorRole: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if pos.IsZero() {
		t.Error("no position")
	}
	u, err := s.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != id || u.Role != domain.RoleAnimateur || len(u.Territories) != 1 || u.Territories[0].Code != "59" || u.Name != "Ana Animatrice" {
		t.Errorf("user = %+v", u)
	}
	got, err := events.ReadStream(ctx, domain.UserStream(id), 1, 0)
	if err != nil || len(got) != 1 || got[0].Type != domain.TypeUserRegistered {
		t.Errorf("user stream = %v, %v", got, err)
	}
	for _, bad := range []string{"", "reso_nope", tok + "x", strings.ToUpper(tok)} {
		if _, err := s.Authenticate(ctx, bad); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("Authenticate(%q) = %v, want ErrUnauthenticated", bad, err)
		}
	}
	// Registering the same user again is refused by the log.
	if _, _, err := s.Register(ctx, ev, uuid.New(), eventstore.Metadata{}); !errors.Is(err, eventstore.ErrConcurrency) {
		t.Errorf("second register: %v, want ErrConcurrency", err)
	}
}

func TestEnsureAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, events := mustStore(t)
	const tok = "reso_admin_from_env_0123456789abcdef"
	id1, err := s.EnsureAdmin(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := s.EnsureAdmin(ctx, tok) // a restart
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 {
		t.Errorf("second start made another admin: %s vs %s", id1, id2)
	}
	u, err := s.Authenticate(ctx, tok)
	if err != nil || u.Role != domain.RoleAdmin || u.ID != id1 {
		t.Errorf("Authenticate = %+v, %v", u, err)
	}
	all, err := events.ReadAll(ctx, eventstore.Start, 0)
	if err != nil || len(all) != 1 {
		t.Errorf("log holds %d events (%v), want one UserRegistered", len(all), err)
	}
	for _, weak := range []string{"", "admin", "0123456789abcdefghi"} {
		if _, err := s.EnsureAdmin(ctx, weak); !errors.Is(err, auth.ErrWeakToken) {
			t.Errorf("EnsureAdmin(%q) = %v, want ErrWeakToken", weak, err)
		}
	}
}

// A store on a database nobody migrated is refused with ErrPending.
func TestNewWantsMigratedTables(t *testing.T) {
	t.Parallel()
	db, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := auth.New(context.Background(), db, nil); !errors.Is(err, sqlmigrate.ErrPending) {
		t.Fatalf("New on an unmigrated database: %v, want ErrPending", err)
	}
}
