package websession

import (
	"context"
	"embed"

	"github.com/reso-fr/reso/sqldb"
	"github.com/reso-fr/reso/sqlmigrate"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// Migrations are the sessions' numbered migrations, one set per dialect,
// recorded in websession_migrations.
var Migrations = sqlmigrate.Set{Name: "websession",
	SQLite:   sqlmigrate.Dir(migrationFiles, "migrations/sqlite"),
	Postgres: sqlmigrate.Dir(migrationFiles, "migrations/postgres")}

// Migrate applies the sessions' migrations not yet applied to db. It
// returns the database's error.
func Migrate(ctx context.Context, db sqldb.DB) error {
	_, err := sqlmigrate.Apply(ctx, db, Migrations)
	return err
}
