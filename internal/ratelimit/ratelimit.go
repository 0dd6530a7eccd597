// Package ratelimit bounds how fast one caller may send requests: a token
// bucket (golang.org/x/time/rate) per key — a principal, or a client
// address — whose idle buckets are forgotten. The API and the console share
// one set of limiters, so a caller's requests count once whatever door they
// use.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a sustained rate (requests a second) and the burst above it a
// caller may send at once. A zero Rate means no limit.
type Limit struct {
	Rate  float64
	Burst int
}

// idleAfter is how long a bucket is kept without requests: by then it is
// full again, and a new one is the same.
const idleAfter = 10 * time.Minute

// sweepEvery is how many calls pass between sweeps of idle buckets, so that
// the map does not grow with every address ever seen.
const sweepEvery = 4096

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// Limiter keeps one bucket per key. It is safe for concurrent use.
type Limiter struct {
	limit Limit
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	calls   int
}

// New returns a limiter of limit per key. now is the clock (nil: time.Now).
func New(limit Limit, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	if limit.Burst < 1 {
		limit.Burst = max(1, int(math.Ceil(limit.Rate)))
	}
	return &Limiter{limit: limit, now: now, buckets: map[string]*bucket{}}
}

// Limit is the limiter's limit per key.
func (l *Limiter) Limit() Limit { return l.limit }

// Allow takes one request from key's bucket. When the bucket is empty it
// takes nothing and returns false with the time until a request would be
// allowed. A nil limiter, or one without a rate, allows everything.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil || l.limit.Rate <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.limit.Rate), l.limit.Burst)}
		l.buckets[key] = b
	}
	b.last = now
	l.calls++
	if l.calls%sweepEvery == 0 {
		for k, x := range l.buckets {
			if now.Sub(x.last) > idleAfter {
				delete(l.buckets, k)
			}
		}
	}
	l.mu.Unlock()
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Keys is how many buckets the limiter holds (for tests and metrics).
func (l *Limiter) Keys() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// Guard is the pair of limiters a server applies: per client address
// before authentication, per principal after.
type Guard struct {
	PerAddress   *Limiter
	PerPrincipal *Limiter
}

// Defaults of a server's guard: a person in the console sends a few
// requests a second and a program a few dozen; an address may hide a whole
// administration behind its NAT.
var (
	DefaultPerPrincipal = Limit{Rate: 50, Burst: 200}
	DefaultPerAddress   = Limit{Rate: 200, Burst: 400}
)

// NewGuard returns a guard of those limits (a zero Limit: no limit).
func NewGuard(perAddress, perPrincipal Limit) *Guard {
	return &Guard{PerAddress: New(perAddress, nil), PerPrincipal: New(perPrincipal, nil)}
}
