package projections

import (
	"context"
	"embed"
	"fmt"

	"github.com/reso-fr/reso/sqldb"
	"github.com/reso-fr/reso/sqlmigrate"
)

//go:embed migrations/*.sql
var files embed.FS

// Migrations are the runtime's numbered migrations (the checkpoints
// table), the same files on SQLite and PostgreSQL. Read-model tables are
// not among them: each read model declares its tables and their Version,
// and the engine builds them (Migrate, for a read model never built) or
// rebuilds them beside the live ones when their version changes (Run).
var Migrations = sqlmigrate.Set{Name: "projections",
	SQLite: sqlmigrate.Dir(files, "migrations"), Postgres: sqlmigrate.Dir(files, "migrations")}

// migrate applies the runtime's migrations, then creates, at their
// current version, the tables of every read model never built (it has no
// checkpoint yet) with their indexes and checkpoint. A read model built at
// its current version gets the indexes it misses (a process may have died
// before building them) and, on SQLite, loses the replaced table a process
// that died after a swap left. One built by another version is left as it
// is: Run rebuilds it. It is idempotent.
func migrate(ctx context.Context, db sqldb.DB, models []ReadModel) error {
	if _, err := sqlmigrate.Apply(ctx, db, Migrations); err != nil {
		return fmt.Errorf("migrate read models: %w", err)
	}
	unlock, err := lockDDL(ctx, db)
	if err != nil {
		return fmt.Errorf("migrate read models: %w", err)
	}
	defer unlock()
	d := db.Dialect()
	exec := func(stmts ...string) error {
		for _, s := range stmts {
			if _, err := db.Exec(ctx, s); err != nil {
				return fmt.Errorf("migrate read models: %w", err)
			}
		}
		return nil
	}
	for _, m := range models {
		version, found, err := schemaVersion(ctx, db, m.Name)
		if err != nil {
			return err
		}
		if found && version != m.Version {
			continue
		}
		for _, t := range m.Tables {
			if !found {
				if err := exec(t.create(t.Name, d)); err != nil {
					return err
				}
			}
			if d == sqldb.SQLite {
				// A process that died between a swap and dropOld left the
				// replaced table, which holds index names the next rebuild
				// needs.
				if err := exec(`DROP TABLE IF EXISTS ` + t.Name + oldSuffix); err != nil {
					return err
				}
			}
			indexes, err := liveIndexDDL(ctx, db.SQL(), d, t)
			if err != nil {
				return fmt.Errorf("migrate read models: %w", err)
			}
			if err := exec(indexes...); err != nil {
				return err
			}
		}
		if !found {
			if _, err := db.Exec(ctx,
				`INSERT INTO projection_checkpoints (name, position, schema_version) VALUES ($1, '', $2) ON CONFLICT (name) DO NOTHING`,
				m.Name, m.Version); err != nil {
				return fmt.Errorf("migrate checkpoint of %s: %w", m.Name, err)
			}
		}
	}
	return nil
}
