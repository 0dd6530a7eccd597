package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/postgres"
	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/internal/pgschema"
	"github.com/reso-fr/reso/sqldb"
)

// readModelTarget is a log and the read-model database beside it, as a
// deployment has them: one SQLite file, or one PostgreSQL schema.
type readModelTarget struct {
	store eventstore.Store
	db    sqldb.DB
	close []func() error
}

func (t *readModelTarget) Close() {
	for i := len(t.close) - 1; i >= 0; i-- {
		_ = t.close[i]()
	}
}

// openPostgres opens the store and the read models' database on one pool
// of dsn, registering what Close must close.
func (t *readModelTarget) openPostgres(ctx context.Context, dsn string) error {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return err
	}
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	t.close = append(t.close, func() error { pool.Close(); return nil })
	st, err := postgres.New(ctx, pool)
	if err != nil {
		return err
	}
	t.close = append(t.close, st.Close)
	db := stdlib.OpenDBFromPool(pool)
	t.db, t.store = sqldb.NewPostgres(db), st
	t.close = append(t.close, db.Close)
	return nil
}

// openReadModelTarget opens kind ("postgres": a fresh bench_ schema of dsn;
// "sqlite": the file dsn, or a temporary one when dsn is empty). It returns
// the connection or migration error.
func openReadModelTarget(ctx context.Context, kind, dsn string, keep bool) (*readModelTarget, error) {
	t := &readModelTarget{}
	switch kind {
	case "postgres":
		if dsn == "" {
			dsn = pgschema.DefaultURL
		}
		schemaDSN, _, drop, err := TempSchema(ctx, dsn, keep)
		if err != nil {
			return nil, err
		}
		t.close = append(t.close, drop)
		if err := t.openPostgres(ctx, schemaDSN); err != nil {
			t.Close()
			return nil, err
		}
	case "sqlite":
		path := dsn
		if path == "" {
			dir, err := os.MkdirTemp("", "reso-bench-")
			if err != nil {
				return nil, err
			}
			if !keep {
				t.close = append(t.close, func() error { return os.RemoveAll(dir) })
			}
			path = filepath.Join(dir, "reso.db")
		}
		db, err := sqlite.OpenDB(path)
		if err != nil {
			t.Close()
			return nil, err
		}
		t.close = append(t.close, db.Close)
		st, err := sqlite.New(ctx, db)
		if err != nil {
			t.Close()
			return nil, err
		}
		t.close = append(t.close, st.Close)
		t.db, t.store = db, st
	default:
		return nil, fmt.Errorf("unknown store %q (want postgres or sqlite)", kind)
	}
	return t, nil
}

// openExistingTarget opens a log seeded by an earlier run kept with --keep:
// the PostgreSQL schema of dsn (kind "postgres"), or the SQLite file dsn.
// Nothing is dropped on Close. It returns the connection error.
func openExistingTarget(ctx context.Context, kind, dsn, schema string) (*readModelTarget, error) {
	switch kind {
	case "postgres":
		if schema == "" {
			return nil, fmt.Errorf("reuse: give the kept bench_ schema")
		}
		if dsn == "" {
			dsn = pgschema.DefaultURL
		}
		t := &readModelTarget{}
		if err := t.openPostgres(ctx, pgschema.WithParam(dsn, "search_path", schema)); err != nil {
			t.Close()
			return nil, err
		}
		return t, nil
	case "sqlite":
		if dsn == "" {
			return nil, fmt.Errorf("reuse: give the kept SQLite file as --dsn")
		}
		if _, err := os.Stat(dsn); err != nil {
			return nil, fmt.Errorf("reuse: %w", err)
		}
		return openReadModelTarget(ctx, kind, dsn, true)
	}
	return nil, fmt.Errorf("unknown store %q (want postgres or sqlite)", kind)
}
