package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/reso-fr/reso/internal/backend"
)

func init() {
	register("migrate", "create or upgrade every table (event store, read models, keys, users, idempotency)", runMigrate)
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
	fmt.Fprintf(os.Stdout, "migrated %s storage\n", b.Kind)
	return b.Close()
}
