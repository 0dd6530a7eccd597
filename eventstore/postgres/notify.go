package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// notifier sends one NOTIFY per burst of appends, after they committed.
//
// NOTIFY is deliberately not sent inside the append transaction: PostgreSQL
// serialises the commits of notifying transactions on a database-wide lock
// held through the commit's WAL flush, which would defeat group commit and
// cap the throughput of concurrent writers. A NOTIFY in its own transaction
// still takes an xid and writes a commit record, but with asynchronous
// commit it does not wait for the WAL flush, so the lock is held for
// microseconds; losing a notification in a crash is harmless (readers
// poll). The statements go in one simple-protocol round trip.
func (s *Store) notifier() {
	defer s.wg.Done()
	for {
		select {
		case <-s.done:
			return
		case <-s.notifyReq:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := s.pool.Exec(ctx, s.notifySQL)
		cancel()
		if err != nil && !s.closed.Load() {
			// Subscribers of other processes fall back to polling.
			s.log.Warn("notify subscribers", "err", err)
		}
		// At most one NOTIFY per notifyEvery: appends that commit
		// meanwhile are covered by the next one. Under load this keeps
		// the notifications (each a small transaction) from competing
		// with the appends; subscribers of this process are woken
		// directly, others wait at most this much longer.
		select {
		case <-s.done:
			return
		case <-time.After(notifyEvery):
		}
	}
}

// notifyEvery spaces the NOTIFYs of one store.
const notifyEvery = 5 * time.Millisecond

// startListener opens, once, the store's LISTEN connection that fans
// notifications out to this process's subscriptions.
func (s *Store) startListener() {
	if !s.opts.notify {
		return
	}
	s.listenerStart.Do(func() {
		// Under lifeMu so that Close cannot be waiting on wg meanwhile.
		s.lifeMu.Lock()
		defer s.lifeMu.Unlock()
		if s.closed.Load() {
			return
		}
		s.wg.Add(1)
		go s.listen()
	})
}

// listen keeps a dedicated connection (outside the pool, so that it does
// not take a slot from writers) listening on the store's channel and
// reconnects after errors; meanwhile subscriptions poll.
func (s *Store) listen() {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("listen for new events; polling until reconnected", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return err
	}
	s.listenOnce1.Do(func() { close(s.listening) })
	// Events may have been committed while we were not listening.
	s.broadcast()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.broadcast()
	}
}
