package main

import (
	"context"
	"flag"
	"os"
	"time"

	"github.com/reso-fr/reso/internal/bench"
)

func init() {
	register("bench stats", "seed N needs, rebuild the read models, measure the funders' statistics queries", benchStats)
}

func benchStats(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench stats", flag.ContinueOnError)
	cfg := bench.StatsConfig{Progress: os.Stderr}
	fs.StringVar(&cfg.Store, "store", "postgres", "postgres or sqlite")
	fs.StringVar(&cfg.DSN, "dsn", "", "PostgreSQL URL (default the local server; a bench_<random> schema is used) or SQLite file path")
	fs.IntVar(&cfg.Needs, "needs", 1_000_000, "needs to seed")
	fs.IntVar(&cfg.Clients, "clients", 8, "concurrent clients running the queries")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "how long the queries run (0: seed and rebuild only)")
	fs.StringVar(&cfg.Schema, "schema", "", "reuse this kept bench_ schema (postgres) instead of seeding")
	fs.BoolVar(&cfg.Reuse, "reuse", false, "reuse the SQLite file --dsn instead of seeding")
	fs.BoolVar(&cfg.Rebuild, "rebuild", true, "with --schema or --reuse: rebuild the read models before measuring")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the bench_ schema or SQLite file")
	asJSON := fs.Bool("json", true, "print the report as JSON (the only format)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_ = asJSON
	stopProfile, err := bench.StartCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	report, err := bench.RunStats(ctx, cfg)
	if perr := stopProfile(); err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	return bench.WriteJSON(os.Stdout, report)
}
