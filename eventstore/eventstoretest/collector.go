package eventstoretest

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// heldTimeout bounds how long waitFor keeps waiting, without anything
// arriving, while the store's own ReadAll does not show the missing events
// either: a store whose readers are held back (PostgreSQL's horizon, by a
// transaction of a busy shared server) delays events, it does not lose
// them. A store that lost them still fails, later.
const heldTimeout = 30 * time.Second

// collector follows a subscription in a goroutine and keeps what it gets,
// with the time each event arrived.
type collector struct {
	store   eventstore.Store
	after   eventstore.Position // where the subscription started
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
		store: s, after: after, sub: sub, cancel: cancel, done: make(chan struct{}),
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
	lastArrival := time.Now()
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
			lastArrival = time.Now()
			idle.Reset(idleTimeout)
		case <-c.done:
			c.mu.Lock()
			got, err = len(c.events), c.err
			c.mu.Unlock()
			if got < n {
				t.Fatalf("subscription ended after %d events, want %d: %v", got, n, err)
			}
		case <-idle.C:
			idleFor := time.Since(lastArrival).Round(time.Millisecond)
			diag, held := c.diagnose()
			if !held || idleFor >= heldTimeout {
				t.Fatalf("subscription delivered %d events, want %d; nothing came for %s; %s", got, n, idleFor, diag)
			}
			t.Logf("nothing came for %s but %s: waiting longer", idleFor, diag)
			idle.Reset(idleTimeout)
		}
	}
	// Kept: a duplicate delivery shows only as an event too many, which
	// can only be looked for over a window after the last expected one.
	time.Sleep(50 * time.Millisecond)
	c.stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		t.Fatalf("subscription: %v", c.err)
	}
	return c.events
}

// diagnose compares what the subscription delivered with what ReadAll
// returns after the same start. held reports that ReadAll shows no event
// the subscription missed, so the store's readers as a whole are held back
// (or lost the events: waitFor fails at heldTimeout). Otherwise the message
// says whether the missing events lie below the last delivered position (a
// subscription that skipped them: they can never come) or beyond it (a
// stuck subscription).
func (c *collector) diagnose() (msg string, held bool) {
	c.mu.Lock()
	delivered := make(map[uuid.UUID]bool, len(c.events))
	for _, e := range c.events {
		delivered[e.ID] = true
	}
	last := c.after
	if len(c.events) > 0 {
		last = c.events[len(c.events)-1].Position
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var (
		skipped, beyond []eventstore.Event
		logged          int
	)
	for after := c.after; ; {
		evs, err := c.store.ReadAll(ctx, after, 1000)
		if err != nil {
			return fmt.Sprintf("reading the log to compare: %v", err), false
		}
		logged += len(evs)
		for _, e := range evs {
			switch {
			case delivered[e.ID]:
			case e.Position.Less(last):
				skipped = append(skipped, e)
			default:
				beyond = append(beyond, e)
			}
		}
		if len(evs) < 1000 {
			break
		}
		after = evs[len(evs)-1].Position
	}
	describe := func(evs []eventstore.Event) string {
		var b strings.Builder
		for i, e := range evs {
			if i == 5 {
				fmt.Fprintf(&b, " …")
				break
			}
			fmt.Fprintf(&b, " %s@%s", e.ID, e.Position)
		}
		return b.String()
	}
	switch {
	case len(skipped) > 0:
		return fmt.Sprintf("SKIPPED: ReadAll shows %d undelivered events below the last delivered position %s:%s",
			len(skipped), last, describe(skipped)), false
	case len(beyond) > 0:
		// They may have become visible just now (a horizon released while
		// we read): give the subscription a moment to deliver them.
		time.Sleep(2 * time.Second)
		c.mu.Lock()
		progressed := len(c.events) > len(delivered)
		c.mu.Unlock()
		if progressed {
			return "events arrived while comparing with ReadAll", true
		}
		return fmt.Sprintf("the subscription is stuck: ReadAll shows %d undelivered events after the last delivered position %s:%s",
			len(beyond), last, describe(beyond)), false
	}
	return fmt.Sprintf("ReadAll shows only %d events after %s either (readers held back?)", logged, c.after), true
}

// arrival returns when the event with id arrived, if it has.
func (c *collector) arrival(id uuid.UUID) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.arrived[id]
	return at, ok
}
