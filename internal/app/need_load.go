package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
)

// loaded is a need's stream, decoded, as of one read.
type loaded struct {
	raw    []eventstore.Event
	events []domain.Event
}

// loadNeed reads and decodes a need's whole stream. It returns ErrNotFound
// when the stream has no event.
func (s *Service) loadNeed(ctx context.Context, id uuid.UUID) (loaded, error) {
	stream := domain.NeedStream(id)
	raw, err := s.store.ReadStream(ctx, stream, 1, 0)
	if errors.Is(err, eventstore.ErrNotFound) {
		return loaded{}, ErrNotFound
	}
	if err != nil {
		return loaded{}, fmt.Errorf("read %s: %w", stream, err)
	}
	if len(raw) == 0 {
		return loaded{}, ErrNotFound
	}
	out := loaded{raw: raw, events: make([]domain.Event, len(raw))}
	for i, r := range raw {
		e, err := domain.Unmarshal(r.Type, r.SchemaVersion, r.Data)
		if err != nil {
			return loaded{}, fmt.Errorf("read %s version %d: %w", stream, r.Version, err)
		}
		out.events[i] = e
	}
	return out, nil
}

func (l loaded) fold(id uuid.UUID) (*domain.Need, error) {
	n, err := domain.FoldNeed(id, l.events)
	if err != nil {
		return nil, fmt.Errorf("fold need %s: %w", id, err)
	}
	if !n.Exists() {
		return nil, ErrNotFound
	}
	return n, nil
}

// loadAllowed loads and folds a need, then checks that it lies in p's
// scope: the first steps of every read and command, after the role check.
// It returns ErrNotFound for a need that does not exist or that p may not
// reach.
func (s *Service) loadAllowed(ctx context.Context, p Principal, id uuid.UUID) (loaded, *domain.Need, error) {
	l, err := s.loadNeed(ctx, id)
	if err != nil {
		return loaded{}, nil, err
	}
	n, err := l.fold(id)
	if err != nil {
		return loaded{}, nil, err
	}
	if err := s.mayOnNeed(p, n); err != nil {
		return loaded{}, nil, err
	}
	return l, n, nil
}

// loadForCommand is loadAllowed for a command: when trust is set and the
// need is cached (need_cache.go), it starts from the cached events (cached
// true) and reads nothing; a cached need out of p's scope is read again
// before p is refused.
func (s *Service) loadForCommand(ctx context.Context, p Principal, id uuid.UUID, trust bool) (l loaded, n *domain.Need, cached bool, err error) {
	if trust {
		if l, ok := s.needs.get(id); ok {
			if n, err := l.fold(id); err == nil && s.mayOnNeed(p, n) == nil {
				return l, n, true, nil
			}
			s.needs.drop(id)
		}
	}
	l, n, err = s.loadAllowed(ctx, p, id)
	if err == nil {
		s.needs.put(id, l.events)
	}
	return l, n, false, err
}

// remember caches need id as prev (its events before this append) followed
// by news, just appended after them. A need it cannot decode is forgotten.
func (s *Service) remember(id uuid.UUID, prev []domain.Event, news []eventstore.NewEvent) {
	evs, err := appended(prev, news)
	if err != nil {
		s.needs.drop(id)
		return
	}
	s.needs.put(id, evs)
}
