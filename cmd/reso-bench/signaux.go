package main

import (
	"context"
	"io"

	"github.com/reso-fr/reso/internal/bench"
)

func benchSignaux(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("signaux", stderr)
	cfg := bench.SignauxConfig{Progress: stderr}
	fs.StringVar(&cfg.Store, "store", "postgres", "postgres or sqlite")
	fs.StringVar(&cfg.DSN, "dsn", "", "PostgreSQL URL (default the local server; a bench_<random> schema is used) or SQLite file path")
	fs.IntVar(&cfg.Needs, "needs", 120_000, "needs to simulate")
	fs.IntVar(&cfg.Lines, "lines", 100_000, "lines of the list imported on top")
	fs.IntVar(&cfg.Runs, "runs", 30, "runs of each query")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the bench_ schema or SQLite file")
	_ = fs.Bool("json", true, "print the report as JSON (the only format)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	report, err := bench.RunSignaux(ctx, cfg)
	if err != nil {
		return err
	}
	return bench.WriteJSON(stdout, report)
}
