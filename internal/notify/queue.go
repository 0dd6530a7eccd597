package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// queue is River on one database, with the notifier's own tables beside
// its jobs, so that jobs and the notifier's cursors change in one
// transaction. River's client is generic in its transaction type; the
// notifier sees it through this interface.
type queue interface {
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stopAndCancel(ctx context.Context) error
	// inTx runs fn in one transaction of the queue's database, committed
	// when fn returns nil.
	inTx(ctx context.Context, fn func(t txn) error) error
	list(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	get(ctx context.Context, id int64) (*rivertype.JobRow, error)
	retry(ctx context.Context, id int64) (*rivertype.JobRow, error)
	dialect() string // "postgres" or "sqlite"
}

// txn is a transaction of the queue's database.
type txn interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	queryRow(ctx context.Context, q string, args ...any) rowScanner
	// insert enqueues jobs and returns how many were new (the others were
	// already there: unique jobs).
	insert(ctx context.Context, jobs []riverInsert) (int, error)
}

// riverInsert is one job to enqueue.
type riverInsert = river.InsertManyParams

var errNoClient = errors.New("no job queue in this transaction")

type rowScanner interface{ Scan(dest ...any) error }

// ops are the database calls riverQueue needs for a transaction type.
type ops[TTx any] struct {
	begin    func(ctx context.Context) (TTx, error)
	commit   func(ctx context.Context, tx TTx) error
	rollback func(ctx context.Context, tx TTx) error
	exec     func(ctx context.Context, tx TTx, q string, args ...any) (int64, error)
	queryRow func(ctx context.Context, tx TTx, q string, args ...any) rowScanner
}

type riverQueue[TTx any] struct {
	client *river.Client[TTx]
	ops    ops[TTx]
	name   string
}

func (q *riverQueue[TTx]) start(ctx context.Context) error { return q.client.Start(ctx) }
func (q *riverQueue[TTx]) stop(ctx context.Context) error  { return q.client.Stop(ctx) }
func (q *riverQueue[TTx]) dialect() string                 { return q.name }

func (q *riverQueue[TTx]) stopAndCancel(ctx context.Context) error {
	return q.client.StopAndCancel(ctx)
}

func (q *riverQueue[TTx]) list(ctx context.Context, p *river.JobListParams) (*river.JobListResult, error) {
	return q.client.JobList(ctx, p)
}

func (q *riverQueue[TTx]) get(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return q.client.JobGet(ctx, id)
}

func (q *riverQueue[TTx]) retry(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return q.client.JobRetry(ctx, id)
}

func (q *riverQueue[TTx]) inTx(ctx context.Context, fn func(t txn) error) error {
	tx, err := q.ops.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(&gtxn[TTx]{q: q, tx: tx}); err != nil {
		_ = q.ops.rollback(context.WithoutCancel(ctx), tx)
		return err
	}
	if err := q.ops.commit(ctx, tx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

type gtxn[TTx any] struct {
	q  *riverQueue[TTx]
	tx TTx
}

func (t *gtxn[TTx]) exec(ctx context.Context, q string, args ...any) (int64, error) {
	return t.q.ops.exec(ctx, t.tx, q, args...)
}

func (t *gtxn[TTx]) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	return t.q.ops.queryRow(ctx, t.tx, q, args...)
}

func (t *gtxn[TTx]) insert(ctx context.Context, jobs []river.InsertManyParams) (int, error) {
	if len(jobs) == 0 {
		return 0, nil
	}
	res, err := t.q.client.InsertManyTx(ctx, t.tx, jobs)
	if err != nil {
		return 0, fmt.Errorf("enqueue %d jobs: %w", len(jobs), err)
	}
	n := 0
	for _, r := range res {
		if !r.UniqueSkippedAsDuplicate {
			n++
		}
	}
	return n, nil
}

// pgRow maps pgx's no-rows error to database/sql's, so that callers test
// one.
type pgRow struct{ pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sql.ErrNoRows
	}
	return err
}

// newPostgresQueue is River on PostgreSQL through pgx, with its tables in
// the pool's search_path (the database's schema).
func newPostgresQueue(pool *pgxpool.Pool, cfg *river.Config) (*riverQueue[pgx.Tx], error) {
	client, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}
	return &riverQueue[pgx.Tx]{client: client, name: "postgres", ops: ops[pgx.Tx]{
		begin:    func(ctx context.Context) (pgx.Tx, error) { return pool.Begin(ctx) },
		commit:   func(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) },
		rollback: func(ctx context.Context, tx pgx.Tx) error { return tx.Rollback(ctx) },
		exec: func(ctx context.Context, tx pgx.Tx, q string, args ...any) (int64, error) {
			tag, err := tx.Exec(ctx, q, args...)
			return tag.RowsAffected(), err
		},
		queryRow: func(ctx context.Context, tx pgx.Tx, q string, args ...any) rowScanner {
			return pgRow{tx.QueryRow(ctx, q, args...)}
		},
	}}, nil
}

// newSQLiteQueue is River on a SQLite file of its own, through one
// connection (riversqlite's advice: SQLite allows one writer, and River
// runs its maintenance in parallel).
func newSQLiteQueue(db *sql.DB, cfg *river.Config) (*riverQueue[*sql.Tx], error) {
	client, err := river.NewClient(riversqlite.New(db), cfg)
	if err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}
	return &riverQueue[*sql.Tx]{client: client, name: "sqlite", ops: ops[*sql.Tx]{
		begin:    func(ctx context.Context) (*sql.Tx, error) { return db.BeginTx(ctx, nil) },
		commit:   func(_ context.Context, tx *sql.Tx) error { return tx.Commit() },
		rollback: func(_ context.Context, tx *sql.Tx) error { return tx.Rollback() },
		exec: func(ctx context.Context, tx *sql.Tx, q string, args ...any) (int64, error) {
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		},
		queryRow: func(ctx context.Context, tx *sql.Tx, q string, args ...any) rowScanner {
			return tx.QueryRowContext(ctx, q, args...)
		},
	}}, nil
}
