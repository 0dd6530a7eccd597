package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/memory"
	"github.com/reso-fr/reso/eventstore/postgres"
	"github.com/reso-fr/reso/internal/pgschema"
)

// Target is a store opened for a benchmark, with what its cleanup needs.
type Target struct {
	Kind  string // postgres, sqlite or memory
	Store eventstore.Store
	// PostgresDSN is the DSN of the throw-away schema (postgres only), for
	// baselines that write beside the store.
	PostgresDSN string
	Schema      string
	close       []func() error
}

// Close closes the store and drops its throw-away schema, if any. It
// returns the first error.
func (t *Target) Close() error {
	var errs []error
	for i := len(t.close) - 1; i >= 0; i-- {
		if err := t.close[i](); err != nil && !errors.Is(err, eventstore.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// OpenTarget opens the store named kind: postgres in a fresh bench_<random>
// schema of dsn (kept when keep is set) with a pool of conns connections;
// sqlite at the file path dsn (a temporary file when empty, removed unless
// keep is set); memory ignores dsn. It returns an error for
// an unknown kind or when the store cannot be opened.
func OpenTarget(ctx context.Context, kind, dsn string, keep bool, conns int) (*Target, error) {
	t := &Target{Kind: kind}
	switch kind {
	case "memory":
		s := memory.New()
		t.Store = s
		t.close = append(t.close, s.Close)
	case "postgres":
		if dsn == "" {
			dsn = pgschema.DefaultURL
		}
		schemaDSN, schema, drop, err := TempSchema(ctx, dsn, keep)
		if err != nil {
			return nil, err
		}
		t.close = append(t.close, drop)
		t.PostgresDSN, t.Schema = schemaDSN, schema
		s, err := postgres.Open(ctx, pgschema.WithParam(schemaDSN, "pool_max_conns", strconv.Itoa(max(conns, 4))))
		if err != nil {
			_ = t.Close()
			return nil, err
		}
		t.Store = s
		t.close = append(t.close, s.Close)
	case "sqlite":
		s, cleanup, err := openSQLite(ctx, dsn, keep)
		if err != nil {
			return nil, err
		}
		t.Store = s
		t.close = append(t.close, cleanup, s.Close)
	default:
		return nil, fmt.Errorf("unknown store %q (want postgres, sqlite or memory)", kind)
	}
	return t, nil
}
