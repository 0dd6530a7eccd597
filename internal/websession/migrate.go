package websession

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/reso-fr/reso/internal/sqlmigrate"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// Dialects of the database the tables live in.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Migrate applies the package's migrations of dialect ("sqlite" or
// "postgres") not yet recorded in websession_migrations, each with its
// record in one transaction. The files create what is missing only, so
// two processes starting together both succeed. It returns an error for an
// unknown dialect and the database's error.
func Migrate(ctx context.Context, db *sql.DB, dialect string) error {
	if dialect != SQLite && dialect != Postgres {
		return fmt.Errorf("websession: unknown dialect %q", dialect)
	}
	sub, err := fs.Sub(migrationFiles, "migrations/"+dialect)
	if err != nil {
		return fmt.Errorf("websession migrations: %w", err)
	}
	ms, err := sqlmigrate.Load(sub)
	if err != nil {
		return fmt.Errorf("websession migrations: %w", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS websession_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_ms BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("create websession_migrations: %w", err)
	}
	for _, m := range ms {
		if err := apply(ctx, db, m); err != nil {
			return fmt.Errorf("websession migration %s: %w", m.Name, err)
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, m sqlmigrate.Migration) error {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM websession_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO websession_migrations (version, name, applied_ms) VALUES ($1, $2, $3)
		ON CONFLICT (version) DO NOTHING`, m.Version, m.Name, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}
