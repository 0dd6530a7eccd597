package projections

import (
	"context"
	"log/slog"
	"sort"
	"sync"

	"github.com/reso-fr/reso/eventstore"
)

// logTail reads the live end of the log once for all the runners of an
// engine. Each runner used to keep its own subscription, so that every
// event was read (and, on PostgreSQL, every read's horizon computed) once
// per projection: at 1,000 events/s, three projections sent some 2,000 of
// the engine's 6,400 statements a second, each a round trip.
//
// A runner catching up reads the log itself, in large pages; once a read
// comes back short it is live, and it joins the tail (starting it at its
// position if it is not running). The tail follows the log with one
// subscription and keeps the last tailKeep events it read (up to twice as
// many between two trims); a runner whose position falls before them (it
// fell behind) reads on its own again until it is back within them.
// Whatever the source, a runner receives exactly the events after its
// position, in log order.
type logTail struct {
	ctx   context.Context // Engine.Run's: the tail stops with the runners
	store eventstore.Store
	keep  int
	log   *slog.Logger

	mu      sync.Mutex
	running bool                // false once a read failed: the next runner to catch up restarts it
	from    eventstore.Position // events after from are all in evs
	evs     []eventstore.Event  // in log order
	wake    chan struct{}       // closed when evs grows or the tail stops
}

// tailKeep is how many events the tail keeps for runners a little behind.
const tailKeep = 20000

func newLogTail(ctx context.Context, store eventstore.Store, keep int, log *slog.Logger) *logTail {
	return &logTail{ctx: ctx, store: store, keep: keep, log: log, wake: make(chan struct{})}
}

// join starts the tail at pos unless it is running. Called by a runner
// that has just caught up.
func (t *logTail) join(pos eventstore.Position) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running || t.ctx.Err() != nil {
		return
	}
	t.running, t.from, t.evs = true, pos, nil
	go t.run(pos)
}

// run follows the log from pos until the engine stops or a read fails.
func (t *logTail) run(pos eventstore.Position) {
	sub, err := t.store.Subscribe(t.ctx, pos)
	if err == nil {
		defer sub.Close()
		for {
			var evs []eventstore.Event
			if evs, err = sub.Next(t.ctx, 1000); err != nil {
				break
			}
			t.add(evs)
		}
	}
	if err != nil && t.ctx.Err() == nil {
		// Runners read on their own until one catches up and restarts it.
		t.log.Warn("shared log reader stopped", "err", err)
	}
	t.mu.Lock()
	t.running = false
	close(t.wake)
	t.wake = make(chan struct{})
	t.mu.Unlock()
}

func (t *logTail) add(evs []eventstore.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.evs = append(t.evs, evs...)
	// The tail grows to twice what it keeps, then moves its last keep
	// events to the front of the same array: one copy every keep events.
	// Dropping the oldest at every read copied the whole tail (20,000
	// events, 4 MB) into a new array each time, a seventh of the server's
	// CPU under 2,000 commands a second. Readers get copies (after), so
	// nothing else holds the array.
	if len(t.evs) > 2*t.keep {
		drop := len(t.evs) - t.keep
		t.from = t.evs[drop-1].Position
		n := copy(t.evs, t.evs[drop:])
		clear(t.evs[n:]) // so that the dropped events' data can be freed
		t.evs = t.evs[:n]
	}
	close(t.wake)
	t.wake = make(chan struct{})
}

// after returns up to max events after pos when the tail holds them all
// (inside is then true; evs is empty when pos is the last event read, and
// wake is closed when more arrive). inside is false when the tail is not
// running or pos lies outside what it keeps.
func (t *logTail) after(pos eventstore.Position, max int) (evs []eventstore.Event, inside bool, wake <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.running {
		return nil, false, nil
	}
	last := t.from
	if n := len(t.evs); n > 0 {
		last = t.evs[n-1].Position
	}
	if pos.Less(t.from) || last.Less(pos) {
		return nil, false, nil
	}
	i := sort.Search(len(t.evs), func(i int) bool { return pos.Less(t.evs[i].Position) })
	j := min(len(t.evs), i+max)
	// A copy: the runner keeps the slice while the tail appends to its own.
	return append([]eventstore.Event(nil), t.evs[i:j]...), true, t.wake
}

// tailSub is a runner's subscription: its own while it catches up or
// when behind the tail, the tail's otherwise.
type tailSub struct {
	t   *logTail
	pos eventstore.Position
	own eventstore.Subscription
	// viaTail and viaOwn count the events delivered from each source.
	viaTail, viaOwn int
}

func (t *logTail) subscribe(pos eventstore.Position) *tailSub {
	return &tailSub{t: t, pos: pos}
}

// Next implements the part of eventstore.Subscription runners use.
func (s *tailSub) Next(ctx context.Context, max int) ([]eventstore.Event, error) {
	if max <= 0 {
		max = 1
	}
	for {
		evs, inside, wake := s.t.after(s.pos, max)
		if inside {
			s.closeOwn()
			if len(evs) > 0 {
				s.pos = evs[len(evs)-1].Position
				s.viaTail += len(evs)
				return evs, nil
			}
			select {
			case <-wake:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if s.own == nil {
			sub, err := s.t.store.Subscribe(ctx, s.pos)
			if err != nil {
				return nil, err
			}
			s.own = sub
		}
		evs, err := s.own.Next(ctx, max)
		if err != nil {
			return nil, err
		}
		s.pos = evs[len(evs)-1].Position
		s.viaOwn += len(evs)
		if len(evs) < max {
			s.t.join(s.pos) // caught up: live from here
		}
		return evs, nil
	}
}

func (s *tailSub) closeOwn() {
	if s.own != nil {
		s.own.Close() //nolint:errcheck // a read subscription: nothing to lose
		s.own = nil
	}
}

// Close implements eventstore.Subscription.
func (s *tailSub) Close() error {
	s.closeOwn()
	return nil
}
