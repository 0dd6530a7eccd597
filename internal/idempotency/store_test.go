package idempotency_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/eventstore/sqlite/sqlitetest"
	"github.com/reso-fr/reso/internal/idempotency"
	"github.com/reso-fr/reso/sqlmigrate"
)

// On the embedded SQLite file, every write of the idempotency records
// takes its turn among the file's writers (its DB's gate).
func TestIdempotencyWritesHoldTheGate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "idem.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if err := idempotency.Migrate(ctx, file); err != nil {
		t.Fatal(err)
	}
	s, err := idempotency.New(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	writes := map[string]func() error{
		"reserve": func() error { _, err := s.Reserve(ctx, "p", "k1", "h", time.Now()); return err },
		"complete": func() error {
			return s.Complete(ctx, "p", "k2", idempotency.Record{Status: 201, Headers: "{}"})
		},
		"release":      func() error { return s.Release(ctx, "p", "k3") },
		"releaseStale": func() error { return s.ReleaseStale(ctx, "p", "k4", time.Now()) },
		"purge":        func() error { _, err := s.Purge(ctx, time.Now()); return err },
	}
	sqlitetest.MustTakeTurns(t, file, writes)
}

// A sealed body opens under its key only: another token or another
// idempotency key gets ErrSealed, never the plaintext.
func TestSealOpensUnderItsKeyOnly(t *testing.T) {
	t.Parallel()
	plain := []byte(`{"token":"reso_secret"}`)
	k := idempotency.SealKey("token-a", "key-1")
	sealed, err := idempotency.Seal(k, plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("reso_secret")) {
		t.Fatalf("sealed body %q holds the plaintext", sealed)
	}
	got, err := idempotency.Open(k, sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v; want %q", got, err, plain)
	}
	for _, other := range [][]byte{idempotency.SealKey("token-b", "key-1"), idempotency.SealKey("token-a", "key-2")} {
		if got, err := idempotency.Open(other, sealed); !errors.Is(err, idempotency.ErrSealed) {
			t.Fatalf("Open under another key = %q, %v; want ErrSealed", got, err)
		}
	}
	if _, err := idempotency.Open(k, sealed[:5]); !errors.Is(err, idempotency.ErrSealed) {
		t.Fatalf("Open of a truncated body: %v, want ErrSealed", err)
	}
}

// A store on a database nobody migrated is refused with ErrPending.
func TestNewWantsMigratedTables(t *testing.T) {
	t.Parallel()
	db, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "idem.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := idempotency.New(context.Background(), db); !errors.Is(err, sqlmigrate.ErrPending) {
		t.Fatalf("New on an unmigrated database: %v, want ErrPending", err)
	}
}

// Purge deletes the records created before its cutoff, finished or
// pending, and leaves the younger ones.
func TestPurgeForgetsOldRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "idem.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if err := idempotency.Migrate(ctx, file); err != nil {
		t.Fatal(err)
	}
	s, err := idempotency.New(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old, young := now.Add(-idempotency.TTL-time.Hour), now.Add(-time.Hour)
	for _, r := range []struct {
		key  string
		at   time.Time
		done bool
	}{{"old-done", old, true}, {"old-pending", old, false}, {"young-done", young, true}, {"young-pending", young, false}} {
		if ok, err := s.Reserve(ctx, "p", r.key, "h", r.at); err != nil || !ok {
			t.Fatalf("reserve %s: %v %v", r.key, ok, err)
		}
		if r.done {
			if err := s.Complete(ctx, "p", r.key, idempotency.Record{Status: 201, Headers: "{}"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	n, err := s.Purge(ctx, now.Add(-idempotency.TTL))
	if err != nil || n != 2 {
		t.Fatalf("Purge = %d, %v; want 2 deleted", n, err)
	}
	for key, kept := range map[string]bool{"old-done": false, "old-pending": false, "young-done": true, "young-pending": true} {
		_, err := s.Get(ctx, "p", key)
		if got := err == nil; got != kept {
			t.Errorf("%s kept = %v (err %v), want %v", key, got, err, kept)
		}
	}
}
