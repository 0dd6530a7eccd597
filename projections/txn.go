package projections

import (
	"context"
	"database/sql"

	"github.com/reso-fr/reso/sqldb"
)

// Txn is what a projection reads and writes through: a transaction with
// its dialect, or, while a projection folds into memory (Apply before the
// transaction begins), the database itself for reads. conn, when set, is
// the connection the transaction runs on (for COPY), and bulk the keys
// written since the tables were empty (see bulkSet); Upsert loads the rows
// of new keys with COPY when both are set. relay, when set (a rebuild's
// flush on SQLite), replaces tx: statements run on its connection, and
// breathe commits in slices.
type Txn struct {
	tx    *sql.Tx
	d     sqldb.Dialect
	db    *sql.DB
	conn  *sql.Conn
	bulk  *bulkSet
	relay sqldb.Relay
}

// Dialect is the dialect of the database the transaction runs on.
func (t Txn) Dialect() sqldb.Dialect { return t.d }

// QueryContext runs a query in the transaction, or on the database while
// the projection folds into memory.
func (t Txn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	switch {
	case t.relay != nil:
		return t.relay.Conn().QueryContext(ctx, q, args...)
	case t.tx == nil:
		return t.db.QueryContext(ctx, q, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a query returning one row in the transaction, or
// on the database while the projection folds into memory.
func (t Txn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	switch {
	case t.relay != nil:
		return t.relay.Conn().QueryRowContext(ctx, q, args...)
	case t.tx == nil:
		return t.db.QueryRowContext(ctx, q, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}

// ExecContext runs a statement in the transaction (Flush only: Apply
// writes nothing).
func (t Txn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.relay == nil {
		return t.tx.ExecContext(ctx, q, args...)
	}
	if err := t.relay.Write(ctx); err != nil {
		return nil, err
	}
	res, err := t.relay.Conn().ExecContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return res, t.relay.Breathe(ctx)
}

// PrepareContext prepares a statement in the transaction (Flush only).
func (t Txn) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	if t.relay != nil {
		return t.relay.Conn().PrepareContext(ctx, q)
	}
	return t.tx.PrepareContext(ctx, q)
}

// writing, before a prepared statement of a relayed flush writes, opens a
// slice (see relay); breathe, after it, may close the slice; pause closes
// it before the flush computes. All three are no-ops in a transaction.
func (t Txn) writing(ctx context.Context) error {
	if t.relay == nil {
		return nil
	}
	return t.relay.Write(ctx)
}

func (t Txn) breathe(ctx context.Context) error {
	if t.relay == nil {
		return nil
	}
	return t.relay.Breathe(ctx)
}

func (t Txn) pause(ctx context.Context) error {
	if t.relay == nil {
		return nil
	}
	return t.relay.Pause(ctx)
}
