package eventstoretest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/eventstore"
)

// idleTimeout is how long a collector may go without receiving anything
// while it still waits for committed events; generous because the machine
// running the suite may be loaded, short enough that a lost event fails the
// case in seconds.
const idleTimeout = 5 * time.Second

// collector follows a subscription in a goroutine and keeps what it gets,
// with the time each event arrived.
type collector struct {
	sub     eventstore.Subscription
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	events  []eventstore.Event
	arrived map[uuid.UUID]time.Time
	err     error
	changed chan struct{} // closed and replaced on every delivery
}

// startCollector subscribes after pos before returning, so the subscription's
// start is well defined, then follows it until waitFor or the test ends.
func startCollector(t *testing.T, ctx context.Context, s eventstore.Store, after eventstore.Position) *collector {
	t.Helper()
	sub, err := s.Subscribe(ctx, after)
	if err != nil {
		t.Fatalf("subscribe after %s: %v", after, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	c := &collector{
		sub: sub, cancel: cancel, done: make(chan struct{}),
		arrived: map[uuid.UUID]time.Time{}, changed: make(chan struct{}),
	}
	t.Cleanup(func() { c.stop(); _ = sub.Close() })
	go c.run(cctx)
	return c
}

func (c *collector) run(ctx context.Context) {
	defer close(c.done)
	for {
		evs, err := c.sub.Next(ctx, 100)
		now := time.Now()
		c.mu.Lock()
		if err != nil {
			if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
				c.err = err
			}
			c.mu.Unlock()
			return
		}
		if len(evs) == 0 {
			c.err = errors.New("subscription returned no event and no error")
			c.mu.Unlock()
			return
		}
		c.events = append(c.events, evs...)
		for _, e := range evs {
			c.arrived[e.ID] = now
		}
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
	}
}

func (c *collector) stop() {
	c.cancel()
	<-c.done
}

// waitFor waits until n events have arrived, lets a moment pass for any
// extra (duplicate) delivery, stops the collector and returns what it got.
func (c *collector) waitFor(t *testing.T, n int) []eventstore.Event {
	t.Helper()
	idle := time.NewTimer(idleTimeout)
	defer idle.Stop()
	for {
		c.mu.Lock()
		got, err, changed := len(c.events), c.err, c.changed
		c.mu.Unlock()
		if err != nil {
			t.Fatalf("subscription after %d events: %v", got, err)
		}
		if got >= n {
			break
		}
		select {
		case <-changed:
			idle.Reset(idleTimeout)
		case <-c.done:
			c.mu.Lock()
			got, err = len(c.events), c.err
			c.mu.Unlock()
			if got < n {
				t.Fatalf("subscription ended after %d events, want %d: %v", got, n, err)
			}
		case <-idle.C:
			t.Fatalf("subscription delivered %d events, want %d; nothing came for %s", got, n, idleTimeout)
		}
	}
	time.Sleep(50 * time.Millisecond)
	c.stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		t.Fatalf("subscription: %v", c.err)
	}
	return c.events
}

// arrival returns when the event with id arrived, if it has.
func (c *collector) arrival(id uuid.UUID) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.arrived[id]
	return at, ok
}
