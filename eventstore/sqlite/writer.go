package sqlite

import (
	"context"
	"database/sql"
)

// writer is the connection every append goes through. The store holds it
// for its lifetime, so that its statements — BEGIN IMMEDIATE and COMMIT
// included — are prepared once and its page cache stays warm, instead of
// parsing BEGIN and looking up per-connection statements on each
// transaction. Its statements run with context.Background(): the driver
// then starts no watcher goroutine per statement, and busy_timeout already
// bounds every wait for a lock.
type writer struct {
	conn                                                    *sql.Conn
	begin, commit, rollback, savepoint, rollbackTo, release *sql.Stmt
	version, insert, byID                                   *sql.Stmt
}

func newWriter(ctx context.Context, db *sql.DB) (*writer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	w := &writer{conn: conn}
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		// Explicitly IMMEDIATE: the write lock is taken at BEGIN even on a
		// *sql.DB that did not come from OpenDB.
		{&w.begin, `BEGIN IMMEDIATE`},
		{&w.commit, `COMMIT`},
		{&w.rollback, `ROLLBACK`},
		{&w.savepoint, `SAVEPOINT append`},
		{&w.rollbackTo, `ROLLBACK TO append`},
		{&w.release, `RELEASE append`},
		{&w.version, `SELECT COALESCE(MAX(version), 0) FROM eventstore_events WHERE stream_id = ?`},
		{&w.insert, `INSERT INTO eventstore_events (event_id, stream_id, version, type, schema_version, data,
			actor_id, actor_role, correlation_id, causation_id, idempotency_key, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.byID, `SELECT ` + eventColumns + ` FROM eventstore_events WHERE event_id = ?`},
	} {
		st, err := conn.PrepareContext(ctx, p.query)
		if err != nil {
			w.close()
			return nil, err
		}
		*p.dst = st
	}
	return w, nil
}

// exec runs a statement without arguments, translating its error.
func exec(st *sql.Stmt) error {
	_, err := st.ExecContext(context.Background())
	return translate(err)
}

func (w *writer) close() {
	for _, st := range []*sql.Stmt{w.begin, w.commit, w.rollback, w.savepoint, w.rollbackTo, w.release, w.version, w.insert, w.byID} {
		if st != nil {
			st.Close()
		}
	}
	w.conn.Close()
}
