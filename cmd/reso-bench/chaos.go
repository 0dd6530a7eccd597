package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/reso-fr/reso/internal/bench"
	"github.com/reso-fr/reso/internal/chaos"
	"github.com/reso-fr/reso/internal/pgschema"
)

// benchChaos runs the crash suite (internal/chaos) against this very
// binary as the server: main serves when chaos.ServeEnv is set.
func benchChaos(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("chaos", stderr)
	store := fs.String("store", "sqlite", "sqlite or postgres")
	dsn := fs.String("dsn", "", "PostgreSQL URL (default the local server; a bench_<random> schema is used and dropped)")
	o := chaos.CrashOptions{}
	fs.IntVar(&o.Clients, "clients", 32, "concurrent clients")
	fs.IntVar(&o.Kills, "kills", 10, "SIGKILLs of the server")
	fs.DurationVar(&o.MinUp, "min-up", 300*time.Millisecond, "shortest time the server runs before a kill")
	fs.DurationVar(&o.MaxUp, "max-up", 1500*time.Millisecond, "longest time the server runs before a kill")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "workload seed")
	keep := fs.Bool("keep", false, "keep the data directory (and its server.log) or the schema")
	_ = fs.Bool("json", true, "print the report as JSON (the only format)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("chaos: find this binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "reso-bench-chaos-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	log, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	var dbURL string
	switch *store {
	case "sqlite":
	case "postgres":
		base := *dsn
		if base == "" {
			base = pgschema.DefaultURL
		}
		schema, err := pgschema.Create(ctx, base, "bench_")
		if err != nil {
			return err
		}
		if !*keep {
			defer pgschema.Drop(context.WithoutCancel(ctx), base, schema)
		}
		dbURL = pgschema.WithParam(base, "search_path", schema)
	default:
		return fmt.Errorf("chaos: --store %q: sqlite or postgres", *store)
	}
	o.Server = &chaos.Server{Command: []string{self}, Env: []string{chaos.ServeEnv + "=1"},
		DataDir: filepath.Join(dir, "data"), DatabaseURL: dbURL, AdminToken: "reso_bench_chaos_admin_token_0123456789", Log: log}
	o.Seed = *seed
	o.Logf = func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	fig, err := chaos.Crash(ctx, o)
	if err != nil {
		return fmt.Errorf("chaos: %w (server log: %s)", err, log.Name())
	}
	if werr := bench.WriteJSON(stdout, fig); werr != nil {
		return werr
	}
	if !fig.OK() {
		return errors.New("chaos: something was lost, duplicated, mismatched or left unanswered (see the report)")
	}
	return nil
}
