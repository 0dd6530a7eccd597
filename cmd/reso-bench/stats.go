package main

import (
	"context"
	"io"
	"time"

	"github.com/reso-fr/reso/internal/bench"
)

func benchStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("stats", stderr)
	cfg := bench.StatsConfig{Progress: stderr}
	fs.StringVar(&cfg.Store, "store", "postgres", "postgres or sqlite")
	fs.StringVar(&cfg.DSN, "dsn", "", "PostgreSQL URL (default the local server; a bench_<random> schema is used) or SQLite file path")
	fs.IntVar(&cfg.Needs, "needs", 1_000_000, "needs to seed")
	fs.IntVar(&cfg.Clients, "clients", 8, "concurrent clients running the queries")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "how long the queries run (0: seed and rebuild only)")
	fs.StringVar(&cfg.Schema, "schema", "", "reuse this kept bench_ schema (postgres) instead of seeding")
	fs.BoolVar(&cfg.Reuse, "reuse", false, "reuse the SQLite file --dsn instead of seeding")
	fs.BoolVar(&cfg.Rebuild, "rebuild", true, "with --schema or --reuse: rebuild the read models before measuring")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the bench_ schema or SQLite file")
	_ = fs.Bool("json", true, "print the report as JSON (the only format)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
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
	return bench.WriteJSON(stdout, report)
}
