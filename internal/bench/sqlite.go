package bench

import (
	"context"
	"errors"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/sqlite"
)

// openSQLite opens the SQLite store at path (created when missing).
func openSQLite(ctx context.Context, path string) (eventstore.Store, error) {
	if path == "" {
		return nil, errors.New("--dsn must be the SQLite file path")
	}
	return sqlite.Open(ctx, path)
}
