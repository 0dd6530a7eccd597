package backend_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/eventstore/sqlite/sqlitetest"
	"github.com/reso-fr/reso/internal/auth"
	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/keys"
)

// On SQLite, the log, the keys, the credentials, the idempotency records
// and the read models write through the one DB, whose gate makes them take
// turns, so that a long writer (a rebuild of the read models) hands the
// file's lock to them in turn: none of them writes while the writers are
// held, and all do once they are let go.
func TestSQLiteWritersShareTheGate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, err := backend.Open(ctx, backend.Config{DataDir: filepath.Join(t.TempDir(), "data"), Masters: mustMasters(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	file, ok := b.DB.(*sqlite.DB)
	if !ok {
		t.Fatalf("the SQLite backend's DB is a %T", b.DB)
	}
	writes := map[string]func() error{
		"append": func() error {
			_, err := b.Events.Append(ctx, "user-"+uuid.NewString(), eventstore.NoStream,
				eventstore.NewEvent{Type: "Probe", Data: []byte(`{}`)})
			return err
		},
		"seal": func() error {
			_, err := b.Keys.Seal(ctx, uuid.New(), "73282932000074", keys.Contact{Email: "a@b.fr"})
			return err
		},
		"token": func() error {
			_, err := b.Auth.AddToken(ctx, auth.User{ID: uuid.New(), Name: "A", Role: domain.RoleAdmin}, uuid.NewString())
			return err
		},
		"idempotency": func() error {
			_, err := b.Idempotency.Reserve(ctx, uuid.NewString(), "k", "h", time.Now())
			return err
		},
		"read models": func() error { return b.Projections.Reset(ctx) },
	}
	sqlitetest.MustTakeTurns(t, file, writes)
}
