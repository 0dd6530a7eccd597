package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reso-fr/reso/internal/version"
)

// /healthz names the running version; /readyz's 503 keeps the reason for
// the log: an unauthenticated caller learns nothing of hosts or queries.
func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	secret := "dial tcp 10.1.2.3:5432: password authentication failed for user reso_prod"
	a := &api{d: Deps{Registry: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Ready: func(context.Context) error { return errors.New(secret) }}, metrics: newMetrics(reg)}
	h, err := a.router(a.routes())
	if err != nil {
		t.Fatal(err)
	}

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	var health map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &health); err != nil || w.Code != http.StatusOK {
		t.Fatalf("healthz: %d %s", w.Code, w.Body)
	}
	if v := version.Get(); health["version"] != v.Version || health["version"] == "" || health["commit"] != v.Commit {
		t.Errorf("healthz %v, want version %q commit %q", health, v.Version, v.Commit)
	}

	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("readyz: %d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	for _, leak := range []string{"10.1.2.3", "reso_prod", "password"} {
		if strings.Contains(w.Body.String(), leak) {
			t.Errorf("readyz's answer shows %q: %s", leak, w.Body)
		}
	}
	if !strings.Contains(logs.String(), "10.1.2.3") {
		t.Errorf("the reason is not in the log: %s", logs.String())
	}
}
