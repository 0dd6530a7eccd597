// Package backend opens Réso's storage from configuration: the event log,
// the SQL database holding read models, contact keys, credentials and
// idempotency records, and runs every migration at open.
//
// Three shapes are supported: the embedded default (one SQLite file in a
// data directory holds everything), PostgreSQL (a postgres:// URL holds
// everything), and KurrentDB for the log (a kurrentdb:// URL) with
// PostgreSQL for the rest.
package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/kurrentdb"
	"github.com/reso-fr/reso/eventstore/postgres"
	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/internal/auth"
	"github.com/reso-fr/reso/internal/idempotency"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/websession"
	"github.com/reso-fr/reso/projections/readmodels"
	"github.com/reso-fr/reso/sqldb"
	"github.com/reso-fr/reso/sqlmigrate"
)

// ErrConfig means the configuration names no usable storage, or a
// combination Réso does not support.
var ErrConfig = errors.New("backend: invalid configuration")

// Config says where data lives. DatabaseURL, when set, wins over DataDir.
type Config struct {
	// DataDir holds the embedded SQLite file reso.db (created if needed).
	DataDir string
	// DatabaseURL is a postgres:// URL for the log (unless EventStoreURL is
	// set) and everything else.
	DatabaseURL string
	// EventStoreURL is a kurrentdb:// URL for the log; DatabaseURL is then
	// required for the rest.
	EventStoreURL string
	// Projections configures the read-model engine.
	Projections readmodels.Options
	// Masters wrap the contact keys: the first wraps new keys, the others
	// (previous masters, during a rotation) only unwrap. Without any, Keys
	// is nil: what seals or opens contacts cannot run.
	Masters []*keys.Master
	Logger  *slog.Logger
}

// Backend is the opened storage. Close releases it.
type Backend struct {
	Events eventstore.Store
	// DB holds the read models, keys, credentials and idempotency records
	// (and, on SQLite, the log): they all write through it, which on
	// SQLite makes them take turns with the log's writer.
	DB          sqldb.DB
	Keys        *keys.Keyring
	Auth        *auth.Store
	Idempotency *idempotency.Store
	Projections *readmodels.Engine
	// Kind is "sqlite", "postgres" or "kurrentdb+postgres", for logs.
	Kind string
	// Path is the SQLite file, when there is one.
	Path string

	pool   *pgxpool.Pool
	closed atomic.Bool
	// stopKeysWatch ends the keyring's watch for erasures (PostgreSQL).
	stopKeysWatch func()
}

