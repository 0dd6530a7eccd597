package backend_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/testwait"
	"github.com/reso-fr/reso/sqldb"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		cfg     func(t *testing.T) backend.Config
		dialect sqldb.Dialect
	}{
		{"sqlite", func(t *testing.T) backend.Config {
			return backend.Config{DataDir: filepath.Join(t.TempDir(), "data"), Masters: mustMasters(t)}
		}, sqldb.SQLite},
		{"postgres", func(t *testing.T) backend.Config {
			return backend.Config{DatabaseURL: pgtest.MustSchema(t), Masters: mustMasters(t)}
		}, sqldb.Postgres},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg := c.cfg(t)
			b, err := backend.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if b.DB.Dialect() != c.dialect || b.Projections == nil || b.Keys == nil || b.Auth == nil {
				t.Errorf("backend = %+v", b)
			}
			if err := b.Ready(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Events.Append(ctx, "user-"+uuid.NewString(), eventstore.NoStream,
				eventstore.NewEvent{Type: "Probe", Data: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
			sc, err := b.Keys.Seal(ctx, uuid.New(), "73282932000074", keys.Contact{Email: "a@b.fr"})
			if err != nil {
				t.Fatal(err)
			}
			// A command that opens the storage keeps no key in memory; a
			// serving process asks for it, and gets it on PostgreSQL only.
			if b.Keys.Caching() {
				t.Error("keys kept in memory without WatchKeyErasures")
			}
			b.WatchKeyErasures(nil)
			if c.dialect == sqldb.Postgres {
				testwait.MustEventually(t, 10*time.Second, func() error {
					if !b.Keys.Caching() {
						return errors.New("no keys kept in memory after WatchKeyErasures")
					}
					return nil
				})
			} else if b.Keys.Caching() {
				t.Error("keys kept in memory on SQLite")
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if b.Keys.Caching() {
				t.Error("keys still kept in memory after Close")
			}
			// Reopening the same storage migrates again (idempotent) and
			// finds the data.
			b2, err := backend.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer b2.Close()
			// On PostgreSQL an event becomes visible once every older
			// transaction of the server has ended: other tests may hold one.
			testwait.MustEventually(t, 10*time.Second, func() error {
				head, err := b2.Events.Head(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if head.IsZero() {
					return errors.New("the appended event is not visible after reopen")
				}
				return nil
			})
			if c, err := b2.Keys.Open(ctx, sc); err != nil || c.Email != "a@b.fr" {
				t.Errorf("key after reopen: %+v, %v", c, err)
			}
		})
	}
}

func TestOpenBadConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []backend.Config{
		{},
		{DatabaseURL: "mysql://x"},
		{EventStoreURL: "kurrentdb://localhost:2113"},
		{EventStoreURL: "http://x", DatabaseURL: "postgres://x"},
	} {
		if _, err := backend.Open(context.Background(), cfg); !errors.Is(err, backend.ErrConfig) {
			t.Errorf("Open(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
}

// mustMasters is one fresh master key.
func mustMasters(t *testing.T) []*keys.Master {
	t.Helper()
	m, err := keys.GenerateMaster()
	if err != nil {
		t.Fatal(err)
	}
	return []*keys.Master{m}
}
