package notify

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/sqldb"
	"github.com/reso-fr/reso/sqlmigrate"
)

// The notifier's own tables, one numbered file per change and dialect,
// through the migration runner every table of Réso goes through (recorded
// in notify_migrations).
//
//go:embed migrations
var migrationFiles embed.FS

// Migrations are the notifier's numbered migrations (not River's, which
// River's migrator applies).
var Migrations = sqlmigrate.Set{Name: "notify",
	SQLite:   sqlmigrate.Dir(migrationFiles, "migrations/sqlite"),
	Postgres: sqlmigrate.Dir(migrationFiles, "migrations/postgres")}

// MigratePostgres brings River's schema and the notifier's tables up to
// date in the pool's schema, under a session advisory lock, so that
// replicas starting together take turns. (River's migrations cannot share
// one transaction: one adds an enum value another uses.) It returns the
// database's error, wrapped.
func MigratePostgres(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("migrate notifier: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate notifier: %w", err)
	}
	defer conn.Release()
	const key = `hashtextextended('reso.notify.river.migrate.' || current_schema(), 0)`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		return fmt.Errorf("migrate notifier: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx)) // the lock goes with the session
		}
	}()
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate notifier: river: %w", err)
	}
	// The runner takes a lock of its own per set.
	if _, err := sqlmigrate.Apply(ctx, sqldb.NewPostgres(stdlib.OpenDBFromPool(pool)), Migrations); err != nil {
		return fmt.Errorf("migrate notifier: %w", err)
	}
	return nil
}

// MigrateSQLite brings River's schema and the notifier's tables up to date
// in db. It returns the database's error, wrapped.
func MigrateSQLite(ctx context.Context, db *sqlite.DB, log *slog.Logger) error {
	m, err := rivermigrate.New(riversqlite.New(db.SQL()), &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("migrate notifier: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate notifier: river: %w", err)
	}
	if _, err := sqlmigrate.Apply(ctx, db, Migrations); err != nil {
		return fmt.Errorf("migrate notifier: %w", err)
	}
	return nil
}

// pgTxn and sqlTxn are plain transactions (no River client yet), for
// SkipHistory.
type pgTxn struct{ tx pgx.Tx }

func (t pgTxn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}
func (t pgTxn) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	return pgRow{t.tx.QueryRow(ctx, q, args...)}
}
func (t pgTxn) insert(context.Context, []riverInsert) (int, error) { return 0, errNoClient }

type sqlTxn struct{ tx *sql.Tx }

func (t sqlTxn) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
func (t sqlTxn) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	return t.tx.QueryRowContext(ctx, q, args...)
}
func (t sqlTxn) insert(context.Context, []riverInsert) (int, error) { return 0, errNoClient }
