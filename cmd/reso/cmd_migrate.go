package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/notify"
)

func init() {
	register("migrate", "create or upgrade every table (event store, read models, keys, users, idempotency, notifier and its job queue)", runMigrate)
}

func runMigrate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	data := fs.String("data", serveEnv("RESO_DATA", "./reso-data"), "data directory of the embedded SQLite store (env RESO_DATA)")
	dbURL := fs.String("database-url", os.Getenv("RESO_DATABASE_URL"), "postgres:// URL (env RESO_DATABASE_URL)")
	esURL := fs.String("eventstore-url", os.Getenv("RESO_EVENTSTORE_URL"), "kurrentdb:// URL for the log (env RESO_EVENTSTORE_URL)")
	masters := masterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	// With a master key, the keys an earlier version stored in clear are
	// wrapped too; without one, only the tables are migrated.
	mks, err := masters()
	if err != nil {
		return err
	}
	b, err := backend.Open(ctx, backend.Config{DataDir: *data, DatabaseURL: *dbURL, EventStoreURL: *esURL, Masters: mks})
	if err != nil {
		return err
	}
	if err := migrateNotifier(ctx, b, *data); err != nil {
		b.Close()
		return err
	}
	fmt.Fprintf(os.Stdout, "migrated %s storage\n", b.Kind)
	return b.Close()
}

// migrateNotifier creates the notifier's tables and River's: in
// PostgreSQL, or in the data directory's notify.db.
func migrateNotifier(ctx context.Context, b *backend.Backend, dir string) error {
	log := slog.Default()
	if p := b.Pool(); p != nil {
		return notify.MigratePostgres(ctx, p, log)
	}
	db, err := notify.OpenSQLite(notify.SQLitePath(dir))
	if err != nil {
		return err
	}
	defer db.Close()
	return notify.MigrateSQLite(ctx, db, log)
}
