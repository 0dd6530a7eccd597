package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/reso-fr/reso/sqldb"
)

// A relayed flush gives SQLite's write lock back every relaySlice: a writer
// that waits for the gate meanwhile writes before the flush ends, instead
// of after it (or after busy_timeout, had the relay kept its transaction).
func TestRelayLetsWaitingWritersIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, r := mustRelay(t)
	defer r.Close(false)
	// A statement of the relayed writer.
	exec := func(q string, args ...any) error {
		if err := r.Write(ctx); err != nil {
			return err
		}
		if _, err := r.Conn().ExecContext(ctx, q, args...); err != nil {
			return err
		}
		return r.Breathe(ctx)
	}

	started := make(chan struct{})
	wrote := make(chan time.Time, 1)
	failed := make(chan error, 1)
	go func() {
		<-started
		if _, err := db.Exec(ctx, `INSERT INTO t VALUES (-1)`); err != nil {
			failed <- err
			return
		}
		wrote <- time.Now()
	}()
	start := time.Now()
	for i := 0; time.Since(start) < 20*relaySlice; i++ {
		if err := exec(`INSERT INTO t VALUES ($1)`, i); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			close(started)
		}
	}
	if err := r.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	select {
	case at := <-wrote:
		if !at.Before(end) {
			t.Fatalf("the waiting writer wrote %v after the flush ended", at.Sub(end))
		}
	case err := <-failed:
		t.Fatalf("the waiting writer failed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting writer never wrote")
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("%d rows, want the flush's and the writer's", n)
	}
}

// After a failure, Close rolls the open slice back and gives the gate back.
func TestRelayCloseRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, r := mustRelay(t)
	if err := r.Write(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Conn().ExecContext(ctx, `INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	if db.gate.TryLock() {
		t.Fatal("the gate is free while the relay writes")
	}
	r.Close(true)
	if !db.gate.TryLock() {
		t.Fatal("Close kept the gate")
	}
	db.gate.Unlock()
	var n int
	if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d rows after close, want the slice rolled back", n)
	}
}

// mustRelay opens a SQLite file with a table t (x INTEGER) and a relay on
// it.
func mustRelay(t *testing.T) (*DB, sqldb.Relay) {
	t.Helper()
	ctx := context.Background()
	db, err := OpenDB(filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(ctx, `CREATE TABLE t (x INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	r, err := db.Relay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return db, r
}
