package notify

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/reso-fr/reso/internal/sqlmigrate"
)

// The notifier's own tables, one numbered file per change and dialect.
//
//go:embed migrations
var migrationFiles embed.FS

func loadMigrations(dialect string) ([]sqlmigrate.Migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations/"+dialect)
	if err != nil {
		return nil, err
	}
	return sqlmigrate.Load(sub)
}

const migrationsDDL = `CREATE TABLE IF NOT EXISTS notify_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// applyMigrations runs the notifier's migrations not yet recorded, in t.
func applyMigrations(ctx context.Context, t txn, dialect string) error {
	ms, err := loadMigrations(dialect)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, migrationsDDL); err != nil {
		return err
	}
	for _, m := range ms {
		var v int
		err := t.queryRow(ctx, `SELECT version FROM notify_migrations WHERE version = $1`, m.Version).Scan(&v)
		if err == nil {
			continue
		}
		if err != sql.ErrNoRows {
			return err
		}
		if _, err := t.exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		if _, err := t.exec(ctx, `INSERT INTO notify_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.Version, m.Name, nowMicros()); err != nil {
			return fmt.Errorf("record %s: %w", m.Name, err)
		}
	}
	return nil
}

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
	const key = `hashtextextended('reso.notify.migrate.' || current_schema(), 0)`
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
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return applyMigrations(ctx, pgTxn{tx}, "postgres") })
	if err != nil {
		return fmt.Errorf("migrate notifier: %w", err)
	}
	return nil
}

// MigrateSQLite brings River's schema and the notifier's tables up to date
// in db. It returns the database's error, wrapped.
func MigrateSQLite(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	m, err := rivermigrate.New(riversqlite.New(db), &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("migrate notifier: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate notifier: river: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate notifier: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := applyMigrations(ctx, sqlTxn{tx}, "sqlite"); err != nil {
		return fmt.Errorf("migrate notifier: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate notifier: %w", err)
	}
	return nil
}

// pgTxn and sqlTxn are plain transactions (no River client yet), for
// migrations.
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
