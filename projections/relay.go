package projections

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// relay writes a rebuild's flush on SQLite as a run of short transactions
// rather than one long one. The file has a single write lock, which the
// application's appends need too: a flush of 200,000 events' worth of rows
// held it for over a second, and its Go work between statements (the
// statistics of every need it writes) held it longer still, while the
// appends made meanwhile waited. A relay takes the lock, through the
// engine's write gate, only to run statements: before the first statement
// after a pause, and it gives it back once it has held it relaySlice, or
// when the flush pauses to compute (between two tables), so that a waiting
// writer goes first.
//
// A flush of rebuild tables needs no atomicity: nobody reads those tables
// before the swap, and a rebuild that fails starts again from empty ones.
// Live runners never use a relay: their rows and checkpoint commit
// together.
//
// The relay runs BEGIN and COMMIT as statements on a connection of its
// own, so that the statements prepared on that connection outlive each
// slice. It is the one writer, besides the store's own, that waits for the
// gate while holding a connection (the others take the gate first: its
// holder may need one of the pool's few connections), and a rebuild runs
// one relay at a time (its flushes take turns) to keep it so.
type relay struct {
	conn  *sql.Conn
	gate  sync.Locker
	open  bool
	began time.Time
}

// relaySlice is how long a relay's transaction may hold the write lock
// before it lets others in.
const relaySlice = 20 * time.Millisecond

// openRelay takes a connection for a relay. It returns the database error.
func (e *Engine) openRelay(ctx context.Context) (*relay, error) {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &relay{conn: conn, gate: e.gate}, nil
}

// write makes sure a slice is open before a statement that writes: it
// takes the gate and SQLite's write lock, trying again while another
// process holds it (see beginRetryingBusy).
func (r *relay) write(ctx context.Context) error {
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

// pause commits the open slice, if any, and gives the gate back.
func (r *relay) pause(ctx context.Context) error {
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

// breathe, after a statement, pauses once the slice has held the lock for
// relaySlice.
func (r *relay) breathe(ctx context.Context) error {
	if r.open && time.Since(r.began) >= relaySlice {
		return r.pause(ctx)
	}
	return nil
}

// close rolls back what is uncommitted (after an error) and gives the
// connection back, or, when failed, closes it: a statement the context
// interrupted may leave a connection in a state no ROLLBACK repairs, and a
// pooled connection holding SQLite's write lock would stop every writer.
func (r *relay) close(failed bool) {
	r.rollback()
	if r.open {
		r.open = false
		r.gate.Unlock()
	}
	if failed {
		_ = r.conn.Raw(func(any) error { return driver.ErrBadConn }) // database/sql then closes it
	}
	r.conn.Close()
}
