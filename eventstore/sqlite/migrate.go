package sqlite

import (
	"context"
	"embed"

	"github.com/reso-fr/reso/sqlmigrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationSet is the event store's migrations, recorded in
// eventstore_migrations (named for the event store because read models
// share the file).
var migrationSet = sqlmigrate.Set{Name: "eventstore", SQLite: sqlmigrate.Dir(migrations, "migrations")}

// migrate applies the embedded migrations not yet recorded (see
// sqlmigrate.Apply).
func migrate(ctx context.Context, db *DB) error {
	_, err := sqlmigrate.Apply(ctx, db, migrationSet)
	return err
}
