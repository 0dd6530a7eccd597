package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/eventstoretest"
	"github.com/reso-fr/reso/eventstore/sqlite"
)

func mustAppend(t testing.TB, s eventstore.Store, stream string, exp eventstore.ExpectedVersion, n int) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(t.Context(), stream, exp, eventstoretest.BenchEvents(t, n)...)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return res
}

func TestOpenDBSettings(t *testing.T) {
	t.Parallel()
	db, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"wal_autocheckpoint", "10000"},
	}
	for _, tt := range tests {
		var got string
		if err := db.SQL().QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatalf("pragma %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("pragma %s = %s, want %s", tt.pragma, got, tt.want)
		}
	}
}

func TestOpenDBBadPath(t *testing.T) {
	t.Parallel()
	if _, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "missing-dir", "x.db")); err == nil {
		t.Fatal("opened a file in a directory that does not exist")
	}
}

// TestSharedDB puts two stores on one DB: migrations apply once, and
// closing a store leaves the caller's database open.
func TestSharedDB(t *testing.T) {
	t.Parallel()
	db, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "shared.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	a, err := sqlite.New(t.Context(), db)
	if err != nil {
		t.Fatalf("new a: %v", err)
	}
	mustAppend(t, a, "s", eventstore.NoStream, 2)
	if err := a.Close(); err != nil {
		t.Fatalf("close a: %v", err)
	}
	b, err := sqlite.New(t.Context(), db)
	if err != nil {
		t.Fatalf("new b on a migrated file: %v", err)
	}
	defer b.Close()
	if res := mustAppend(t, b, "s", eventstore.Exactly(2), 1); res.FirstVersion != 3 {
		t.Fatalf("append on b: %+v, want version 3", res)
	}
	var migrations int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM eventstore_migrations`).Scan(&migrations); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	if migrations != 1 {
		t.Errorf("%d migrations recorded, want 1", migrations)
	}
}

// TestTwoHandles opens the same file twice, as two processes would: both
// append, and a subscriber on one sees the other's events by polling.
func TestTwoHandles(t *testing.T) {
	t.Parallel()
	a, path := mustOpen(t)
	defer a.Close()
	b, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open second handle: %v", err)
	}
	defer b.Close()
	sub, err := a.Subscribe(t.Context(), eventstore.Start)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Close()

	const per = 30
	var wg sync.WaitGroup
	for i, s := range []*sqlite.Store{a, b} {
		wg.Go(func() {
			for j := range per {
				if _, err := s.Append(t.Context(), fmt.Sprintf("h%d-%d", i, j%3), eventstore.AnyVersion, eventstoretest.BenchEvents(t, 2)...); err != nil {
					t.Errorf("handle %d append %d: %v", i, j, err)
					return
				}
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var got []eventstore.Event
	for len(got) < 2*2*per {
		evs, err := sub.Next(ctx, 1000)
		if err != nil {
			t.Fatalf("next after %d events: %v", len(got), err)
		}
		got = append(got, evs...)
	}
	if len(got) != 2*2*per {
		t.Fatalf("subscriber got %d events, want %d", len(got), 2*2*per)
	}
	for i, e := range got {
		if e.Position.Minor != uint64(i+1) {
			t.Fatalf("event %d at position %s: positions have a gap", i, e.Position)
		}
	}
}

// TestGroupIsolation commits concurrent appends together; the ones that
// fail (wrong version) must not take the others down.
func TestGroupIsolation(t *testing.T) {
	t.Parallel()
	s, _ := mustOpen(t)
	defer s.Close()
	// Hold the writer so that the appends below queue up and commit as
	// one group.
	s.SetAppendDelay(func() time.Duration { return 30 * time.Millisecond })
	mustAppend(t, s, "taken", eventstore.NoStream, 1)
	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			exp := eventstore.NoStream
			stream := fmt.Sprintf("g-%d", i)
			if i%4 == 0 {
				stream = "taken" // NoStream on an existing stream: a conflict
			}
			_, errs[i] = s.Append(t.Context(), stream, exp, eventstoretest.BenchEvents(t, 3)...)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i%4 == 0 {
			if !errors.Is(err, eventstore.ErrConcurrency) {
				t.Errorf("append %d: %v, want ErrConcurrency", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("append %d: %v", i, err)
		}
	}
	all, err := s.ReadAll(t.Context(), eventstore.Start, 0)
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	if want := 1 + 3*(n-n/4); len(all) != want {
		t.Fatalf("log has %d events, want %d", len(all), want)
	}
	for i := 1; i < len(all); i++ {
		if all[i].StreamID == all[i-1].StreamID && all[i].Version != all[i-1].Version+1 {
			t.Fatalf("append of %s not contiguous", all[i].StreamID)
		}
	}
}

// TestAbandonedAppend: an append whose context ends while it waits for the
// writer returns the context's error and is never written.
func TestAbandonedAppend(t *testing.T) {
	t.Parallel()
	s, _ := mustOpen(t)
	defer s.Close()
	inside := make(chan struct{})
	var once sync.Once
	s.SetAppendDelay(func() time.Duration {
		once.Do(func() { close(inside) })
		return 300 * time.Millisecond
	})
	slow := make(chan error, 1)
	go func() {
		_, err := s.Append(t.Context(), "slow", eventstore.NoStream, eventstoretest.BenchEvents(t, 1)...)
		slow <- err
	}()
	<-inside // the slow append holds the writer
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := s.Append(ctx, "gave-up", eventstore.NoStream, eventstoretest.BenchEvents(t, 1)...)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("append with a short deadline: %v, want DeadlineExceeded", err)
	}
	if err := <-slow; err != nil {
		t.Fatalf("slow append: %v", err)
	}
	s.SetAppendDelay(nil)
	mustAppend(t, s, "after", eventstore.NoStream, 1) // the writer moved on
	if _, err := s.ReadStream(t.Context(), "gave-up", 1, 0); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("abandoned append was written: %v", err)
	}
}
