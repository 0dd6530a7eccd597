package main

import (
	"context"
	"encoding/json"
	"io"

	"github.com/reso-fr/reso/internal/bench"
)

func benchDomain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("domain", stderr)
	cfg := bench.DomainConfig{Progress: stderr}
	fs.IntVar(&cfg.Referents, "referents", 5000, "referents in the routing directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	report, err := bench.RunDomain(ctx, cfg)
	if err != nil {
		return err
	}
	// Indented, as this report has always been printed.
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(report)
}
