package main

import (
	"context"
	"io"
	"time"

	"github.com/reso-fr/reso/internal/bench"
)

func benchAppend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("append", stderr)
	cfg := bench.AppendConfig{Progress: stderr}
	fs.StringVar(&cfg.Store, "store", "postgres", "postgres, sqlite or memory")
	fs.StringVar(&cfg.DSN, "dsn", "", "PostgreSQL URL (default the local server; a bench_<random> schema is used) or SQLite file path")
	fs.IntVar(&cfg.Writers, "writers", 8, "concurrent writers")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long each phase runs")
	fs.IntVar(&cfg.Batch, "batch", 1, "events per append")
	fs.Float64Var(&cfg.Contention, "contention", 0, "share of appends (0..1) to streams shared by all writers")
	fs.IntVar(&cfg.HotStreams, "hot-streams", 4, "number of shared streams when --contention > 0")
	fs.IntVar(&cfg.StreamLength, "stream-length", 100, "events per writer stream before a new one starts")
	fs.BoolVar(&cfg.Baseline, "baseline", false, "also measure plain INSERTs of the same rows (postgres)")
	fs.BoolVar(&cfg.BaselineIndexes, "baseline-indexes", false, "give the baseline table the store's unique indexes")
	fs.IntVar(&cfg.Rounds, "rounds", 3, "with --baseline: alternating store/baseline slices sharing --duration")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the bench_ schema")
	_ = fs.Bool("json", true, "print the report as JSON (the only format)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	report, err := bench.RunAppend(ctx, cfg)
	if err != nil {
		return err
	}
	return bench.WriteJSON(stdout, report)
}

func benchRead(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("read", stderr)
	cfg := bench.ReadConfig{Progress: stderr}
	fs.StringVar(&cfg.Store, "store", "postgres", "postgres, sqlite or memory")
	fs.StringVar(&cfg.DSN, "dsn", "", "PostgreSQL URL (default the local server; a bench_<random> schema is used) or SQLite file path")
	fs.IntVar(&cfg.Events, "events", 1000000, "events to seed and read")
	fs.IntVar(&cfg.Page, "page", 10000, "events per ReadAll page")
	fs.IntVar(&cfg.StreamLength, "stream-length", 10, "events per seeded stream")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the bench_ schema")
	_ = fs.Bool("json", true, "print the report as JSON (the only format)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	report, err := bench.RunRead(ctx, cfg)
	if err != nil {
		return err
	}
	return bench.WriteJSON(stdout, report)
}
