package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"time"

	"github.com/reso-fr/reso/internal/notify"
	"github.com/reso-fr/reso/internal/server"
)

func init() {
	register("serve", "run the HTTP API with its projection workers (--demo seeds a demo network)", runServe)
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
	smtpURL := fs.String("smtp-url", os.Getenv("RESO_SMTP_URL"), "smtp://[user:pass@]host:port of the mail server (env RESO_SMTP_URL); without it mails are written to <data>/outbox")
	mailFrom := fs.String("mail-from", serveEnv("RESO_MAIL_FROM", "Réso <ne-pas-repondre@localhost>"), "sender of the mails (env RESO_MAIL_FROM)")
	baseURL := fs.String("base-url", serveEnv("RESO_BASE_URL", "http://localhost:8080"), "the console's address, for links in mails (env RESO_BASE_URL)")
	scan := fs.Duration("notify-scan-interval", 5*time.Minute, "how often reminders and digests that fell due are looked for")
	retryBase := fs.Duration("notify-retry-base", 30*time.Second, "wait before retrying a failed mail; doubles each time, up to an hour")
	jobTimeout := fs.Duration("notify-job-timeout", time.Minute, "longest a mail delivery may take")
	rescue := fs.Duration("notify-rescue-after", 10*time.Minute, "a delivery still running this long after it started (its process died) runs again")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: &logLevel}))
	slog.SetDefault(log)
	cfg := server.Config{
		Addr: *addr, DataDir: *data, DatabaseURL: *dbURL, EventStoreURL: *esURL,
		AdminToken: os.Getenv("RESO_ADMIN_TOKEN"), Demo: *demoFlag, Logger: log,
		Notify: &server.NotifyConfig{SMTPURL: *smtpURL, MailFrom: *mailFrom, BaseURL: *baseURL, Notifier: notify.Config{
			ScanInterval: *scan, RetryBase: *retryBase, JobTimeout: *jobTimeout, RescueAfter: *rescue,
		}},
	}
	cfg.DemoOptions.Seed, cfg.DemoOptions.Months, cfg.DemoOptions.Out = *seed, *months, os.Stdout
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	return srv.Start(ctx)
}
