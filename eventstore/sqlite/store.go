// Package sqlite is the embedded event store: one SQLite file (pure-Go
// driver, WAL), which survives restarts and needs no server.
//
// SQLite has one writer at a time, so positions are an INTEGER PRIMARY KEY
// assigned in commit order: a reader can never see a later position before
// an earlier one, and Position{Major: 0, Minor: rowid} is gap-free in
// flight. In-process appends queue for one writer, which commits all that
// are queued in one transaction (group commit, a savepoint each); other
// processes are kept out by SQLite's lock, with busy_timeout and a retry on
// SQLITE_BUSY. Checkpoints run in the background. Subscribers wake on
// in-process appends and poll for appends made by other processes.
package sqlite

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reso-fr/reso/eventstore"
)

// PollInterval is how often a live subscriber looks for events appended by
// another process; appends made through the same Store wake it at once.
const PollInterval = 25 * time.Millisecond

// Store is the SQLite eventstore.Store. It is safe for concurrent use.
type Store struct {
	db     *DB
	ownsDB bool

	// closeMu is held for reading by every call while it uses db, so that
	// Close waits for them.
	closeMu sync.RWMutex
	closed  bool
	closing chan struct{} // closed by Close, wakes subscribers

	writer chan struct{} // a one-slot semaphore: the goroutine holding it commits queued appends
	queue  appendQueue
	stmts  statements
	w      *writer
	delay  atomic.Pointer[func() time.Duration]

	wakeMu sync.Mutex
	wake   chan struct{} // closed and replaced after every append

	dirty          atomic.Bool   // appended since the last checkpoint
	checkpointDone chan struct{} // closed when the checkpointer returns
}

var _ eventstore.Store = (*Store)(nil)

// New returns a store on db, creating its tables if missing (embedded
// migrations, recorded in eventstore_migrations). The caller keeps owning
// db: Close leaves it open. The store holds one of db's connections for
// its writer until Close, and checkpoints the WAL in the background. Its
// writer takes turns with the database's other writers (see gate.go). It
// returns the migration's or the driver's error.
func New(ctx context.Context, db *DB) (*Store, error) {
	if err := migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("migrate event store: %w", err)
	}
	s := &Store{db: db, closing: make(chan struct{}), wake: make(chan struct{}), writer: make(chan struct{}, 1), checkpointDone: make(chan struct{})}
	if err := s.stmts.prepare(ctx, db.db); err != nil {
		s.stmts.close()
		return nil, fmt.Errorf("prepare event store statements: %w", translate(err))
	}
	w, err := newWriter(ctx, db.db)
	if err != nil {
		s.stmts.close()
		return nil, fmt.Errorf("prepare event store writer: %w", translate(err))
	}
	s.w = w
	go s.checkpointer()
	return s, nil
}

// Open opens the file at path with OpenDB and returns a store that owns the
// database: Close closes it. It returns OpenDB's or New's error.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := OpenDB(path)
	if err != nil {
		return nil, err
	}
	s, err := New(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.ownsDB = true
	return s, nil
}

// DB returns the store's database, for read models kept in the same file.
func (s *Store) DB() *DB { return s.db }

// SetAppendDelay makes every append sleep for f() inside its write
// transaction, after inserting and before committing; nil removes it. Tests
// use it (eventstoretest.DelayInjector) to hold the write lock for long.
func (s *Store) SetAppendDelay(f func() time.Duration) {
	if f == nil {
		s.delay.Store(nil)
		return
	}
	s.delay.Store(&f)
}

// Close releases the statements, and the database when the store owns it.
// Subscriptions then return eventstore.ErrClosed. A second Close returns
// eventstore.ErrClosed.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	s.closed = true
	close(s.closing)
	<-s.checkpointDone
	s.stmts.close()
	s.w.close()
	if s.ownsDB {
		if err := s.db.Close(); err != nil {
			return fmt.Errorf("close sqlite: %w", err)
		}
	}
	return nil
}

// enter starts a call that uses the database; leave must follow when it
// returns nil.
func (s *Store) enter() error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return eventstore.ErrClosed
	}
	return nil
}

func (s *Store) leave() { s.closeMu.RUnlock() }

// wakeChan returns the channel the next append closes.
func (s *Store) wakeChan() <-chan struct{} {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	return s.wake
}

func (s *Store) notify() {
	s.dirty.Store(true)
	s.wakeMu.Lock()
	close(s.wake)
	s.wake = make(chan struct{})
	s.wakeMu.Unlock()
}
