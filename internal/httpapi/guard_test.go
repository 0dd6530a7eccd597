package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestSecurityHeadersAndBodyLimit: every answer of the router, a 404 as
// well as a 413, carries the security headers; a body over the limit is
// refused on any method, before any handler runs.
func TestSecurityHeadersAndBodyLimit(t *testing.T) {
	t.Parallel()
	h := mustRoutes(t)
	for _, c := range []struct {
		method, path string
		body         []byte
		status       int
	}{
		{"GET", "/nowhere", nil, http.StatusNotFound},
		{"GET", "/api/subjects", bytes.Repeat([]byte("x"), MaxBodyBytes+1), http.StatusRequestEntityTooLarge},
		{"DELETE", "/api/needs", bytes.Repeat([]byte("x"), MaxBodyBytes+1), http.StatusRequestEntityTooLarge},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(c.method, c.path, bytes.NewReader(c.body)))
		if w.Code != c.status {
			t.Errorf("%s %s: status %d, want %d", c.method, c.path, w.Code, c.status)
		}
		for k, want := range map[string]string{
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"Cache-Control":           "no-store",
		} {
			if got := w.Header().Get(k); got != want {
				t.Errorf("%s %s: %s %q, want %q", c.method, c.path, k, got, want)
			}
		}
	}
}
