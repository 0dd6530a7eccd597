package backend_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/auth"
	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/keys"
)

// On SQLite, the log, the keys and the credentials write through one gate,
// so that a long writer (a rebuild of the read models) hands the file's
// lock to them in turn: none of them writes while the gate is held, and
// all do once it is given back.
func TestSQLiteWritersShareTheGate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, err := backend.Open(ctx, backend.Config{DataDir: filepath.Join(t.TempDir(), "data")})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.WriteGate == nil {
		t.Fatal("no write gate on SQLite")
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
			return b.Auth.AddToken(ctx, auth.User{ID: uuid.New(), Name: "A", Role: domain.RoleAdmin}, uuid.NewString())
		},
	}
	b.WriteGate.Lock()
	done := make(chan string, len(writes))
	failed := make(chan error, len(writes))
	for name, w := range writes {
		go func() {
			if err := w(); err != nil {
				failed <- err
				return
			}
			done <- name
		}()
	}
	select {
	case name := <-done:
		b.WriteGate.Unlock()
		t.Fatalf("%s wrote while the gate was held", name)
	case err := <-failed:
		b.WriteGate.Unlock()
		t.Fatal(err)
	case <-time.After(300 * time.Millisecond):
	}
	b.WriteGate.Unlock()
	for range writes {
		select {
		case <-done:
		case err := <-failed:
			t.Fatal(err)
		case <-time.After(10 * time.Second):
			t.Fatal("a write never finished after the gate was given back")
		}
	}
}
