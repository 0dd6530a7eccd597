package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reso-fr/reso/eventstore"
)

const (
	// maxBusyRetries bounds how often a group starts again after
	// SQLITE_BUSY, on top of the busy_timeout SQLite already waited.
	maxBusyRetries = 8
	// maxGroup bounds how many appends one transaction commits.
	maxGroup = 256
	// groupTimeout bounds one group's transaction. The group does not use
	// any caller's context: one caller giving up must not abort the others.
	groupTimeout = 30 * time.Second
)

// appendRequest is one Append waiting to be committed.
type appendRequest struct {
	stream   string
	expected eventstore.ExpectedVersion
	events   []eventstore.NewEvent

	// state: 0 queued, 1 taken by a writer, 2 abandoned by its caller.
	state atomic.Int32
	done  chan struct{} // closed when res and err are final
	res   eventstore.AppendResult
	err   error
	added bool // stored new events (not a retry)
}

func (r *appendRequest) finished() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// abandon reports whether the caller withdrew r before a writer took it.
func (r *appendRequest) abandon() bool { return r.state.CompareAndSwap(0, 2) }

// take reports whether the writer may write r (its caller has not left).
func (r *appendRequest) take() bool { return r.state.CompareAndSwap(0, 1) }

// appendQueue holds the appends waiting for the writer.
type appendQueue struct {
	mu      sync.Mutex
	pending []*appendRequest
}

func (s *Store) enqueue(r *appendRequest) {
	s.queue.mu.Lock()
	s.queue.pending = append(s.queue.pending, r)
	s.queue.mu.Unlock()
}

// dequeue takes up to maxGroup requests that their callers still wait for.
func (s *Store) dequeue() []*appendRequest {
	s.queue.mu.Lock()
	defer s.queue.mu.Unlock()
	var batch []*appendRequest
	n := 0
	for ; n < len(s.queue.pending) && len(batch) < maxGroup; n++ {
		if r := s.queue.pending[n]; r.take() {
			batch = append(batch, r)
		}
	}
	s.queue.pending = s.queue.pending[n:]
	return batch
}

// txStatements are the store's prepared statements bound to one transaction.
type txStatements struct {
	version, insert, byID *sql.Stmt
}

// commitGroup writes a group of appends in one transaction: one commit, so
// one WAL sync point, for all of them. Each append runs inside its own
// savepoint, so one that fails (wrong version, duplicate id) is rolled back
// alone and the others still commit. A busy database restarts the whole
// group. It sets every request's result and closes its done channel.
func (s *Store) commitGroup(batch []*appendRequest) {
	if len(batch) == 0 {
		return
	}
	backoff := time.Millisecond
	var err error
	for attempt := 0; ; attempt++ {
		if err = s.groupTx(batch); err == nil || !errors.Is(err, errBusy) || attempt == maxBusyRetries {
			break
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 100*time.Millisecond)
	}
	added := false
	for _, r := range batch {
		if err != nil {
			r.res, r.err, r.added = eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", r.stream, err), false
		}
		added = added || r.added
	}
	if added {
		s.notify()
	}
	for _, r := range batch {
		close(r.done)
	}
}

// groupTx is one attempt at a group. It returns an error only when the
// transaction as a whole failed; each request's own failure is in r.err.
func (s *Store) groupTx(batch []*appendRequest) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see OpenDB
	if err != nil {
		return translate(err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	st := &txStatements{
		version: tx.StmtContext(ctx, s.stmts.version),
		insert:  tx.StmtContext(ctx, s.stmts.insert),
		byID:    tx.StmtContext(ctx, s.stmts.byID),
	}
	// A lone append needs no savepoint: its failure rolls back the
	// transaction.
	single := len(batch) == 1
	for _, r := range batch {
		r.res, r.err, r.added = eventstore.AppendResult{}, nil, false
		if !single {
			if _, err := tx.ExecContext(ctx, `SAVEPOINT append`); err != nil {
				return translate(err)
			}
		}
		res, added, aerr := s.appendOne(ctx, st, r)
		if aerr != nil && !isRequestError(aerr) {
			return aerr
		}
		if !single {
			if aerr != nil {
				if _, err := tx.ExecContext(ctx, `ROLLBACK TO append`); err != nil {
					return translate(err)
				}
			}
			if _, err := tx.ExecContext(ctx, `RELEASE append`); err != nil {
				return translate(err)
			}
		}
		if aerr != nil {
			r.err = requestError(r.stream, aerr)
			continue
		}
		r.res, r.added = res, added
	}
	if single && batch[0].err != nil {
		_ = tx.Rollback()
		return nil
	}
	if d := s.delay.Load(); d != nil {
		time.Sleep((*d)())
	}
	if err := tx.Commit(); err != nil {
		return translate(err)
	}
	return nil
}

// isRequestError reports whether err concerns one append only, so the
// group goes on without it.
func isRequestError(err error) bool {
	return errors.Is(err, eventstore.ErrConcurrency) || errors.Is(err, eventstore.ErrDuplicateEvent)
}

// requestError gives a request's error the form callers see: the
// *ConcurrencyError itself (its message names the stream), others wrapped.
func requestError(stream string, err error) error {
	var ce *eventstore.ConcurrencyError
	if errors.As(err, &ce) {
		return ce
	}
	return fmt.Errorf("append to %s: %w", stream, err)
}
