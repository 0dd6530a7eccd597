package needfold

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections"
)

// Fold applies the need events of evs to the states of cache, loading
// the missing ones from stateTable, and marks them dirty. It returns an
// error wrapping domain.ErrEventMismatch for an event a state cannot take,
// or the error of the cache's Reader.
func Fold(ctx context.Context, tx projections.Txn, cache *Cache, stateTable string, geo *domain.Geography, evs []projections.Decoded) error {
	var ids []uuid.UUID
	for _, d := range evs {
		if id, ok := NeedID(d.Event); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if err := cache.load(ctx, tx, stateTable, ids); err != nil {
		return err
	}
	for _, d := range evs {
		id, ok := NeedID(d.Event)
		if !ok {
			continue
		}
		s := cache.m[id]
		if (s == nil || !s.dirty) && cache.trackBefore {
			if s == nil {
				cache.before[id] = nil
			} else {
				cache.before[id] = s.clone()
			}
		}
		if c, isCapture := d.Event.(domain.NeedCaptured); isCapture && s == nil {
			s = NewState(c, geo)
			s.Version = d.Stored.Version
			if cache.OnCapture != nil {
				cache.OnCapture(s)
			}
			cache.m[id] = s
		} else if s == nil {
			return fmt.Errorf("event %s (%s of %s): %w", d.Stored.ID, d.Stored.Type, d.Stored.StreamID,
				projections.Unfit("need %s was never captured", id))
		} else if err := s.Apply(d.Event, d.Stored.Version); err != nil {
			return fmt.Errorf("event %s (%s of %s): %w", d.Stored.ID, d.Stored.Type, d.Stored.StreamID, err)
		}
		if !s.dirty {
			s.dirty = true
			cache.dirty = append(cache.dirty, s)
		}
	}
	return nil
}

func (s *State) clone() *State {
	c := *s
	c.Matches = append([]Match(nil), s.Matches...)
	c.dirty = false // a copy is in no dirty list
	return &c
}
