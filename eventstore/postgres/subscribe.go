package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/reso-fr/reso/eventstore"
)

// Subscribe implements eventstore.Store. Catch-up and live reading are the
// same ReadAll query from the last delivered position, so the switch
// between them can neither lose nor repeat an event. It returns
// eventstore.ErrClosed after Close.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position) (eventstore.Subscription, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.startListener()
	return &subscription{store: s, pos: after, closed: make(chan struct{})}, nil
}

type subscription struct {
	store *Store

	mu  sync.Mutex // serialises Next
	pos eventstore.Position
	// size is the array the next read starts with: twice the last read's
	// events. Live, a read finds a few events although up to a page is
	// asked for, and zeroing an array of the page at every read cost more
	// than the read; catching up, reads are full pages.
	size int

	closeOnce sync.Once
	closed    chan struct{}
}

// Next implements eventstore.Subscription. It returns ctx.Err() when ctx
// ends, eventstore.ErrClosed after Close of the subscription or the store,
// or the database error wrapped.
func (sub *subscription) Next(ctx context.Context, limit int) ([]eventstore.Event, error) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if limit <= 0 {
		limit = 1
	}
	s := sub.store
	for {
		if err := sub.check(ctx); err != nil {
			return nil, err
		}
		// Take the wake channel before reading, so that an append that
		// commits after the read still wakes us.
		wake := s.wakeChan()
		events, h, err := s.readAll(ctx, sub.pos, limit, min(max(sub.size, 16), capacityFor(limit)))
		if err != nil {
			if cerr := sub.check(ctx); cerr != nil {
				return nil, cerr
			}
			return nil, err
		}
		if len(events) > 0 {
			sub.pos, sub.size = events[len(events)-1].Position, 2*len(events)
			return events, nil
		}
		// Checked against the horizon of the read, not a fresh one: if the
		// horizon passed the held-back events since, a fresh check would
		// find none pending and sleep a whole poll interval although they
		// are now visible (nothing else wakes us: their transactions
		// notified when they committed, before this read).
		wait := s.opts.pollInterval
		if pending, err := s.pendingBeyond(ctx, h); err == nil && pending {
			wait = s.opts.fastPoll
		}
		if s.beforeWait != nil {
			s.beforeWait()
		}
		timer := time.NewTimer(wait)
		select {
		case <-wake:
		case <-timer.C:
		case <-ctx.Done():
		case <-sub.closed:
		case <-s.done:
		}
		timer.Stop()
	}
}

func (sub *subscription) check(ctx context.Context) error {
	select {
	case <-sub.closed:
		return eventstore.ErrClosed
	case <-sub.store.done:
		return eventstore.ErrClosed
	default:
	}
	return ctx.Err()
}

// Close implements eventstore.Subscription; a blocked Next returns
// eventstore.ErrClosed.
func (sub *subscription) Close() error {
	sub.closeOnce.Do(func() { close(sub.closed) })
	return nil
}

// pendingBeyond reports whether committed events lie at or beyond horizon
// h: either an older transaction still holds them back, and its end will
// make them visible without any notification of their own, or the horizon
// has moved past them since h was computed. Either way, reading again soon
// pays. It returns the database error wrapped.
func (s *Store) pendingBeyond(ctx context.Context, h uint64) (bool, error) {
	// The ORDER BY of the primary key with LIMIT 1 makes the plan an
	// index probe even when the table has no statistics: the plain EXISTS
	// was planned as a sequential scan of the whole log on a never
	// analyzed table (autovacuum off, or right after a bulk load), 2 s per
	// call over 3.3 M events, run by every idle subscriber every poll.
	var one int
	err := s.pool.QueryRow(ctx, `SELECT 1 FROM events WHERE transaction_id >= $1::xid8
		ORDER BY transaction_id, global_position LIMIT 1`, h).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("pending events: %w", err)
	}
	return true, nil
}
