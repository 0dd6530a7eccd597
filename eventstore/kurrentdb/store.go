// Package kurrentdb is Réso's event store on KurrentDB (formerly
// EventStoreDB), for deployments whose log outgrows one database: a
// replicated cluster holds the log, read models stay in PostgreSQL.
//
// Mapping to the contract of package eventstore:
//
//   - Versions are 1-based in Réso and revisions 0-based in KurrentDB:
//     Exactly(n) is revision n-1, NoStream is NoStream, AnyVersion is Any.
//   - Event ids are always set before the call (UUIDv7 when the caller left
//     them nil), so a retried append is recognised by the server.
//   - A global position is KurrentDB's (commit, prepare) pair.
//   - Schema version and Réso metadata travel in the event's user metadata
//     (JSON); the content type is application/json.
//   - ReadAll, Head and Subscribe see $all without system streams and
//     event types (names starting with "$").
//
// Known differences from the other adapters (see docs/eventstore.md):
// KurrentDB does not keep event ids unique across streams, nor across
// versions of one stream when the expected version matches, so an id reused
// there is stored again instead of being refused with ErrDuplicateEvent.
// What the server does detect (a retry at the same place) is checked
// against the stored content.
package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/reso-fr/reso/eventstore"
)

// Store is the KurrentDB event store. It is safe for concurrent use.
type Store struct {
	opts   options
	log    *slog.Logger
	conn   *connection
	url    string
	closed atomic.Bool

	mu   sync.Mutex
	subs map[*subscription]struct{}
}

type options struct {
	readTimeout  time.Duration
	writeTimeout time.Duration
	namespace    string
	logger       *slog.Logger
	verify       bool
	backoffMin   time.Duration
	backoffMax   time.Duration
	pageSize     int
}

// Option configures a Store.
type Option func(*options)

// WithReadTimeout bounds every read call: ReadStream, each page of ReadAll
// and Head, and each (re)subscription handshake (default 10 s).
func WithReadTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.readTimeout = d
		}
	}
}

// WithWriteTimeout bounds every append call (default 10 s).
func WithWriteTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.writeTimeout = d
		}
	}
}

// WithNamespace makes the store see only streams whose KurrentDB name
// starts with prefix: stream ids are prefixed on the way in and stripped on
// the way out, and ReadAll, Head and Subscribe skip every other stream (the
// subscription filters on the server). It lets tests, or several tenants,
// share one server; production uses no namespace.
func WithNamespace(prefix string) Option {
	return func(o *options) { o.namespace = prefix }
}

// WithLogger sets the logger (default slog.Default()). The client library's
// own messages go to it too, at debug level.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithoutAppendCheck skips reading back the events of an append that the
// server acknowledged. The check costs one read per append; it is what
// detects a retry whose content differs from what is stored
// (ErrDuplicateEvent) and what returns the original position of an append
// the server recognised as a retry.
func WithoutAppendCheck() Option {
	return func(o *options) { o.verify = false }
}

// WithResubscribeBackoff sets the wait before resubscribing after a dropped
// subscription: min doubled after each failure, up to max (default 100 ms
// to 5 s).
func WithResubscribeBackoff(min, max time.Duration) Option {
	return func(o *options) {
		if min > 0 && max >= min {
			o.backoffMin, o.backoffMax = min, max
		}
	}
}

func defaultOptions() options {
	return options{
		readTimeout:  10 * time.Second,
		writeTimeout: 10 * time.Second,
		logger:       slog.Default(),
		verify:       true,
		backoffMin:   100 * time.Millisecond,
		backoffMax:   5 * time.Second,
		pageSize:     512,
	}
}

