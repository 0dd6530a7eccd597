// Command reso-bench runs Réso's end-to-end benchmarks and load generators
// (docs/benchmarks.md): appends and reads of the log, the HTTP API under
// load, rebuilds and live lag of the read models, the funders' statistics
// and the pure domain. Each prints one JSON report on stdout and progress on
// stderr. It is kept apart from the product binary reso, which links no
// benchmark code. Each subcommand's file parses its flags and calls into
// internal/bench, which holds the harness.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/reso-fr/reso/internal/bench"
	"github.com/reso-fr/reso/internal/chaos"
)

// command is one subcommand: it parses args and writes its report on
// stdout, progress on stderr.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"append", "measure appends: writers, batch, latency, conflicts (--baseline: vs plain INSERTs)", benchAppend},
	{"chaos", "the crash suite: clients at full speed while the server is SIGKILLed; nothing lost or doubled", benchChaos},
	{"console", "time every console page as its role over N simulated needs", benchConsole},
	{"domain", "measure the pure domain: geography parse, routing, need fold, event codec, SIRET", benchDomain},
	{"http", "start the server on PostgreSQL, seed needs, measure commands, GET need and stats over HTTP", benchHTTP},
	{"lag", "append at --rate events/s and measure the live lag of the read models (p50/p99)", benchLag},
	{"notify", "measure mail deliveries to a real Mailpit: per second, and forward-to-mail delay", benchNotify},
	{"read", "seed N events, then measure reading the whole log in global order", benchRead},
	{"rebuild", "seed N simulated events, then measure the plain read and the rebuild of every read model", benchRebuild},
	{"signaux", "simulate N needs, import a large Signaux Faibles list, measure the needs joined with it and the companies to visit", benchSignaux},
	{"stats", "seed N needs, rebuild the read models, measure the funders' statistics queries", benchStats},
}

func main() {
	if os.Getenv(chaos.ServeEnv) == "1" {
		os.Exit(chaos.ServeFromEnv()) // the server the chaos command kills
	}
	if os.Getenv(bench.HTTPClientEnv) == "1" {
		os.Exit(bench.HTTPClientFromEnv(context.Background(), os.Stdin, os.Stdout, os.Stderr)) // the load of one http phase
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "reso-bench:", err)
		os.Exit(1)
	}
}

// run dispatches args to their command. It returns the command's error, or
// an error naming an unknown command.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// RESO_LOG_LEVEL as for reso: debug adds, for instance, the time each
	// step of a rebuild takes.
	level := os.Getenv("RESO_LOG_LEVEL")
	if level == "" {
		level = "info"
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("RESO_LOG_LEVEL: %w", err)
	}
	slog.SetLogLoggerLevel(lv)
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: reso-bench COMMAND [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}

// newFlags is a command's flag set, printing its errors and usage on stderr.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("reso-bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
