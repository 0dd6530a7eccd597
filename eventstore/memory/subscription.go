package memory

import (
	"context"
	"sync"

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
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, eventstore.ErrClosed
	}
	return &subscription{store: s, after: after, done: make(chan struct{})}, nil
}

type subscription struct {
	store *Store
	once  sync.Once
	done  chan struct{} // closed by Close

	mu    sync.Mutex // serialises Next calls
	after eventstore.Position
}

// Next implements eventstore.Subscription.
func (sub *subscription) Next(ctx context.Context, max int) ([]eventstore.Event, error) {
	if max <= 0 {
		max = DefaultBatch
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	for {
		select {
		case <-sub.done:
			return nil, eventstore.ErrClosed
		default:
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := sub.store
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			return nil, eventstore.ErrClosed
		}
		evs := cloneEvents(s.after(sub.after, max))
		wake := s.wake
		s.mu.RUnlock()
		if len(evs) > 0 {
			sub.after = evs[len(evs)-1].Position
			return evs, nil
		}
		// The channel was taken under the lock that showed no event, so an
		// append after that point closes it: no wake-up is missed.
		select {
		case <-wake:
		case <-sub.done:
			return nil, eventstore.ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close implements eventstore.Subscription; it unblocks a waiting Next.
func (sub *subscription) Close() error {
	sub.once.Do(func() { close(sub.done) })
	return nil
}
