// Package postgres is Réso's production event store on PostgreSQL (pgx v5).
//
// Global order without gaps: every event row carries the id of the
// transaction that wrote it (transaction_id xid8 DEFAULT pg_current_xact_id()).
// Readers only return rows whose transaction id is below a horizon — every
// transaction below it that writes events has ended — ordered by
// (transaction_id, global_position). A writer that commits late therefore
// holds readers back instead of being skipped. By default the horizon is the
// oldest transaction writing this store's events (see horizon.go);
// WithClusterHorizon uses pg_snapshot_xmin(pg_current_snapshot()) instead.
// The caveat: a long-open transaction writing events (with the cluster
// horizon: any writing transaction of the server) holds readers back;
// Store.HorizonLag reports how far.
//
// The schema is created by embedded migrations in the pool's search_path.
// Appends wake subscribers of this process directly and those of other
// processes with NOTIFY sent after commit; subscribers also poll.
package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/reso-fr/reso/eventstore"
)

// Store is the PostgreSQL event store. It is safe for concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	ownsPool bool
	channel  string // NOTIFY channel, derived from the schema
	// notifySQL notifies channel in a transaction that commits without
	// waiting for its WAL flush.
	notifySQL string
	schema    string
	eventsOID uint32 // identifies the events table in pg_locks
	opts      options
	log       *slog.Logger

	appendDelay atomic.Pointer[func() time.Duration]

	// beforeWait, when set (by tests, before subscribing), is called each
	// time a subscription's Next found nothing and is about to wait.
	beforeWait func()

	// maxHorizon is the largest read horizon computed so far; readers
	// never use a smaller one (horizon.go).
	maxHorizon atomic.Uint64

	// known lets Exactly appends to streams seen at their version skip
	// the check that the version exists (known.go).
	known knownVersions

	lifeMu    sync.Mutex // orders starting goroutines with Close
	closed    atomic.Bool
	closeOnce sync.Once
	done      chan struct{} // closed by Close
	wg        sync.WaitGroup

	// wake is closed and replaced whenever new events may be visible, so
	// that every subscription waiting on the old channel wakes up.
	wakeMu sync.Mutex
	wake   chan struct{}

	notifyReq     chan struct{} // one pending post-commit NOTIFY, coalesced
	listenerStart sync.Once
	listening     chan struct{} // closed once LISTEN first succeeded
	listenOnce1   sync.Once
}

type options struct {
	pollInterval time.Duration
	fastPoll     time.Duration
	readWait     time.Duration
	// clusterHorizon reads below the oldest xid of the whole server
	// instead of the oldest xid writing events.
	clusterHorizon bool
	logger         *slog.Logger
	notify         bool
}

// Option configures a Store.
type Option func(*options)

// WithPollInterval sets how often an idle subscription polls when no
// notification arrives (default 250 ms). NOTIFY normally wakes it sooner.
func WithPollInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.pollInterval = d
		}
	}
}

// WithFastPoll sets how often a subscription polls while committed events
// exist beyond the horizon, held back by an older open transaction
// (default 5 ms): they are delivered as soon as that transaction ends.
func WithFastPoll(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.fastPoll = d
		}
	}
}

// WithReadWait sets how long ReadAll (when its page is short) and Head wait,
// while committed events are held beyond the horizon, for the transactions
// that were running at the call to end (default 1 s; 0 disables). It
// lets a caller read its own appends while other writers are busy.
func WithReadWait(d time.Duration) Option {
	return func(o *options) {
		if d >= 0 {
			o.readWait = d
		}
	}
}

// WithClusterHorizon makes readers stop below the oldest transaction with
// an xid in the whole server, pg_snapshot_xmin(pg_current_snapshot()), as
// DESIGN.md describes. It is the default; the option names it explicitly.
// Any long writing transaction of the server then holds readers back:
// HorizonLag tells by how much and which transaction.
func WithClusterHorizon() Option {
	return func(o *options) { o.clusterHorizon = true }
}

