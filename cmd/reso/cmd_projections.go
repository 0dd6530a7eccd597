package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/readmodels"
)

func init() {
	register("projections status", "show each projection: position, lag (events, seconds), state, last error", runProjectionsStatus)
	register("projections rebuild", "rebuild NAME or --all read models beside the live ones, then swap them in", runProjectionsRebuild)
}

// storageFlags are the flags every command opening the storage shares.
func storageFlags(fs *flag.FlagSet) func() backend.Config {
	data := fs.String("data", serveEnv("RESO_DATA", "./reso-data"), "data directory of the embedded SQLite store (env RESO_DATA)")
	dbURL := fs.String("database-url", os.Getenv("RESO_DATABASE_URL"), "postgres:// URL (env RESO_DATABASE_URL)")
	esURL := fs.String("eventstore-url", os.Getenv("RESO_EVENTSTORE_URL"), "kurrentdb:// URL for the log (env RESO_EVENTSTORE_URL)")
	return func() backend.Config {
		return backend.Config{DataDir: *data, DatabaseURL: *dbURL, EventStoreURL: *esURL}
	}
}

func runProjectionsStatus(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("projections status", flag.ContinueOnError)
	cfg := storageFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := backend.Open(ctx, cfg())
	if err != nil {
		return err
	}
	defer b.Close()
	sts, err := b.Projections.Status(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(sts)
	}
	fmt.Printf("%-10s %-34s %10s %10s %-10s %s\n", "NAME", "POSITION", "LAG", "LAG_S", "STATE", "LAST_ERROR")
	for _, s := range sts {
		fmt.Printf("%-10s %-34s %10d %10.1f %-10s %s\n", s.Name, s.Position, s.LagEvents, s.LagSeconds, s.State, s.LastError)
	}
	return nil
}

func runProjectionsRebuild(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("projections rebuild", flag.ContinueOnError)
	cfg := storageFlags(fs)
	all := fs.Bool("all", false, "rebuild every projection")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *all == (fs.NArg() == 1) || fs.NArg() > 1 {
		return fmt.Errorf("projections rebuild: give one NAME (%v) or --all", readmodels.Names())
	}
	b, err := backend.Open(ctx, cfg())
	if err != nil {
		return err
	}
	defer b.Close()
	progress := rebuildPrinter(os.Stderr)
	start := time.Now()
	if *all {
		err = b.Projections.RebuildAll(ctx, progress)
	} else {
		err = b.Projections.Rebuild(ctx, fs.Arg(0), progress)
	}
	if err != nil {
		return err
	}
	fmt.Printf("rebuilt in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// rebuildPrinter shows progress on one updated line on a terminal, one
// line every few seconds otherwise.
func rebuildPrinter(w *os.File) func(projections.Progress) {
	tty := isTerminal(w)
	var last time.Time
	return func(p projections.Progress) {
		final := p.Phase == "done"
		if !final && !tty && time.Since(last) < 5*time.Second {
			return
		}
		last = time.Now()
		line := fmt.Sprintf("%v %-5s %d/%d events  %.0f events/s  ETA %s", p.Projections, p.Phase, p.Events, p.Total,
			p.EventsPerSec, p.ETA.Round(time.Second))
		switch {
		case tty && final:
			fmt.Fprintf(w, "\r%-100s\n", line)
		case tty:
			fmt.Fprintf(w, "\r%-100s", line)
		default:
			fmt.Fprintln(w, line)
		}
	}
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
