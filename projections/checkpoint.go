package projections

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/sqldb"
)

type checkpoint struct {
	pos        eventstore.Position
	generation int64
	lastErr    string
	version    int // the schema version of the live tables (ReadModel.Version)
}

func (e *Engine) readCheckpoint(ctx context.Context, name string) (checkpoint, error) {
	var raw string
	var cp checkpoint
	err := e.db.SQL().QueryRowContext(ctx,
		`SELECT position, generation, last_error, schema_version FROM projection_checkpoints WHERE name=$1`, name).
		Scan(&raw, &cp.generation, &cp.lastErr, &cp.version)
	if errors.Is(err, sql.ErrNoRows) {
		return cp, fmt.Errorf("checkpoint of %s: %w (run Migrate)", name, ErrNotFound)
	}
	if err != nil {
		return cp, fmt.Errorf("checkpoint of %s: %w", name, err)
	}
	cp.pos, err = eventstore.ParsePosition(raw)
	if err != nil {
		return cp, fmt.Errorf("checkpoint of %s: %w", name, err)
	}
	return cp, nil
}

// schemaVersion returns the schema version of the read model's live
// tables, and false when it has no checkpoint (it was never built). It
// returns the database error.
func schemaVersion(ctx context.Context, db sqldb.DB, name string) (int, bool, error) {
	var v int
	err := db.SQL().QueryRowContext(ctx, `SELECT schema_version FROM projection_checkpoints WHERE name=$1`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("schema version of %s: %w", name, err)
	}
	return v, true, nil
}

// lock makes this process the only runner of a projection. On PostgreSQL it
// takes a session advisory lock on a connection of its own, held until
// release (or until the process dies and the server drops the session); held
// is false when another session has it. SQLite serves one process: always
// held.
func (e *Engine) lock(ctx context.Context, name string) (release func(), held bool, err error) {
	if e.dialect != sqldb.Postgres {
		return func() {}, true, nil
	}
	conn, err := e.db.SQL().Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	var schema string
	if err := conn.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		conn.Close()
		return nil, false, err
	}
	key := lockKey(schema, name)
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&held); err != nil {
		conn.Close()
		return nil, false, err
	}
	if !held {
		conn.Close()
		return func() {}, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
			// The session ends with the connection anyway, and its locks with it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, true, nil
}

// lockKey scopes advisory locks (database-wide) to the schema.
func lockKey(schema, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("reso.projections/" + schema + "/" + name))
	return int64(h.Sum64())
}

// Status reports every projection of the engine: its checkpoint, its lag
// behind the log's head (in events — exact on SQLite, estimated from
// sequence numbers on PostgreSQL — and in seconds since the oldest event it
// has not folded was recorded), its state in this process ("stopped" when
// this process does not run it) and its last error. It returns the database
// or store error, wrapped.
func (e *Engine) Status(ctx context.Context) ([]Status, error) {
	head, err := e.store.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	out := make([]Status, 0, len(e.opts.Projections))
	for _, n := range e.opts.Projections {
		cp, err := e.readCheckpoint(ctx, n)
		if err != nil {
			return nil, err
		}
		e.mu.Lock()
		st := *e.states[n]
		e.mu.Unlock()
		s := Status{Name: n, Position: cp.pos.String(), State: st.state, LastError: cp.lastErr}
		if st.lastErr != "" {
			s.LastError = st.lastErr
		}
		if st.rebuilding {
			s.State = StateRebuilding
		}
		if cp.pos.Less(head) {
			s.LagEvents = max(1, int64(head.Minor)-int64(cp.pos.Minor))
			next, err := e.store.ReadAll(ctx, cp.pos, 1)
			if err != nil {
				return nil, fmt.Errorf("status of %s: %w", n, err)
			}
			if len(next) > 0 {
				s.LagSeconds = max(0, time.Since(next[0].RecordedAt).Seconds())
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// WaitFor blocks until every projection of the engine has folded the log up
// to pos included, whichever process runs them. It returns ctx's error when
// ctx ends first (the API gives it a timeout), or the database error.
func (e *Engine) WaitFor(ctx context.Context, pos eventstore.Position) error {
	if pos.IsZero() {
		return nil
	}
	want := pos.String()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		wake := e.advanced()
		ok, err := e.reached(ctx, want)
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-tick.C:
		}
	}
}

func (e *Engine) reached(ctx context.Context, want string) (bool, error) {
	rows, err := e.db.SQL().QueryContext(ctx, `SELECT name, position FROM projection_checkpoints`)
	if err != nil {
		return false, fmt.Errorf("wait for %s: %w", want, err)
	}
	defer rows.Close()
	got := make(map[string]string)
	for rows.Next() {
		var n, p string
		if err := rows.Scan(&n, &p); err != nil {
			return false, fmt.Errorf("wait for %s: %w", want, err)
		}
		got[n] = p
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("wait for %s: %w", want, err)
	}
	for _, n := range e.opts.Projections {
		if got[n] < want {
			return false, nil
		}
	}
	return true, nil
}
