package main

import (
	"context"
	"flag"
	"os"
	"time"

	"github.com/reso-fr/reso/internal/bench"
)

func init() {
	register("bench rebuild", "seed N simulated events, then measure the plain read and the rebuild of every read model", benchRebuild)
	register("bench lag", "append at --rate events/s and measure the live lag of the read models (p50/p99)", benchLag)
}

func benchRebuild(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench rebuild", flag.ContinueOnError)
	cfg := bench.RebuildConfig{Progress: os.Stderr}
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
	return bench.WriteJSON(os.Stdout, report)
}

func benchLag(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench lag", flag.ContinueOnError)
	cfg := bench.LagConfig{Progress: os.Stderr}
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
	return bench.WriteJSON(os.Stdout, report)
}
