package sqlite

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/reso-fr/reso/eventstore"
)

// DefaultBatch is how many events Next returns at most when max <= 0.
const DefaultBatch = 1000

// Subscribe implements eventstore.Store. It returns eventstore.ErrClosed
// after Close.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position) (eventstore.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	return &subscription{store: s, after: after, done: make(chan struct{})}, nil
}

type subscription struct {
	store *Store
	once  sync.Once
	done  chan struct{} // closed by Close

	mu    sync.Mutex // serialises Next calls
	after eventstore.Position
}

// Next implements eventstore.Subscription: it returns ctx.Err() when ctx
// ends, eventstore.ErrClosed after the subscription's or the store's Close,
// and the driver's error otherwise.
func (sub *subscription) Next(ctx context.Context, max int) ([]eventstore.Event, error) {
	if max <= 0 {
		max = DefaultBatch
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	s := sub.store
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-sub.done:
			return nil, eventstore.ErrClosed
		default:
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Taken before reading, so an append committed after the read
		// closes this very channel: no wake-up is lost.
		wake := s.wakeChan()
		evs, err := sub.read(ctx, max)
		if err != nil {
			return nil, err
		}
		if len(evs) > 0 {
			sub.after = evs[len(evs)-1].Position
			return evs, nil
		}
		if timer == nil {
			timer = time.NewTimer(PollInterval)
		} else {
			timer.Reset(PollInterval)
		}
		select {
		case <-wake:
		case <-timer.C: // another process may have appended
		case <-sub.done:
			return nil, eventstore.ErrClosed
		case <-s.closing:
			return nil, eventstore.ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (sub *subscription) read(ctx context.Context, max int) ([]eventstore.Event, error) {
	s := sub.store
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	evs, err := s.readAll(ctx, sub.after, max)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil, ctx.Err()
	}
	return evs, err
}

// Close implements eventstore.Subscription; it unblocks a waiting Next.
func (sub *subscription) Close() error {
	sub.once.Do(func() { close(sub.done) })
	return nil
}