// Open connects to KurrentDB at url and checks that the server answers a
// read of $all within the read timeout.
//
// url is a KurrentDB connection string: kurrentdb://host:2113?tls=false for
// one node, kurrentdb+discover://host:2113 (DNS or gossip discovery) or
// kurrentdb://h1:2113,h2:2113,h3:2113 for a cluster; esdb:// and
// esdb+discover:// are accepted too. It returns an error wrapping
// ErrInvalidURL for a malformed url, or the connection error wrapped.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if strings.HasPrefix(o.namespace, "$") {
		return nil, fmt.Errorf("open kurrentdb: namespace %q starts with $, which KurrentDB reserves for system streams", o.namespace)
	}
	conf, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	log := o.logger.With("component", "eventstore.kurrentdb")
	conf.Logger = clientLogger(log)
	conn, err := newConnection(conf)
	if err != nil {
		return nil, fmt.Errorf("open kurrentdb %s: %w", redact(url), err)
	}
	s := &Store{opts: o, log: log, conn: conn, url: redact(url), subs: map[*subscription]struct{}{}}
	// One event of $all, backwards: the permission Réso needs anyway, and cheap
	// whatever the size of the log (Head may scan far in a namespace).
	if _, err := s.readAllRaw(ctx, kdb.ReadAllOptions{Direction: kdb.Backwards, From: kdb.End{}}, 1); err != nil {
		conn.close()
		return nil, fmt.Errorf("open kurrentdb %s: %w", s.url, err)
	}
	return s, nil
}

// Close closes the store's subscriptions and its connection. Later calls
// return eventstore.ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return eventstore.ErrClosed
	}
	s.mu.Lock()
	subs := make([]*subscription, 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		_ = sub.Close()
	}
	s.conn.close()
	return nil
}

func (s *Store) checkOpen() error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	return nil
}

// clientLogger sends the client library's messages to slog at debug level:
// it logs every dropped connection as an error although the store retries.
func clientLogger(log *slog.Logger) kdb.LoggingFunc {
	return func(level kdb.LogLevel, format string, args ...any) {
		log.Debug(fmt.Sprintf(format, args...), "client_level", level)
	}
}

// connection holds the current client. The client library closes a client
// for good when discovery fails (no node answered within its attempts);
// renew replaces it with a fresh one so that the store recovers once the
// cluster is back.
type connection struct {
	conf *kdb.Configuration

	mu     sync.Mutex
	client *kdb.Client
	closed bool
}

func newConnection(conf *kdb.Configuration) (*connection, error) {
	c, err := kdb.NewClient(conf)
	if err != nil {
		return nil, err
	}
	return &connection{conf: conf, client: c}, nil
}

// current returns the client in use.
func (c *connection) current() *kdb.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client
}

// renew replaces old by a new client unless another caller already did.
// It returns eventstore.ErrClosed once the store is closed.
func (c *connection) renew(old *kdb.Client) (*kdb.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, eventstore.ErrClosed
	}
	if c.client != old {
		return c.client, nil
	}
	fresh, err := kdb.NewClient(c.conf)
	if err != nil {
		return nil, err
	}
	_ = old.Close()
	c.client = fresh
	return fresh, nil
}

func (c *connection) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	_ = c.client.Close()
}

// call runs op with the current client and, when the client library closed
// that client after a failed discovery, once more with a fresh client: no
// request reached a server in that case, so repeating it is safe.
func call[T any](s *Store, op func(*kdb.Client) (T, error)) (T, error) {
	c := s.conn.current()
	v, err := op(c)
	if err == nil {
		return v, nil
	}
	if s.closed.Load() {
		// Close ran during the call and closed the client under it.
		return v, fmt.Errorf("%w: %v", eventstore.ErrClosed, err)
	}
	if !clientClosed(err) {
		return v, err
	}
	s.log.Warn("kurrentdb client closed after failed discovery; reconnecting", "err", err)
	c, rerr := s.conn.renew(c)
	if rerr != nil {
		var zero T
		if errors.Is(rerr, eventstore.ErrClosed) {
			return zero, rerr
		}
		return zero, err
	}
	return op(c)
}

// EventIDsUniquePerStreamOnly tells the conformance suite that KurrentDB
// deduplicates event ids per stream and expected version only: an id reused
// in another stream is stored again (see docs/eventstore.md, KurrentDB).
func (s *Store) EventIDsUniquePerStreamOnly() bool { return true }
