package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/reso-fr/reso/sqldb"
)

// The gate: every writer of the file in this process — the store's group
// commits, the read models' batches, a rebuild's relayed slices, index
// builds and swap, the keys, credentials and idempotency records — holds
// DB.gate around each write transaction. SQLite's own lock is not fair: a
// writer waiting in busy_timeout sleeps and polls, and one that commits
// and begins again at once keeps the lock from it for as long as it has
// work (a rebuild, for seconds), whereas a sync.Mutex hands itself to a
// goroutine that has waited more than a millisecond, in arrival order.
// Writers take the gate before a connection, so that none holds one of the
// pool's few connections while it waits; only the store's writer (its own
// connection) and a relay (see relay.go) hold one while they wait. The
// gate is not reentrant: a writer holding it must not write through the
// DB again.

// Exec runs one statement that writes, holding the gate. It returns the
// driver's error.
func (d *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	d.gate.Lock()
	defer d.gate.Unlock()
	return d.db.ExecContext(ctx, query, args...)
}

// WriteTx runs fn in a write transaction holding the gate: it takes the
// gate, then a connection, then begins (IMMEDIATE, trying again while
// another process holds the file's lock; see beginRetryingBusy), and
// commits when fn returns nil. It returns fn's error, or the driver's
// error of BEGIN or COMMIT.
func (d *DB) WriteTx(ctx context.Context, fn func(tx *sqldb.Tx) error) error {
	d.gate.Lock()
	defer d.gate.Unlock()
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := beginRetryingBusy(ctx, conn)
	if err != nil {
		return err
	}
	return sqldb.Finish(&sqldb.Tx{Tx: tx, Conn: conn}, fn)
}

// HoldWrites makes every writer of the file in this process wait until
// release is called, without taking the file's lock: tests use it to show
// that a writer goes through the DB. release must be called once.
func (d *DB) HoldWrites() (release func()) {
	d.gate.Lock()
	return d.gate.Unlock
}

// busyPatience bounds how long a writer keeps retrying BEGIN while another
// connection holds SQLite's write lock.
const busyPatience = 30 * time.Second

// beginRetryingBusy begins a transaction on conn, trying again while SQLite
// answers SQLITE_BUSY. SQLite's own busy handler (busy_timeout) is not fair:
// on a loaded machine one of several waiters — another process's writers
// among them, which the gate does not order — can lose for longer than its
// timeout, and a projection runner that fails shows as failed until it
// restarts. The retry is safe because read-write transactions begin
// IMMEDIATE: the write lock is taken at BEGIN, so nothing has been written
// when it is refused. It returns the last error once ctx ends or
// busyPatience has passed.
func beginRetryingBusy(ctx context.Context, conn *sql.Conn) (*sql.Tx, error) {
	deadline := time.Now().Add(busyPatience)
	for {
		tx, err := conn.BeginTx(ctx, nil)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return tx, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (primary code 5),
// through the Code method of the driver's error type.
func isBusy(err error) bool {
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == 5
}
