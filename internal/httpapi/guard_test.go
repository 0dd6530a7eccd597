package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
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

// The Signaux Faibles import takes files up to MaxSFImportBytes; every other route
// keeps MaxBodyBytes, and the 413 says the route's limit.
func TestImportBodyLimit(t *testing.T) {
	t.Parallel()
	h := mustRoutes(t)
	big := bytes.Repeat([]byte("x"), 2*MaxBodyBytes)
	for _, c := range []struct {
		method, path string
		length       int64
		body         []byte
		status       int
		says         string
	}{
		// Past the body limit, the request reaches authentication.
		{"POST", "/api/imports/signaux-faibles", int64(len(big)), big, http.StatusUnauthorized, ""},
		{"POST", "/api/imports/signaux-faibles", MaxSFImportBytes + 1, nil, http.StatusRequestEntityTooLarge, "33554432 bytes"},
		{"POST", "/api/imports/signaux-faibles?list=x", -1, bytes.Repeat([]byte("x"), MaxSFImportBytes+1), http.StatusUnauthorized, ""},
		{"POST", "/api/needs", int64(len(big)), big, http.StatusRequestEntityTooLarge, "1048576 bytes"},
		{"GET", "/api/signaux-faibles/companies", int64(len(big)), big, http.StatusRequestEntityTooLarge, "1048576 bytes"},
	} {
		req := httptest.NewRequest(c.method, c.path, bytes.NewReader(c.body))
		req.ContentLength = c.length
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.says) {
			t.Errorf("%s %s (%d bytes): %d %s, want %d saying %q", c.method, c.path, c.length, w.Code, w.Body, c.status, c.says)
		}
	}
}
