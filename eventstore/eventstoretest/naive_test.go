package eventstoretest_test

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/reso-fr/reso/eventstore"
)

// naive is the store the gap test exists to catch: it numbers events when
// an append starts writing, but they become visible only when it commits,
// after the injected delay, like a plain sequence in PostgreSQL. A reader
// can then return position 11 before position 10 appears. It supports what
// GapFreeOrder uses and nothing more.
type naive struct {
	mu       sync.Mutex
	next     uint64
	versions map[string]int64   // reserved versions per stream
	visible  []eventstore.Event // sorted by position
	delay    func() time.Duration
	closed   bool
}

var (
	_ eventstore.Store                                  = (*naive)(nil)
	_ interface{ SetAppendDelay(func() time.Duration) } = (*naive)(nil)
)

func newNaive() *naive { return &naive{versions: map[string]int64{}} }

func (n *naive) SetAppendDelay(f func() time.Duration) {
	n.mu.Lock()
	n.delay = f
	n.mu.Unlock()
}

func (n *naive) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.NewEvent) (eventstore.AppendResult, error) {
	events, err := eventstore.AssignIDs(events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	n.mu.Lock()
	current := n.versions[stream]
	if expected != eventstore.AnyVersion && int64(expected) != current {
		n.mu.Unlock()
		return eventstore.AppendResult{}, &eventstore.ConcurrencyError{Stream: stream, Expected: expected, Actual: current}
	}
	rows := make([]eventstore.Event, len(events))
	for i, e := range events {
		n.next++
		rows[i] = eventstore.Event{ID: e.ID, StreamID: stream, Version: current + int64(i) + 1,
			Position: eventstore.Position{Minor: n.next}, Type: e.Type, SchemaVersion: e.SchemaVersion,
			Data: e.Data, Metadata: e.Metadata, RecordedAt: time.Now().UTC()}
	}
	n.versions[stream] = current + int64(len(events))
	delay := n.delay
	n.mu.Unlock()

	if delay != nil {
		// Kept: not a synchronisation but the fault under test. The
		// "transaction" is open, numbered and not visible, for a random
		// time, as PostgreSQL's stores do with SetAppendDelay.
		time.Sleep(delay())
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	n.visible = append(n.visible, rows...)
	slices.SortFunc(n.visible, func(a, b eventstore.Event) int { return a.Position.Compare(b.Position) })
	last := rows[len(rows)-1]
	return eventstore.AppendResult{StreamID: stream, FirstVersion: rows[0].Version, LastVersion: last.Version, Position: last.Position}, nil
}

func (n *naive) ReadStream(ctx context.Context, stream string, from int64, limit int) ([]eventstore.Event, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []eventstore.Event
	for _, e := range n.visible {
		if e.StreamID == stream && e.Version >= from {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, eventstore.ErrNotFound
	}
	slices.SortFunc(out, func(a, b eventstore.Event) int { return int(a.Version - b.Version) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (n *naive) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Event, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	i, _ := slices.BinarySearchFunc(n.visible, after, func(e eventstore.Event, p eventstore.Position) int {
		if e.Position.Compare(p) <= 0 {
			return -1
		}
		return 1
	})
	out := slices.Clone(n.visible[i:])
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (n *naive) Head(ctx context.Context) (eventstore.Position, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.visible) == 0 {
		return eventstore.Start, nil
	}
	return n.visible[len(n.visible)-1].Position, nil
}

func (n *naive) Subscribe(ctx context.Context, after eventstore.Position) (eventstore.Subscription, error) {
	return &naiveSub{store: n, after: after, done: make(chan struct{})}, nil
}

func (n *naive) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return eventstore.ErrClosed
	}
	n.closed = true
	return nil
}

type naiveSub struct {
	store *naive
	after eventstore.Position
	once  sync.Once
	done  chan struct{}
}

func (s *naiveSub) Next(ctx context.Context, max int) ([]eventstore.Event, error) {
	for {
		evs, _ := s.store.ReadAll(ctx, s.after, max)
		if len(evs) > 0 {
			s.after = evs[len(evs)-1].Position
			return evs, nil
		}
		select {
		case <-time.After(200 * time.Microsecond):
		case <-s.done:
			return nil, eventstore.ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (s *naiveSub) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}
