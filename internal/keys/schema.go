package keys

import (
	"context"
	"embed"

	"github.com/reso-fr/reso/sqldb"
	"github.com/reso-fr/reso/sqlmigrate"
)

//go:embed migrations/*.sql
var files embed.FS

// Migrations are the key tables' numbered migrations, the same files on
// SQLite and PostgreSQL.
var Migrations = sqlmigrate.Set{Name: "contact_keys", SQLite: sqlmigrate.Dir(files, "migrations"), Postgres: sqlmigrate.Dir(files, "migrations")}

// Migrate applies the key tables' migrations not yet applied to db. It
// returns the database error.
func Migrate(ctx context.Context, db sqldb.DB) error {
	_, err := sqlmigrate.Apply(ctx, db, Migrations)
	return err
}
