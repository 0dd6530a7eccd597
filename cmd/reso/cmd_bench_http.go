package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/reso-fr/reso/internal/bench"
)

func init() {
	register("bench http", "start the server on PostgreSQL, seed needs, measure commands, GET need and stats over HTTP", benchHTTP)
}

func benchHTTP(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench http", flag.ContinueOnError)
	cfg := bench.HTTPConfig{Progress: os.Stderr}
	fs.StringVar(&cfg.DSN, "dsn", "", "PostgreSQL URL (default the local server; a bench_<random> schema is used)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long each measured phase runs")
	fs.IntVar(&cfg.Clients, "clients", 32, "concurrent keep-alive HTTP clients")
	fs.IntVar(&cfg.Needs, "needs", 1_000_000, "needs seeded before measuring (for the stats target)")
	fs.BoolVar(&cfg.IdempotencyKeys, "idempotency-keys", false, "send an Idempotency-Key with every command")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the bench_ schema")
	asJSON := fs.Bool("json", true, "print the report as JSON (the only format)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (server included) to this file")
	profilePhase := fs.String("cpuprofile-phase", "", "with --cpuprofile: profile only this phase (commands, get_need or stats)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_ = asJSON
	stopProfile := func() error { return nil }
	if *profilePhase != "" {
		if *cpuProfile == "" {
			return errors.New("bench http: --cpuprofile-phase needs --cpuprofile")
		}
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.Phase = func(name string) func() {
			if name != *profilePhase {
				return nil
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				fmt.Fprintf(os.Stderr, "cpu profile: %v\n", err)
				return nil
			}
			return pprof.StopCPUProfile
		}
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
	return bench.WriteJSON(os.Stdout, report)
}
