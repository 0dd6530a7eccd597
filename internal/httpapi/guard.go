package httpapi

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"
)

// securityHeaders are set on every answer of the API: it serves JSON only,
// so nothing may run, be framed or be sniffed as another type, and answers
// holding personal data must not be kept by caches.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses, on every route and method, a body announced larger
// than MaxBodyBytes (or, on a route taking files, its own limit), and cuts
// one that turns out larger while it is read. It runs before routing: the
// larger limits are looked up by method and path (such routes have no
// path parameters).
func (a *api) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(MaxBodyBytes)
		if n, ok := a.bodyLimits[r.Method+" "+r.URL.Path]; ok {
			limit = n
			r = r.WithContext(context.WithValue(r.Context(), bodyLimitKey{}, n))
		}
		if r.ContentLength > limit {
			writeProblem(w, r, nil, tooLarge(limit))
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// clientAddress is the address a request came from, without its port.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limitAddress refuses, with 429, an address past its rate.
func (a *api) limitAddress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.d.Guard != nil {
			if ok, wait := a.d.Guard.PerAddress.Allow(clientAddress(r)); !ok {
				a.fail(w, r, rateLimited("this address", a.d.Guard.PerAddress.Limit().Rate, wait))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// limitPrincipal refuses, with 429, a principal past its rate, whatever
// address its requests come from.
func (a *api) limitPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.d.Guard != nil {
			p := principalOf(r.Context())
			if ok, wait := a.d.Guard.PerPrincipal.Allow(p.UserID.String()); !ok {
				a.fail(w, r, rateLimited("this user", a.d.Guard.PerPrincipal.Limit().Rate, wait))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// rateLimited is the 429 of a caller past its rate, with Retry-After in
// whole seconds (at least 1).
func rateLimited(who string, perSecond float64, wait time.Duration) *Problem {
	p := newProblem(http.StatusTooManyRequests, "rate-limited", "Too many requests",
		fmt.Sprintf("%s sent more than %g requests a second; retry after %s", who, perSecond, wait.Round(time.Millisecond)))
	p.retryAfter = strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
	return p
}
