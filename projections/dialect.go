package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Dialect names the SQL database holding the read models.
type Dialect string

// Supported dialects.
const (
	DialectSQLite   Dialect = "sqlite"
	DialectPostgres Dialect = "postgres"
)

func (d Dialect) valid() error {
	switch d {
	case DialectSQLite, DialectPostgres:
		return nil
	}
	return fmt.Errorf("projections: unknown dialect %q", d)
}

// idArg is the value an id column typed {U} (uuidType) takes: on
// PostgreSQL its 16 bytes, which pgx writes as they are (a string, or a
// uuid.UUID through its driver.Valuer, is formatted or parsed for every
// row: COPY of 100,000 rows 35 ms against 170–200 ms); SQLite's TEXT
// column takes the text.
func (d Dialect) idArg(id uuid.UUID) any {
	if d == DialectPostgres {
		return [16]byte(id)
	}
	return id.String()
}

// placeholders writes "($k+1, ..., $k+n)" for one row of n columns whose
// first parameter is number k+1. Both dialects accept $N, but SQLite
// resolves numbered parameters in time quadratic in their count, which
// dominates multi-row statements: there they are plain "?" (positional).
func (d Dialect) placeholders(b *strings.Builder, k, n int) {
	b.WriteByte('(')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if d == DialectSQLite {
			b.WriteByte('?')
		} else {
			fmt.Fprintf(b, "$%d", k+i+1)
		}
	}
	b.WriteByte(')')
}

// txn is a transaction with its dialect. Tx is nil while a projection
// folds into memory: reads then go to db. conn, when set, is the
// connection the transaction runs on (for COPY), and bulk the keys written
// since the tables were empty (see bulkSet); upsert loads the rows of new
// keys with COPY when both are set. relay, when set (a rebuild's flush on
// SQLite), replaces Tx: statements run on its connection, and breathe
// commits in slices.
type txn struct {
	*sql.Tx
	d     Dialect
	db    *sql.DB
	conn  *sql.Conn
	bulk  *bulkSet
	relay *relay
}

func (t txn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	switch {
	case t.relay != nil:
		return t.relay.conn.QueryContext(ctx, q, args...)
	case t.Tx == nil:
		return t.db.QueryContext(ctx, q, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

func (t txn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if t.relay != nil {
		return t.relay.conn.QueryRowContext(ctx, q, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

func (t txn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.relay == nil {
		return t.Tx.ExecContext(ctx, q, args...)
	}
	if err := t.relay.write(ctx); err != nil {
		return nil, err
	}
	res, err := t.relay.conn.ExecContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return res, t.relay.breathe(ctx)
}

func (t txn) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	if t.relay != nil {
		return t.relay.conn.PrepareContext(ctx, q)
	}
	return t.Tx.PrepareContext(ctx, q)
}

// writing, before a prepared statement of a relayed flush writes, opens a
// slice (see relay); breathe, after it, may close the slice; pause closes
// it before the flush computes. All three are no-ops in a transaction.
func (t txn) writing(ctx context.Context) error {
	if t.relay == nil {
		return nil
	}
	return t.relay.write(ctx)
}

func (t txn) breathe(ctx context.Context) error {
	if t.relay == nil {
		return nil
	}
	return t.relay.breathe(ctx)
}

func (t txn) pause(ctx context.Context) error {
	if t.relay == nil {
		return nil
	}
	return t.relay.pause(ctx)
}

// rebuildSuffix names the tables a rebuild fills beside the live ones.
const rebuildSuffix = "_rebuild"
