package projections

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/reso-fr/reso/eventstore/sqlite"
)

// A relayed flush gives SQLite's write lock back every relaySlice: a writer
// that waits for the gate meanwhile writes before the flush ends, instead
// of after it (or after busy_timeout, had the relay kept its transaction).
func TestRelayLetsWaitingWritersIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, gate, r := mustRelay(t)
	defer r.close(false)
	tx := Txn{d: DialectSQLite, db: db, conn: r.conn, relay: r}

	started := make(chan struct{})
	wrote := make(chan time.Time, 1)
	failed := make(chan error, 1)
	go func() {
		<-started
		gate.Lock()
		defer gate.Unlock()
		if _, err := db.ExecContext(ctx, `INSERT INTO t VALUES (-1)`); err != nil {
			failed <- err
			return
		}
		wrote <- time.Now()
	}()
	start := time.Now()
	for i := 0; time.Since(start) < 20*relaySlice; i++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO t VALUES ($1)`, i); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			close(started)
		}
	}
	if err := r.pause(ctx); err != nil {
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
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("%d rows, want the flush's and the writer's", n)
	}
}

// After a failure, close rolls the open slice back and gives the gate back.
func TestRelayCloseRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, gate, r := mustRelay(t)
	tx := Txn{d: DialectSQLite, db: db, conn: r.conn, relay: r}
	if _, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	if gate.TryLock() {
		t.Fatal("the gate is free while the relay writes")
	}
	r.close(true)
	if !gate.TryLock() {
		t.Fatal("close kept the gate")
	}
	gate.Unlock()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d rows after close, want the slice rolled back", n)
	}
}

// mustRelay opens a SQLite file with a table t (x INTEGER) and a relay on
// it, behind the returned gate.
func mustRelay(t *testing.T) (*sql.DB, *sync.Mutex, *relay) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (x INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	gate := new(sync.Mutex)
	r, err := (&Engine{db: db, dialect: DialectSQLite, gate: gate}).openRelay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return db, gate, r
}
