package verify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/backup"
)

// Options tunes Run.
type Options struct {
	// LogOnly skips the comparison of the read models with a rebuild.
	LogOnly bool
	// Progress, when set, is called after each page of the log's first
	// pass with the events read.
	Progress func(events int64)
}

// Run verifies the store b: the log (Log), then its read models
// (ReadModels) unless o.LogOnly or the log has problems (a rebuild from a
// log with holes or unreadable events proves nothing, or fails). Positions
// are checked dense on SQLite. It returns the report, and an error when a
// check could not run.
func Run(ctx context.Context, b *backend.Backend, o Options) (*Report, error) {
	r, err := Log(ctx, b.Events, LogOptions{DensePositions: b.Kind == "sqlite", Progress: o.Progress})
	if err != nil || o.LogOnly {
		return r, err
	}
	if !r.OK() {
		r.problem("read models not compared: the log has problems")
		return r, nil
	}
	return r, ReadModels(ctx, r, b.Projections, b.Events, b.DB.SQL())
}

// Open opens the store cfg names for Run. On SQLite it first copies the
// file (backup.SQLite) into a temporary directory and opens the copy: a
// verification never writes the live file, and may run while the server
// serves. On PostgreSQL it opens the database itself: its rebuild replaces
// the live read models (with equal ones, when nothing is found), and the
// log must not move meanwhile. done closes the store and removes the copy.
// It returns the copy's or backend.Open's error.
func Open(ctx context.Context, cfg backend.Config) (b *backend.Backend, done func(), err error) {
	if cfg.DatabaseURL != "" || cfg.EventStoreURL != "" || cfg.DataDir == "" {
		b, err := backend.Open(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		return b, func() { b.Close() }, nil
	}
	tmp, err := os.MkdirTemp("", "reso-verify-")
	if err != nil {
		return nil, nil, fmt.Errorf("verify: %w", err)
	}
	if _, err := backup.SQLite(ctx, filepath.Join(cfg.DataDir, backup.FileName), filepath.Join(tmp, backup.FileName)); err != nil {
		os.RemoveAll(tmp)
		return nil, nil, fmt.Errorf("verify: copy the store: %w", err)
	}
	cfg.DataDir = tmp
	b, err = backend.Open(ctx, cfg)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, nil, err
	}
	return b, func() { b.Close(); os.RemoveAll(tmp) }, nil
}
