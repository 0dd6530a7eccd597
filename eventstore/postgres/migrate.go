package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/reso-fr/reso/sqldb"
	"github.com/reso-fr/reso/sqlmigrate"
)

//go:embed *.sql
var migrationFiles embed.FS

// migrationSet is the event store's migrations, recorded in
// eventstore_migrations.
var migrationSet = sqlmigrate.Set{Name: "eventstore", Postgres: migrationFiles}

// loadMigrations returns the embedded migrations in version order.
func loadMigrations() ([]sqlmigrate.Migration, error) { return sqlmigrate.Load(migrationFiles) }

// migrate applies the embedded migrations not yet recorded, all in one
// transaction behind an advisory lock (see sqlmigrate.Apply), and returns
// how many it applied.
func migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close() // the pool stays open
	applied, err := sqlmigrate.Apply(ctx, sqldb.NewPostgres(db), migrationSet)
	if err != nil {
		return applied, fmt.Errorf("migrate event store: %w", err)
	}
	return applied, nil
}
