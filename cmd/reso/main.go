// Command reso is Réso's product binary: serve, migrate, projections,
// import (Signaux Faibles lists) and simulate (which writes the demo's
// workload). Each subcommand lives in its
// own file of this package, registers itself in commands, parses its flags
// and calls into internal/. Benchmarks and load generators are a command of
// their own, cmd/reso-bench, so that this binary links no benchmark code.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand; name may have two words ("projections status").
type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

// logLevel is the level of every command's logs (env RESO_LOG_LEVEL: debug,
// info, warn or error); debug adds, for instance, the time each step of a
// rebuild takes.
var logLevel slog.LevelVar

// register adds a subcommand; each command file calls it from init.
func register(name, summary string, run func(ctx context.Context, args []string) error) {
	if _, dup := commands[name]; dup {
		panic("reso: command registered twice: " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "reso:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if err := logLevel.UnmarshalText([]byte(serveEnv("RESO_LOG_LEVEL", "info"))); err != nil {
		return fmt.Errorf("RESO_LOG_LEVEL: %w", err)
	}
	slog.SetLogLoggerLevel(logLevel.Level())
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage()
		return nil
	}
	if args[0] == "--version" || args[0] == "-version" {
		return runVersion(ctx, nil)
	}
	if len(args) >= 2 {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			return c.run(ctx, args[2:])
		}
	}
	if c, ok := commands[args[0]]; ok {
		return c.run(ctx, args[1:])
	}
	if args[0] == "bench" {
		return errors.New(`the benchmarks moved out of reso: run "` + strings.Join(append([]string{"reso-bench"}, args[1:]...), " ") + `" (go run ./cmd/reso-bench …)`)
	}
	usage()
	return fmt.Errorf("unknown command %q", strings.Join(args[:min(2, len(args))], " "))
}

// printJSON writes v on stdout as one JSON object on one line. It returns
// the encoding or write error.
func printJSON(v any) error {
	if err := json.NewEncoder(os.Stdout).Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

func usage() {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(os.Stderr, "usage: reso COMMAND [flags]\n\ncommands:")
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-22s %s\n", n, commands[n].summary)
	}
}
