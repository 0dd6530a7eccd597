package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/reso-fr/reso/internal/demo"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/server"
)

// TestMasterKeyAtStart: a store started with its master key opens; with
// another it refuses, saying so; without one it refuses; a demo generates
// its own in the data directory, readable by its owner only, and reuses it.
func TestMasterKeyAtStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func(cfg server.Config) error {
		cfg.DataDir, cfg.Logger = dir, quiet
		srv, err := server.New(ctx, cfg)
		if err != nil {
			return err
		}
		return srv.Shutdown(ctx)
	}
	own, other := mustMasters(t), mustMasters(t)
	if err := start(server.Config{MasterKeys: own}); err != nil {
		t.Fatalf("first start: %v", err)
	}
	if err := start(server.Config{MasterKeys: own}); err != nil {
		t.Fatalf("restart with its key: %v", err)
	}
	if err := start(server.Config{MasterKeys: other}); !errors.Is(err, keys.ErrWrongMasterKey) {
		t.Fatalf("another key: %v, want ErrWrongMasterKey", err)
	}
	if err := start(server.Config{}); !errors.Is(err, keys.ErrNoMasterKey) {
		t.Fatalf("no key: %v, want ErrNoMasterKey", err)
	}

	demoDir := filepath.Join(t.TempDir(), "demo")
	startDemo := func() error {
		// One month of history: the seeding is not what is tested.
		srv, err := server.New(ctx, server.Config{DataDir: demoDir, Logger: quiet, Demo: true,
			DemoOptions: demo.Options{Seed: 1, Months: 1, Out: io.Discard}})
		if err != nil {
			return err
		}
		return srv.Shutdown(ctx)
	}
	if err := startDemo(); err != nil {
		t.Fatalf("demo: %v", err)
	}
	st, err := os.Stat(filepath.Join(demoDir, "master.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("demo master key: %v, mode %v", err, st.Mode().Perm())
	}
	if err := startDemo(); err != nil {
		t.Fatalf("the demo's second start, with its own key: %v", err)
	}
}
