package backup

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/reso-fr/reso/eventstore/postgres"
	"github.com/reso-fr/reso/internal/backend"
)

// ErrUnsupported means the configuration's store has no backup here: a
// KurrentDB log is backed up with KurrentDB's own tools, its PostgreSQL
// database with pg_dump (DumpCommand).
var ErrUnsupported = errors.New("backup: not supported for this store")

// Result says what Backup or Restore did.
type Result struct {
	Kind  string // "sqlite" or "postgres"
	File  string
	Bytes int64 // size of the backup written (Backup)
	// Replaced is where Restore set the SQLite store it replaced aside.
	Replaced string
	// Rebased: Restore renumbered the PostgreSQL log's positions
	// (postgres.RebaseAfterRestore) and rebuilt the read models.
	Rebased bool
}

// Backup writes a consistent copy of the store cfg names to file, which
// must not exist: SQLite with VACUUM INTO, PostgreSQL with pg_dump. The
// server may keep running. It returns ErrExists, ErrNoData, ErrUnsupported
// (KurrentDB), an error wrapping ErrNoTool with the pg_dump command to run,
// and the database's or the tool's error.
func Backup(ctx context.Context, cfg backend.Config, file string) (Result, error) {
	switch {
	case cfg.EventStoreURL != "":
		return Result{}, fmt.Errorf("%w: back up KurrentDB with its own tools and the PostgreSQL database with pg_dump", ErrUnsupported)
	case cfg.DatabaseURL != "":
		n, err := Postgres(ctx, cfg.DatabaseURL, file)
		return Result{Kind: "postgres", File: file, Bytes: n}, err
	case cfg.DataDir != "":
		n, err := SQLite(ctx, filepath.Join(cfg.DataDir, FileName), file)
		return Result{Kind: "sqlite", File: file, Bytes: n}, err
	}
	return Result{}, fmt.Errorf("%w: set a data directory or a database URL", backend.ErrConfig)
}

// Restore installs the backup file as the store cfg names. Its servers must
// be stopped. An existing store is replaced only when force is set (on
// SQLite the file replaced is kept beside, see RestoreSQLite). On
// PostgreSQL, pg_restore runs in one transaction; when the dump comes from
// a cluster whose transaction ids are ahead of this one's, the log's
// positions are renumbered and every read model rebuilt (Result.Rebased).
// It returns ErrExists, ErrNoData, ErrUnsupported, an error wrapping
// ErrNoTool, and the database's or the tool's error.
func Restore(ctx context.Context, cfg backend.Config, file string, force bool) (Result, error) {
	switch {
	case cfg.EventStoreURL != "":
		return Result{}, fmt.Errorf("%w: restore KurrentDB with its own tools and the PostgreSQL database with pg_restore", ErrUnsupported)
	case cfg.DatabaseURL != "":
		return restorePostgres(ctx, cfg, file, force)
	case cfg.DataDir != "":
		replaced, err := RestoreSQLite(ctx, file, cfg.DataDir, force)
		return Result{Kind: "sqlite", File: file, Replaced: replaced}, err
	}
	return Result{}, fmt.Errorf("%w: set a data directory or a database URL", backend.ErrConfig)
}

func restorePostgres(ctx context.Context, cfg backend.Config, file string, force bool) (Result, error) {
	res := Result{Kind: "postgres", File: file}
	t, err := parseTarget(cfg.DatabaseURL)
	if err != nil {
		return res, err
	}
	if err := restoreDump(ctx, cfg.DatabaseURL, t, file, force); err != nil {
		return res, err
	}
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return res, fmt.Errorf("restore: connect: %w", err)
	}
	res.Rebased, err = postgres.RebaseAfterRestore(ctx, pool)
	pool.Close()
	if err != nil || !res.Rebased {
		return res, err
	}
	// Every checkpoint names positions that no longer exist.
	b, err := backend.Open(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer b.Close()
	if err := b.Projections.RebuildAll(ctx, nil); err != nil {
		return res, fmt.Errorf("restore: rebuild the read models: %w", err)
	}
	return res, b.Close()
}
