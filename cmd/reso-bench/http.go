package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/reso-fr/reso/internal/bench"
)

func benchHTTP(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("http", stderr)
	cfg := bench.HTTPConfig{Progress: stderr}
	fs.StringVar(&cfg.DSN, "dsn", "", "PostgreSQL URL (default the local server; a bench_<random> schema is used)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long each measured phase runs")
	fs.IntVar(&cfg.Clients, "clients", 32, "concurrent keep-alive HTTP clients")
	fs.IntVar(&cfg.Needs, "needs", 1_000_000, "needs seeded before measuring (for the stats target)")
	fs.BoolVar(&cfg.IdempotencyKeys, "idempotency-keys", false, "send an Idempotency-Key with every command")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the bench_ schema")
	fs.StringVar(&cfg.Schema, "schema", "", "reuse this bench_ schema (left by --keep) and its directory instead of seeding new ones; kept")
	inProcess := fs.Bool("load-in-process", false, "run the load in this process, not in a child (CPU per request then counts server and client together)")
	_ = fs.Bool("json", true, "print the report as JSON (the only format)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (server included) to this file")
	profilePhase := fs.String("cpuprofile-phase", "", "with --cpuprofile: profile only this phase (commands, get_need or stats)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*inProcess {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("http: find this binary: %w", err)
		}
		cfg.ClientCommand = []string{self}
	}
	stopProfile := func() error { return nil }
	if *profilePhase != "" {
		if *cpuProfile == "" {
			return errors.New("http: --cpuprofile-phase needs --cpuprofile")
		}
		hook, closeFile, err := bench.PhaseCPUProfile(*cpuProfile, *profilePhase, stderr)
		if err != nil {
			return err
		}
		defer closeFile()
		cfg.Phase = hook
	} else {
		var err error
		if stopProfile, err = bench.StartCPUProfile(*cpuProfile); err != nil {
			return err
		}
	}
	report, err := bench.RunHTTP(ctx, cfg)
	if perr := stopProfile(); err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	return bench.WriteJSON(stdout, report)
}
