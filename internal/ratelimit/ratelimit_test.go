package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestLimiterPerKey(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2026, 3, 12, 14, 5, 0, 0, time.UTC)}
	l := New(Limit{Rate: 10, Burst: 5}, c.now)
	for i := range 5 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("past the burst: %v, wait %v, want a refusal for about 100 ms", ok, wait)
	}
	// Another key has its own bucket.
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key refused")
	}
	// A refusal takes nothing: after the wait, one request passes.
	c.add(wait)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("refused after waiting what it said")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("a second request passed without waiting")
	}
}

func TestLimiterForgetsIdleKeys(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2026, 3, 12, 14, 5, 0, 0, time.UTC)}
	l := New(Limit{Rate: 1}, c.now)
	for i := range 100 {
		l.Allow(fmt.Sprint("addr", i))
	}
	c.add(idleAfter + time.Second)
	for range sweepEvery {
		l.Allow("busy")
	}
	if n := l.Keys(); n != 1 {
		t.Fatalf("%d keys kept, want only the busy one", n)
	}
}

func TestNoLimit(t *testing.T) {
	t.Parallel()
	var nilLimiter *Limiter
	for _, l := range []*Limiter{nilLimiter, New(Limit{}, nil)} {
		for range 1000 {
			if ok, _ := l.Allow("x"); !ok {
				t.Fatal("a limiter without a rate refused")
			}
		}
	}
}