// WithWritersHorizon makes readers stop below the oldest open transaction
// that writes this store's events table (found in pg_locks) instead of the
// oldest transaction of the whole server, so that unrelated long
// transactions do not hold readers back. It is safe only while nothing but
// this store writes the events table, each append's first write being its
// insert into events (see horizon.go); it costs a pg_locks scan per read.
func WithWritersHorizon() Option {
	return func(o *options) { o.clusterHorizon = false }
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithoutNotify disables NOTIFY after appends and the LISTEN connection:
// subscriptions of other processes then rely on polling alone. Subscribers
// in this process are still woken directly.
func WithoutNotify() Option {
	return func(o *options) { o.notify = false }
}

// New runs the embedded migrations in the pool's search_path and returns a
// store on that pool. The caller keeps ownership of the pool: Close does not
// close it. It returns the database error (wrapped) when the migrations or
// the schema lookup fail.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	o := options{pollInterval: 250 * time.Millisecond, fastPoll: 5 * time.Millisecond, readWait: time.Second, logger: slog.Default(), notify: true, clusterHorizon: true}
	for _, opt := range opts {
		opt(&o)
	}
	if _, err := migrate(ctx, pool); err != nil {
		return nil, err
	}
	var (
		schema    string
		eventsOID uint32
	)
	if err := pool.QueryRow(ctx, `SELECT current_schema(), 'events'::regclass::oid`).Scan(&schema, &eventsOID); err != nil {
		return nil, fmt.Errorf("event store schema: %w", err)
	}
	s := &Store{
		pool:      pool,
		schema:    schema,
		eventsOID: eventsOID,
		channel:   channelName(schema),
		notifySQL: "BEGIN; SET LOCAL synchronous_commit = off; NOTIFY " + channelName(schema) + "; COMMIT",
		opts:      o,
		log:       o.logger.With("component", "eventstore.postgres", "schema", schema),
		done:      make(chan struct{}),
		wake:      make(chan struct{}),
		notifyReq: make(chan struct{}, 1),
		listening: make(chan struct{}),
	}
	if o.notify {
		s.wg.Add(1)
		go s.notifier()
	}
	return s, nil
}

// Open connects to dsn, runs the migrations and returns a store that owns
// its pool (Close closes it). Unless the DSN sets pool_max_conns, the pool
// holds up to 16 connections. It returns the parse, connection or migration
// error, wrapped.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	if !dsnSetsMaxConns(dsn) {
		cfg.MaxConns = 16
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	s, err := New(ctx, pool, opts...)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownsPool = true
	return s, nil
}

// Pool returns the store's pool, for read models that share the database.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the schema holding the store's tables.
func (s *Store) Schema() string { return s.schema }

// SetAppendDelay makes every append sleep for f() inside its transaction,
// after its rows are written and before it commits, so that tests can make
// commits finish out of order. nil removes the delay.
func (s *Store) SetAppendDelay(f func() time.Duration) {
	if f == nil {
		s.appendDelay.Store(nil)
		return
	}
	s.appendDelay.Store(&f)
}

// Close stops the store's goroutines and, for a store made by Open, closes
// the pool. Subscriptions return ErrClosed afterwards. Later calls return
// ErrClosed.
func (s *Store) Close() error {
	err := eventstore.ErrClosed
	s.closeOnce.Do(func() {
		s.lifeMu.Lock()
		s.closed.Store(true)
		close(s.done)
		s.lifeMu.Unlock()
		s.wg.Wait()
		if s.ownsPool {
			s.pool.Close()
		}
		err = nil
	})
	return err
}

func (s *Store) checkOpen() error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	return nil
}

// wakeChan returns the channel that the next broadcast closes.
func (s *Store) wakeChan() <-chan struct{} {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	return s.wake
}

// broadcast wakes every waiting subscription of this process.
func (s *Store) broadcast() {
	s.wakeMu.Lock()
	close(s.wake)
	s.wake = make(chan struct{})
	s.wakeMu.Unlock()
}

// committed is called after each successful append.
func (s *Store) committed() {
	s.broadcast()
	if s.opts.notify {
		select {
		case s.notifyReq <- struct{}{}:
		default: // a NOTIFY is already pending; it will cover this append
		}
	}
}

// channelName derives the NOTIFY channel from the schema so that stores in
// different schemas of one database do not wake each other. Channel names
// are identifiers (at most 63 bytes), hence the hash.
func channelName(schema string) string {
	sum := sha256.Sum256([]byte(schema))
	return "reso_events_" + hex.EncodeToString(sum[:12])
}

func dsnSetsMaxConns(dsn string) bool {
	return strings.Contains(strings.ToLower(dsn), "pool_max_conns")
}

var _ eventstore.Store = (*Store)(nil)
