package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/sqlite"
)

// openSQLite opens the SQLite store at path. With no path it uses a new
// file in the temporary directory and, unless keep is set, removes it (and
// its WAL files) in cleanup; a given path is the caller's and stays.
func openSQLite(ctx context.Context, path string, keep bool) (eventstore.Store, func() error, error) {
	cleanup := func() error { return nil }
	if path == "" {
		dir, err := os.MkdirTemp("", "reso-bench-")
		if err != nil {
			return nil, nil, fmt.Errorf("sqlite bench file: %w", err)
		}
		path = filepath.Join(dir, "bench.db")
		if !keep {
			cleanup = func() error { return os.RemoveAll(dir) }
		}
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		_ = cleanup()
		return nil, nil, err
	}
	return s, cleanup, nil
}
