package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/reso-fr/reso/sqldb"
)

// relay writes a bulk load (a rebuild's flush of the read models) as a
// run of short transactions rather than one long one. The file has a
// single write lock, which the application's appends need too: a flush of
// 200,000 events' worth of rows held it for over a second, and its Go work
// between statements (the statistics of every need it writes) held it
// longer still, while the appends made meanwhile waited. A relay takes the
// lock, through the gate, only to run statements: before the first
// statement after a pause, and it gives it back once it has held it
// relaySlice, or when the writer pauses to compute (between two tables),
// so that a waiting writer goes first.
//
// Its writes are not atomic, which a rebuild's tables allow: nobody reads
// them before the swap, and a rebuild that fails starts again from empty
// ones. Writers whose rows must commit together (a projection's rows and
// checkpoint) use WriteTx.
//
// The relay runs BEGIN and COMMIT as statements on a connection of its
// own, so that the statements prepared on that connection outlive each
// slice. It is the one writer, besides the store's own, that waits for the
// gate while holding a connection (the others take the gate first: its
// holder may need one of the pool's few connections); its users run one
// relay at a time to keep it so. Its connection gets a page cache large
// enough for the tables a rebuild fills, and its own size back on Close.
type relay struct {
	conn  *sql.Conn
	gate  sync.Locker
	open  bool
	began time.Time
	usual int // the connection's cache_size before the relay
}

// relaySlice is how long a relay's transaction may hold the write lock
// before it lets others in.
const relaySlice = 20 * time.Millisecond

// relayCacheKiB is the page cache, in SQLite's negative KiB, of a relay's
// connection: the tables a rebuild fills fit in it.
const relayCacheKiB = -262144 // 256 MiB

// Relay takes a connection for a relayed writer (see relay). It returns
// the driver's error.
func (d *DB) Relay(ctx context.Context) (sqldb.Relay, error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	r := &relay{conn: conn, gate: &d.gate}
	if err := conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&r.usual); err != nil {
		conn.Close()
		return nil, fmt.Errorf("cache size: %w", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size=%d", relayCacheKiB)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("cache size: %w", err)
	}
	return r, nil
}

// Conn is the relay's connection.
func (r *relay) Conn() *sql.Conn { return r.conn }

// Write makes sure a slice is open before a statement that writes: it
// takes the gate and SQLite's write lock, trying again while another
// process holds it (see beginRetryingBusy).
func (r *relay) Write(ctx context.Context) error {
	if r.open {
		return nil
	}
	r.gate.Lock()
	deadline := time.Now().Add(busyPatience)
	for {
		_, err := r.conn.ExecContext(ctx, `BEGIN IMMEDIATE`)
		if err == nil {
			r.open, r.began = true, time.Now()
			return nil
		}
		// The driver notices a cancelled context after the statement may
		// have run: end a transaction BEGIN may have opened before the
		// gate goes to someone else.
		r.rollback()
		if !isBusy(err) || time.Now().After(deadline) {
			r.gate.Unlock()
			return fmt.Errorf("begin: %w", err)
		}
		select {
		case <-ctx.Done():
			r.gate.Unlock()
			return fmt.Errorf("begin: %w", err)
		case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
		}
	}
}

// rollback ends the connection's transaction, if any; its error ("no
// transaction is active") says nothing worth reporting.
func (r *relay) rollback() {
	_, _ = r.conn.ExecContext(context.Background(), `ROLLBACK`)
}

// Pause commits the open slice, if any, and gives the gate back.
func (r *relay) Pause(ctx context.Context) error {
	if !r.open {
		return nil
	}
	if _, err := r.conn.ExecContext(ctx, `COMMIT`); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	r.open = false
	r.gate.Unlock()
	return nil
}

// Breathe, after a statement, pauses once the slice has held the lock for
// relaySlice.
func (r *relay) Breathe(ctx context.Context) error {
	if r.open && time.Since(r.began) >= relaySlice {
		return r.Pause(ctx)
	}
	return nil
}

// Close rolls back what is uncommitted (after an error) and gives the
// connection back with its usual cache, or, when failed, closes it: a
// statement the context interrupted may leave a connection in a state no
// ROLLBACK repairs, and a pooled connection holding SQLite's write lock
// would stop every writer.
func (r *relay) Close(failed bool) {
	r.rollback()
	if r.open {
		r.open = false
		r.gate.Unlock()
	}
	if failed {
		_ = r.conn.Raw(func(any) error { return driver.ErrBadConn }) // database/sql then closes it
	} else {
		_, _ = r.conn.ExecContext(context.Background(), fmt.Sprintf("PRAGMA cache_size=%d", r.usual)) // at worst the connection keeps a larger cache
	}
	r.conn.Close()
}
