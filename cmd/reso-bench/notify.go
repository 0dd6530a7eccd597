package main

import (
	"context"
	"io"
	"time"

	"github.com/reso-fr/reso/internal/bench"
)

// benchNotify measures mail deliveries to a real Mailpit (on PATH or in
// $GOPATH/bin: go install github.com/axllent/mailpit@v1.33.1).
func benchNotify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("notify", stderr)
	cfg := bench.NotifyConfig{Progress: stderr}
	fs.StringVar(&cfg.Store, "store", "sqlite", "sqlite or postgres")
	fs.StringVar(&cfg.DSN, "dsn", "", "PostgreSQL URL (default the local server; a bench_<random> schema is used)")
	fs.IntVar(&cfg.Burst, "burst", 500, "needs forwarded at once, to two referents each: deliveries per second")
	fs.IntVar(&cfg.Paced, "paced", 200, "needs then forwarded one every --interval: the forward-to-mail delay")
	fs.DurationVar(&cfg.Interval, "interval", 100*time.Millisecond, "time between paced forwards")
	fs.IntVar(&cfg.Workers, "workers", 0, "deliveries the notifier runs at once (0: its default, 8)")
	_ = fs.Bool("json", true, "print the report as JSON (the only format)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rep, err := bench.RunNotify(ctx, cfg)
	if err != nil {
		return err
	}
	return bench.WriteJSON(stdout, rep)
}
