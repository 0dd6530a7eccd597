package main

import (
	"context"
	"io"
	"os"

	"github.com/reso-fr/reso/internal/bench"
	"github.com/reso-fr/reso/internal/consolebench"
)

// benchConsole times every console page as its role over a simulated
// store (internal/consolebench).
func benchConsole(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("console", stderr)
	o := consolebench.Options{Out: stderr}
	fs.IntVar(&o.Needs, "needs", 100_000, "needs to simulate")
	fs.IntVar(&o.Requests, "requests", 200, "requests per page")
	fs.Int64Var(&o.Seed, "seed", 1, "simulation seed")
	fs.StringVar(&o.DataDir, "dir", "", "the embedded store's directory, kept (a store with events is measured as it is); default a temporary one")
	markdown := fs.Bool("markdown", false, "print the table of docs/benchmarks.md instead of JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.DataDir == "" {
		dir, err := os.MkdirTemp("", "reso-bench-console-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.DataDir = dir
	}
	res, err := consolebench.Run(ctx, o)
	if err != nil {
		return err
	}
	if *markdown {
		res.Markdown(stdout)
		return nil
	}
	return bench.WriteJSON(stdout, res)
}
