package main

import (
	"context"
	"flag"
	"log/slog"
	"os"

	"github.com/reso-fr/reso/internal/server"
)

func init() {
	register("serve", "run the HTTP API and the web console with their projection workers (--demo seeds a demo network)", runServe)
}

// serveEnv is the environment's value for key, or def.
func serveEnv(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func runServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", serveEnv("RESO_ADDR", ":8080"), "listen address (env RESO_ADDR)")
	data := fs.String("data", serveEnv("RESO_DATA", "./reso-data"), "data directory of the embedded SQLite store (env RESO_DATA)")
	dbURL := fs.String("database-url", os.Getenv("RESO_DATABASE_URL"), "postgres:// URL for the log and read models (env RESO_DATABASE_URL)")
	esURL := fs.String("eventstore-url", os.Getenv("RESO_EVENTSTORE_URL"), "kurrentdb:// URL for the log; needs --database-url (env RESO_EVENTSTORE_URL)")
	demoFlag := fs.Bool("demo", false, "on an empty store, seed a demo network and print one token per role")
	seed := fs.Int64("demo-seed", 1, "random seed of the demo")
	months := fs.Int("demo-months", 18, "months of simulated history in the demo")
	baseURL := fs.String("base-url", os.Getenv("RESO_BASE_URL"), "the console's public address, for links in mails (env RESO_BASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: &logLevel}))
	slog.SetDefault(log)
	cfg := server.Config{
		Addr: *addr, DataDir: *data, DatabaseURL: *dbURL, EventStoreURL: *esURL,
		AdminToken: os.Getenv("RESO_ADMIN_TOKEN"), Demo: *demoFlag, Logger: log,
	}
	cfg.DemoOptions.Seed, cfg.DemoOptions.Months, cfg.DemoOptions.Out = *seed, *months, os.Stdout
	cfg.Out, cfg.BaseURL = os.Stdout, *baseURL
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	return srv.Start(ctx)
}
