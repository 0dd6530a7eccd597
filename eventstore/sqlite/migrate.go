package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/reso-fr/reso/sqlmigrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationsTable records which embedded migrations were applied. It is
// named for the event store because read models share the file.
const migrationsTable = "eventstore_migrations"

// loadMigrations returns the embedded migrations in version order.
func loadMigrations() ([]sqlmigrate.Migration, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	return sqlmigrate.Load(sub)
}

// migrate applies the embedded migrations not yet recorded, each in its own
// transaction with its record, so a crash leaves no half-applied one and two
// processes starting together apply each once (BEGIN IMMEDIATE serialises
// them).
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+migrationsTable+` (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("create %s: %w", migrationsTable, translate(err))
	}
	for _, m := range ms {
		if err := apply(ctx, db, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, m sqlmigrate.Migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+migrationsTable+` WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return translate(err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return translate(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+migrationsTable+` (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UTC().UnixNano()); err != nil {
		return translate(err)
	}
	return translate(tx.Commit())
}
