package bench

import (
	"context"
	"errors"

	"github.com/reso-fr/reso/eventstore"
)

// openSQLite opens the SQLite store at path.
func openSQLite(ctx context.Context, path string) (eventstore.Store, error) {
	_, _ = ctx, path
	return nil, errors.New("the sqlite store is not available yet")
}
