// Package memory is an in-memory event store for tests and demos: fast,
// simple and complete, but it keeps nothing once the process ends.
//
// One mutex guards the log; a global slice gives the order, a per-stream
// index of slice offsets gives streams, and a broadcast channel (closed and
// replaced on every append) wakes subscribers.
package memory

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/eventstore"
)

// Store is an in-memory eventstore.Store. The zero value is not usable; call
// New.
type Store struct {
	mu      sync.RWMutex
	closed  bool
	log     []eventstore.Event // log[i] has position (0, i+1)
	streams map[string][]int   // stream id -> offsets into log, in version order
	ids     map[uuid.UUID]int  // event id -> offset into log
	wake    chan struct{}      // closed and replaced when the log grows or the store closes
	now     func() time.Time
}

var _ eventstore.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		streams: map[string][]int{},
		ids:     map[uuid.UUID]int{},
		wake:    make(chan struct{}),
		now:     time.Now,
	}
}

// Append implements eventstore.Store. It returns a *eventstore.ValidationError
// for bad input, a *eventstore.ConcurrencyError when expected does not hold,
// eventstore.ErrDuplicateEvent when an id is stored elsewhere or differently,
// and eventstore.ErrClosed after Close.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.NewEvent) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, expected, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	events, err := eventstore.AssignIDs(events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	if res, retried, err := s.retried(stream, expected, events); retried || err != nil {
		return res, err
	}
	offsets := s.streams[stream]
	current := int64(len(offsets))
	if expected != eventstore.AnyVersion && int64(expected) != current {
		return eventstore.AppendResult{}, &eventstore.ConcurrencyError{Stream: stream, Expected: expected, Actual: current}
	}

	at := s.now().UTC()
	for i, e := range events {
		off := len(s.log)
		s.log = append(s.log, eventstore.Event{
			ID:            e.ID,
			StreamID:      stream,
			Version:       current + int64(i) + 1,
			Position:      eventstore.Position{Minor: uint64(off + 1)},
			Type:          e.Type,
			SchemaVersion: e.SchemaVersion,
			Data:          bytes.Clone(e.Data), // the caller may reuse its buffer
			Metadata:      e.Metadata,
			RecordedAt:    at,
		})
		offsets = append(offsets, off)
		s.ids[e.ID] = off
	}
	s.streams[stream] = offsets
	close(s.wake)
	s.wake = make(chan struct{})
	return eventstore.AppendResult{
		StreamID:     stream,
		FirstVersion: current + 1,
		LastVersion:  current + int64(len(events)),
		Position:     s.log[len(s.log)-1].Position,
	}, nil
}

// retried reports whether events are already stored: all of them, in
// stream, at contiguous versions that expected allows, with the same
// content. Then it returns the original result. An id stored any other way
// is eventstore.ErrDuplicateEvent. s.mu must be held.
func (s *Store) retried(stream string, expected eventstore.ExpectedVersion, events []eventstore.NewEvent) (eventstore.AppendResult, bool, error) {
	stored := 0
	for _, e := range events {
		if _, ok := s.ids[e.ID]; ok {
			stored++
		}
	}
	if stored == 0 {
		return eventstore.AppendResult{}, false, nil
	}
	if stored != len(events) {
		return eventstore.AppendResult{}, false, duplicate(stream, "some events of the append are already stored")
	}
	first := s.log[s.ids[events[0].ID]]
	if first.StreamID != stream {
		return eventstore.AppendResult{}, false, duplicate(stream, "event "+first.ID.String()+" is stored in another stream")
	}
	if expected != eventstore.AnyVersion && int64(expected) != first.Version-1 {
		return eventstore.AppendResult{}, false, duplicate(stream, "event "+first.ID.String()+" is stored at another version")
	}
	var last eventstore.Event
	for i, e := range events {
		last = s.log[s.ids[e.ID]]
		if last.StreamID != stream || last.Version != first.Version+int64(i) {
			return eventstore.AppendResult{}, false, duplicate(stream, "event "+e.ID.String()+" is stored elsewhere")
		}
		if last.Type != e.Type || last.SchemaVersion != e.SchemaVersion || !bytes.Equal(last.Data, e.Data) || last.Metadata != e.Metadata {
			return eventstore.AppendResult{}, false, duplicate(stream, "event "+e.ID.String()+" is stored with other content")
		}
	}
	return eventstore.AppendResult{
		StreamID:     stream,
		FirstVersion: first.Version,
		LastVersion:  last.Version,
		Position:     last.Position,
	}, true, nil
}

// Close implements eventstore.Store: it wakes every subscriber, which then
// returns eventstore.ErrClosed. A second Close returns eventstore.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	s.closed = true
	close(s.wake)
	s.log, s.streams, s.ids = nil, nil, nil
	return nil
}

// Len returns the number of events in the log.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.log)
}

func cloneEvents(evs []eventstore.Event) []eventstore.Event {
	out := slices.Clone(evs)
	for i := range out {
		out[i].Data = bytes.Clone(out[i].Data)
	}
	return out
}
