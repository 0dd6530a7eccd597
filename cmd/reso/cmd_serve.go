package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/reso-fr/reso/internal/auth"
	"github.com/reso-fr/reso/internal/notify"
	"github.com/reso-fr/reso/internal/ratelimit"
	"github.com/reso-fr/reso/internal/server"
)

// flagLimit is the limit of a --rate-limit flag: rate a second in bursts
// of burst times that; 0 or less turns it off.
func flagLimit(rate float64, burst int) ratelimit.Limit {
	if rate <= 0 {
		return ratelimit.Limit{Rate: -1}
	}
	return ratelimit.Limit{Rate: rate, Burst: max(1, int(rate*float64(burst)))}
}

// envFloat is the environment's number for key, or def when unset or not
// a number.
func envFloat(key string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(key), 64); err == nil {
		return v
	}
	return def
}

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
	perUser := fs.Float64("rate-limit", envFloat("RESO_RATE_LIMIT", ratelimit.DefaultPerPrincipal.Rate),
		"requests a second each user may send, in bursts of 4 times that (0: no limit; env RESO_RATE_LIMIT)")
	perAddr := fs.Float64("rate-limit-address", envFloat("RESO_RATE_LIMIT_ADDRESS", ratelimit.DefaultPerAddress.Rate),
		"requests a second each client address may send, in bursts of twice that (0: no limit; env RESO_RATE_LIMIT_ADDRESS)")
	tokenTTL := fs.Duration("token-ttl", auth.DefaultTokenTTL, "how long new API tokens live (e.g. 2160h for 90 days)")
	masters := masterFlags(fs)
	baseURL := fs.String("base-url", os.Getenv("RESO_BASE_URL"),
		"the console's public address, for links in mails (env RESO_BASE_URL; default http://localhost and the --addr port)")
	smtpURL := fs.String("smtp-url", os.Getenv("RESO_SMTP_URL"), "smtp://[user:pass@]host:port of the mail server (env RESO_SMTP_URL); without it mails are written to <data>/outbox")
	mailFrom := fs.String("mail-from", serveEnv("RESO_MAIL_FROM", "Réso <ne-pas-repondre@localhost>"), "sender of the mails (env RESO_MAIL_FROM)")
	scan := fs.Duration("notify-scan-interval", 5*time.Minute, "how often reminders and digests that fell due are looked for")
	retryBase := fs.Duration("notify-retry-base", 30*time.Second, "wait before retrying a failed mail; doubles each time, up to an hour")
	jobTimeout := fs.Duration("notify-job-timeout", time.Minute, "longest a mail delivery may take")
	rescue := fs.Duration("notify-rescue-after", 10*time.Minute, "a delivery still running this long after it started (its process died) runs again")
	if err := fs.Parse(args); err != nil {
		return err
	}
	mks, err := masters()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: &logLevel}))
	slog.SetDefault(log)
	log.Debug("garbage collector", "gc_percent", server.TuneGC())
	cfg := server.Config{
		Addr: *addr, DataDir: *data, DatabaseURL: *dbURL, EventStoreURL: *esURL,
		AdminToken: os.Getenv("RESO_ADMIN_TOKEN"), Demo: *demoFlag, Logger: log, MasterKeys: mks,
		Notify: &server.NotifyConfig{SMTPURL: *smtpURL, MailFrom: *mailFrom, Notifier: notify.Config{
			ScanInterval: *scan, RetryBase: *retryBase, JobTimeout: *jobTimeout, RescueAfter: *rescue,
		}},
	}
	cfg.DemoOptions.Seed, cfg.DemoOptions.Months, cfg.DemoOptions.Out = *seed, *months, os.Stdout
	cfg.TokenTTL = *tokenTTL
	cfg.Limits = server.Limits{PerPrincipal: flagLimit(*perUser, 4), PerAddress: flagLimit(*perAddr, 2)}
	cfg.Out, cfg.BaseURL = os.Stdout, *baseURL
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	return srv.Start(ctx)
}
