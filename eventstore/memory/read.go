package memory

import (
	"context"
	"fmt"

	"github.com/reso-fr/reso/eventstore"
)

// ReadStream implements eventstore.Store. It returns eventstore.ErrNotFound
// when the stream has no event and eventstore.ErrClosed after Close.
func (s *Store) ReadStream(ctx context.Context, stream string, from int64, limit int) ([]eventstore.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, eventstore.ErrClosed
	}
	offsets, ok := s.streams[stream]
	if !ok {
		return nil, fmt.Errorf("read %s: %w", stream, eventstore.ErrNotFound)
	}
	start := max(from, 1) - 1 // versions are 1-based
	if start >= int64(len(offsets)) {
		return []eventstore.Event{}, nil
	}
	offsets = offsets[start:]
	if limit > 0 && limit < len(offsets) {
		offsets = offsets[:limit]
	}
	out := make([]eventstore.Event, len(offsets))
	for i, off := range offsets {
		out[i] = s.log[off]
	}
	return cloneEvents(out), nil
}

// ReadAll implements eventstore.Store; limit <= 0 means no limit. Every
// event is visible as soon as Append returns, so there is nothing to wait
// for. It returns eventstore.ErrClosed after Close.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, eventstore.ErrClosed
	}
	return cloneEvents(s.after(after, limit)), nil
}

// after returns the log's slice after pos, at most limit long (limit <= 0:
// all). s.mu must be held; the result aliases the log.
func (s *Store) after(pos eventstore.Position, limit int) []eventstore.Event {
	if pos.Major > 0 || pos.Minor >= uint64(len(s.log)) {
		return nil
	}
	evs := s.log[pos.Minor:]
	if limit > 0 && limit < len(evs) {
		evs = evs[:limit]
	}
	return evs
}

// Head implements eventstore.Store. It returns eventstore.ErrClosed after
// Close.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Position{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return eventstore.Position{}, eventstore.ErrClosed
	}
	if len(s.log) == 0 {
		return eventstore.Start, nil
	}
	return s.log[len(s.log)-1].Position, nil
}

func duplicate(stream, reason string) error {
	return fmt.Errorf("append to %s: %w: %s", stream, eventstore.ErrDuplicateEvent, reason)
}
