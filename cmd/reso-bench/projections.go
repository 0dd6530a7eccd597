package main

import (
	"context"
	"io"
	"time"

	"github.com/reso-fr/reso/internal/bench"
)

func benchRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rebuild", stderr)
	cfg := bench.RebuildConfig{Progress: stderr}
	fs.StringVar(&cfg.Store, "store", "postgres", "postgres or sqlite")
	fs.StringVar(&cfg.DSN, "dsn", "", "PostgreSQL URL (default the local server; a bench_<random> schema is used) or SQLite file path (default a temporary file)")
	fs.IntVar(&cfg.Events, "events", 1000000, "simulated events to seed (about)")
	fs.Int64Var(&cfg.Seed, "seed", 1, "simulation seed")
	fs.IntVar(&cfg.Page, "page", 10000, "events per ReadAll page of the plain read")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the bench_ schema or SQLite file")
	fs.StringVar(&cfg.Schema, "schema", "", "reuse this kept bench_ schema (postgres): skip seeding")
	fs.BoolVar(&cfg.Reuse, "reuse", false, "reuse the SQLite file --dsn, seeded and kept by an earlier run: skip seeding")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the rebuild to this file")
	fs.BoolVar(&cfg.CatchUp, "catchup", false, "then also time the live runners folding the whole log from empty read models")
	fs.IntVar(&cfg.Writes, "writes", 0, "append this many events a second while the rebuild runs and report their latency")
	_ = fs.Bool("json", true, "print the report as JSON (the only format)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	report, err := bench.RunRebuild(ctx, cfg)
	if err != nil {
		return err
	}
	return bench.WriteJSON(stdout, report)
}

func benchLag(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("lag", stderr)
	cfg := bench.LagConfig{Progress: stderr}
	fs.StringVar(&cfg.Store, "store", "postgres", "postgres or sqlite")
	fs.StringVar(&cfg.DSN, "dsn", "", "PostgreSQL URL (default the local server; a bench_<random> schema is used) or SQLite file path (default a temporary file)")
	fs.IntVar(&cfg.Rate, "rate", 1000, "events appended per second")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to append")
	fs.IntVar(&cfg.Writers, "writers", bench.DefaultLagWriters, "concurrent writers (each event goes to a free one)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the bench_ schema or SQLite file")
	_ = fs.Bool("json", true, "print the report as JSON (the only format)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	report, err := bench.RunLag(ctx, cfg)
	if err != nil {
		return err
	}
	return bench.WriteJSON(stdout, report)
}
