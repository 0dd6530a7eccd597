package pgtest

import (
	"net/url"
	"testing"
)

// MustDatabase creates a database of the test's own on the test server
// (for what a schema cannot hold: a restore, which recreates a schema by
// its name) and drops it when the test ends. It returns its URL. It skips
// the test when no server is reachable (fails when Required).
func MustDatabase(t testing.TB) string {
	t.Helper()
	name := mustCreate(t, "DATABASE", "DROP DATABASE %s WITH (FORCE)")
	u, err := url.Parse(BaseURL())
	if err != nil {
		t.Fatalf("parse %s: %v", BaseURL(), err)
	}
	u.Path = "/" + name
	return u.String()
}
