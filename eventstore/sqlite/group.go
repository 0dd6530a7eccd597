package sqlite

import (
	"context"
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
	w := s.w
	s.db.gate.Lock()
	defer s.db.gate.Unlock()
	if err := exec(w.begin); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// After a failed COMMIT (busy) the transaction is still open;
			// after other failures SQLite may have ended it already, and
			// this ROLLBACK's own error says so: nothing to do about it.
			_ = exec(w.rollback)
		}
	}()
	ctx := context.Background() // see writer
	// A lone append needs no savepoint: its failure rolls back the
	// transaction.
	single := len(batch) == 1
	for _, r := range batch {
		r.res, r.err, r.added = eventstore.AppendResult{}, nil, false
		if !single {
			if err := exec(w.savepoint); err != nil {
				return err
			}
		}
		res, added, aerr := s.appendOne(ctx, w, r)
		if aerr != nil && !isRequestError(aerr) {
			return aerr
		}
		if !single {
			if aerr != nil {
				if err := exec(w.rollbackTo); err != nil {
					return err
				}
			}
			if err := exec(w.release); err != nil {
				return err
			}
		}
		if aerr != nil {
			r.err = requestError(r.stream, aerr)
			continue
		}
		r.res, r.added = res, added
	}
	if single && batch[0].err != nil {
		return exec(w.rollback)
	}
	if d := s.delay.Load(); d != nil {
		time.Sleep((*d)())
	}
	return exec(w.commit)
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
