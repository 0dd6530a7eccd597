// Package sqldb is the handle of the SQL database that holds Réso's read
// models, contact keys, credentials and idempotency records: the embedded
// SQLite file (eventstore/sqlite's DB, which also holds the log) or
// PostgreSQL (Postgres here). Packages read through its *sql.DB and write
// only through it (Exec, WriteTx), so that the discipline writers of one
// database follow — on SQLite, taking turns through one gate — lives in
// the handle, not in each writer.
package sqldb

import (
	"context"
	"database/sql"
	"fmt"
)

// Dialect names the SQL database a handle opens.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is a SQL database with the one way to write to it. Implementations
// are safe for concurrent use.
type DB interface {
	// SQL is the connection pool, for reads: writes go through Exec or
	// WriteTx.
	SQL() *sql.DB
	// Dialect says which SQL the database speaks.
	Dialect() Dialect
	// Exec runs one statement that writes, as a transaction of its own. It
	// returns the database error.
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	// WriteTx runs fn in a write transaction, on a connection of its own
	// (Tx.Conn, for driver-level work such as PostgreSQL's COPY), and
	// commits it when fn returns nil; it rolls back otherwise. It returns
	// fn's error, or the database error of BEGIN or COMMIT.
	WriteTx(ctx context.Context, fn func(tx *Tx) error) error
}

// Tx is a write transaction with the connection it runs on.
type Tx struct {
	*sql.Tx
	Conn *sql.Conn
}

// Relayer is a database whose bulk writers can give the write lock back
// while they work (SQLite's, whose file has one writer at a time).
type Relayer interface {
	// Relay takes a connection for a relayed writer. It returns the
	// database error.
	Relay(ctx context.Context) (Relay, error)
}

// Relay writes a long run of statements as a series of short
// transactions on one connection, so that other writers get the lock in
// between. Its writes are not atomic: only for tables nobody reads until
// the writer is done (a rebuild's). It is not safe for concurrent use.
type Relay interface {
	// Conn is the relay's connection: statements run on it.
	Conn() *sql.Conn
	// Write makes sure a transaction is open before a statement that
	// writes.
	Write(ctx context.Context) error
	// Breathe, after a statement, commits once the transaction has held
	// the lock long enough for others to wait.
	Breathe(ctx context.Context) error
	// Pause commits now: the writer is about to compute, not write.
	Pause(ctx context.Context) error
	// Close rolls back what is not committed and gives the connection
	// back; failed says a statement failed or was cancelled, and the
	// connection is then closed rather than pooled.
	Close(failed bool)
}

// NewPostgres is the handle of a PostgreSQL database (db from pgx's
// stdlib). Its writers need no turn: PostgreSQL locks rows, not the
// database.
func NewPostgres(db *sql.DB) DB { return postgresDB{db} }

type postgresDB struct{ db *sql.DB }

func (p postgresDB) SQL() *sql.DB     { return p.db }
func (p postgresDB) Dialect() Dialect { return Postgres }

func (p postgresDB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, query, args...)
}

func (p postgresDB) WriteTx(ctx context.Context, fn func(tx *Tx) error) error {
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Close()
	return RunTx(ctx, conn, fn)
}

// RunTx begins a transaction on conn, runs fn in it and commits when fn
// returns nil, rolling back otherwise.
func RunTx(ctx context.Context, conn *sql.Conn, fn func(tx *Tx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	return Finish(&Tx{Tx: tx, Conn: conn}, fn)
}

// Finish runs fn in tx, then commits tx when fn returns nil and rolls it
// back otherwise (a panic in fn too). It returns fn's error or the
// commit's.
func Finish(tx *Tx, fn func(tx *Tx) error) error {
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit; otherwise fn's error says what failed
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