// Open opens the storage Config names and runs every migration (event
// store, read models, keys, credentials, idempotency records,
// console sessions). It returns an error wrapping
// ErrConfig for a bad combination, and the driver's error when a database
// cannot be reached or migrated.
func Open(ctx context.Context, cfg Config) (*Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &Backend{}
	var err error
	switch {
	case cfg.EventStoreURL != "":
		err = b.openKurrent(ctx, cfg)
	case cfg.DatabaseURL != "":
		err = b.openPostgres(ctx, cfg)
	case cfg.DataDir != "":
		err = b.openSQLite(ctx, cfg)
	default:
		err = fmt.Errorf("%w: set a data directory or a database URL", ErrConfig)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	if err := b.migrate(ctx, cfg); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func isPostgresURL(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

func (b *Backend) openSQLite(ctx context.Context, cfg Config) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	b.Path = filepath.Join(cfg.DataDir, "reso.db")
	db, err := sqlite.OpenDB(b.Path)
	if err != nil {
		return err
	}
	b.DB = db
	st, err := sqlite.New(ctx, db)
	if err != nil {
		return err
	}
	b.Events, b.Kind = st, "sqlite"
	return nil
}

func (b *Backend) openPool(ctx context.Context, url string) error {
	if !isPostgresURL(url) {
		return fmt.Errorf("%w: database URL must start with postgres:// (got %q)", ErrConfig, scheme(url))
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("%w: database URL: %v", ErrConfig, err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// One pool serves the log, database/sql (read models, keys,
		// credentials) and the projections, which keep three sessions
		// for their advisory locks besides their batch transactions; a
		// need command or read holds two connections at once (its stream
		// and its contact key, read together). With 16, `reso-bench http
		// --clients 16` saw nearly every acquisition wait, about eight
		// requests queued at any time, and ran ~1,500 commands/s against
		// ~2,150/s with 32 (alternate runs, same machine). Two replicas
		// stay within PostgreSQL's default 100 connections.
		pcfg.MaxConns = 32
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return fmt.Errorf("connect to postgres: %w", err)
	}
	b.pool = pool
	b.DB = sqldb.NewPostgres(stdlib.OpenDBFromPool(pool))
	return nil
}

func (b *Backend) openPostgres(ctx context.Context, cfg Config) error {
	if err := b.openPool(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	st, err := postgres.New(ctx, b.pool, postgres.WithLogger(cfg.Logger))
	if err != nil {
		return err
	}
	b.Events, b.Kind = st, "postgres"
	return nil
}

func (b *Backend) openKurrent(ctx context.Context, cfg Config) error {
	if !kurrentdb.IsURL(cfg.EventStoreURL) {
		return fmt.Errorf("%w: event store URL must start with kurrentdb:// (got %q)", ErrConfig, scheme(cfg.EventStoreURL))
	}
	if cfg.DatabaseURL == "" {
		return fmt.Errorf("%w: a KurrentDB event store needs a postgres:// database URL for read models, keys and users", ErrConfig)
	}
	if err := b.openPool(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	st, err := kurrentdb.Open(ctx, cfg.EventStoreURL, kurrentdb.WithLogger(cfg.Logger))
	if err != nil {
		return err
	}
	b.Events, b.Kind = st, "kurrentdb+postgres"
	return nil
}

// scheme shows the scheme of a URL without its credentials.
func scheme(u string) string {
	s, _, ok := strings.Cut(u, "://")
	if !ok {
		return "no scheme"
	}
	return s + "://"
}

// migrate is the one migrate step: the event store's adapter has applied
// its migrations when it opened; the keys', credentials' and idempotency
// records' numbered migrations follow, then the projections' (checkpoints,
// and the tables of read models never built). It then opens them all, each
// checking that its tables were migrated.
func (b *Backend) migrate(ctx context.Context, cfg Config) error {
	if _, err := sqlmigrate.Apply(ctx, b.DB, keys.Migrations, auth.Migrations, idempotency.Migrations, websession.Migrations); err != nil {
		return err
	}
	var err error
	b.Projections, err = readmodels.New(b.DB, b.Events, cfg.Projections)
	if err != nil {
		return fmt.Errorf("projections: %w", err)
	}
	if err := b.Projections.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate projections: %w", err)
	}
	if len(cfg.Masters) > 0 {
		if b.Keys, err = keys.New(ctx, b.DB, cfg.Masters...); err != nil {
			return err
		}
		if b.pool != nil {
			b.Keys.UsePool(b.pool)
		}
	}
	if b.Auth, err = auth.New(ctx, b.DB, b.Events); err != nil {
		return err
	}
	b.Idempotency, err = idempotency.New(ctx, b.DB)
	return err
}

// WatchKeyErasures lets the keyring keep needs' contact keys in memory
// for as long as it hears every erasure (keys.Keyring.Watch), at the cost
// of one more PostgreSQL connection: for a process that serves requests,
// not for a command that opens the storage and exits. It does nothing on
// SQLite, without a keyring, or when already watching; Close stops it.
func (b *Backend) WatchKeyErasures(log *slog.Logger) {
	if b.Keys == nil || b.pool == nil || b.stopKeysWatch != nil {
		return
	}
	b.stopKeysWatch = b.Keys.Watch(b.pool, log)
}

// PoolStats returns the PostgreSQL connection pool's counters (nil on
// SQLite): `reso-bench http` reports how long requests waited for a
// connection.
func (b *Backend) PoolStats() *pgxpool.Stat {
	if b.pool == nil {
		return nil
	}
	return b.pool.Stat()
}

// Pool is the PostgreSQL connection pool (nil on SQLite): the notifier's
// job queue runs on it.
func (b *Backend) Pool() *pgxpool.Pool { return b.pool }

// Ready reports whether the log answers.
func (b *Backend) Ready(ctx context.Context) error {
	if b.closed.Load() {
		return eventstore.ErrClosed
	}
	if _, err := b.Events.Head(ctx); err != nil {
		return fmt.Errorf("event store: %w", err)
	}
	return nil
}

// Close releases the log, then the database. It is safe on a partly opened
// Backend, and a second call does nothing. It returns the first error.
func (b *Backend) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	var first error
	if b.stopKeysWatch != nil {
		b.stopKeysWatch()
	}
	if b.Events != nil {
		if err := b.Events.Close(); err != nil && !errors.Is(err, eventstore.ErrClosed) {
			first = err
		}
	}
	if b.DB != nil {
		if err := b.DB.SQL().Close(); err != nil && first == nil {
			first = err
		}
	}
	if b.pool != nil {
		b.pool.Close()
	}
	return first
}
