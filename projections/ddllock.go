package projections

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/reso-fr/reso/sqldb"
)

// lockDDL serialises the statements that create read-model tables and
// indexes across the processes sharing a PostgreSQL schema: a server's
// Migrate and another's runner that builds its indexes once caught up.
// PostgreSQL's IF NOT EXISTS is not safe against a concurrent creation of
// the same name (the loser fails on the catalog's unique index,
// pg_class_relname_nsp_index), so two replicas starting together could
// fail. The lock is a session advisory lock on a connection of its own;
// the statements run on other connections of the pool. SQLite serves one
// process, whose write gate already orders its writers: nothing to take.
// It returns the database error.
func lockDDL(ctx context.Context, db sqldb.DB) (unlock func(), err error) {
	if db.Dialect() != sqldb.Postgres {
		return func() {}, nil
	}
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock read-model DDL: %w", err)
	}
	var schema string
	if err := conn.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		conn.Close()
		return nil, fmt.Errorf("lock read-model DDL: %w", err)
	}
	key := lockKey(schema, "ddl")
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		conn.Close()
		return nil, fmt.Errorf("lock read-model DDL: %w", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
			// The session ends with the connection, and its locks with it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, nil
}
