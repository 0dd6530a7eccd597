package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"sync/atomic"
	"time"

	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/simulate"
)

func init() {
	register("simulate", "write a realistic, deterministic workload (directory and needs in Hauts-de-France) into the log", runSimulate)
}

func runSimulate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	store := fs.String("store", "sqlite", "sqlite or postgres")
	dsn := fs.String("dsn", "", "SQLite data directory (default env RESO_DATA or ./reso-data) or postgres:// URL (default env RESO_DATABASE_URL)")
	var o simulate.Options
	fs.Int64Var(&o.Seed, "seed", 1, "random seed: the same seed writes the same events")
	fs.IntVar(&o.Months, "months", 18, "months of history")
	fs.IntVar(&o.TotalNeeds, "needs", 0, "needs in total (default 300 a month)")
	fs.IntVar(&o.Writers, "writers", 4, "concurrent writers")
	start := fs.String("start", "", "first month YYYY-MM (default: --months before the current month; history up to now)")
	masters := masterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	mks, err := masters()
	if err != nil {
		return err
	}
	if len(mks) == 0 {
		return fmt.Errorf("simulate seals contacts: %w", keys.ErrNoMasterKey)
	}
	cfg := backend.Config{Masters: mks}
	switch *store {
	case "sqlite":
		cfg.DataDir = *dsn
		if cfg.DataDir == "" {
			cfg.DataDir = serveEnv("RESO_DATA", "./reso-data")
		}
	case "postgres":
		cfg.DatabaseURL = *dsn
		if cfg.DatabaseURL == "" {
			cfg.DatabaseURL = os.Getenv("RESO_DATABASE_URL")
		}
	default:
		return fmt.Errorf("simulate: unknown store %q (want sqlite or postgres)", *store)
	}
	now := time.Now().UTC()
	if *start == "" {
		o.Start = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -o.Months+1, 0)
		o.Now = now
	} else {
		t, err := time.Parse("2006-01", *start)
		if err != nil {
			return fmt.Errorf("simulate: --start: %w", err)
		}
		o.Start = t
	}
	b, err := backend.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer b.Close()
	began := time.Now()
	// Progress comes after every append, from several writers: print once
	// per thousand needs begun.
	var printed atomic.Int64
	o.Progress = func(needs, events int64) {
		if k, last := needs/1000, printed.Load(); k > last && printed.CompareAndSwap(last, k) {
			fmt.Fprintf(os.Stderr, "%d needs, %d events, %.0f events/s\n", needs, events, float64(events)/time.Since(began).Seconds())
		}
	}
	res, err := simulate.Run(ctx, b.Events, o)
	if err != nil {
		return err
	}
	took := time.Since(began)
	return printJSON(map[string]any{
		"needs": res.Needs, "events": res.Events, "seconds": math.Round(took.Seconds()*1000) / 1000,
		"events_per_sec": math.Round(float64(res.Events) / took.Seconds()), "last_position": res.Last.String(),
		"organisations": len(res.Organisations), "referents": len(res.Referents), "users": res.Users,
	})
}
