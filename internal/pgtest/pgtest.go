// Package pgtest gives tests a fresh PostgreSQL schema of their own.
//
// Tests read RESO_TEST_DATABASE_URL (default: the local trust-auth server).
// When no server answers they skip, unless CI or RESO_REQUIRE_POSTGRES is
// set: then they fail, so that a broken database never passes as green.
// The schemas themselves are made and dropped by internal/pgschema, which
// the benchmarks share.
package pgtest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/pgschema"
)

// DefaultURL is used when RESO_TEST_DATABASE_URL is unset.
const DefaultURL = pgschema.DefaultURL

// BaseURL returns the server URL tests use.
func BaseURL() string {
	if u := os.Getenv("RESO_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Required reports whether a missing server must fail the tests.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("RESO_REQUIRE_POSTGRES") != ""
}

// MustSchema creates a schema named after a random suffix, drops it when the
// test ends, and returns a URL whose connections use it as search_path.
// It skips the test when no server is reachable (fails when Required).
func MustSchema(t testing.TB) string {
	t.Helper()
	base := BaseURL()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	schema, err := pgschema.Create(ctx, base, "t_")
	skipUnreachable(t, err)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := pgschema.Drop(ctx, base, schema); err != nil {
			t.Log(err)
		}
	})
	return WithSearchPath(t, base, schema)
}

// skipUnreachable skips the test when err says no server answers, or
// fails it when Required.
func skipUnreachable(t testing.TB, err error) {
	t.Helper()
	if ce := (*pgschema.ConnectError)(nil); errors.As(err, &ce) {
		if Required() {
			t.Fatalf("postgres required but unreachable at %s: %v", ce.DSN, ce.Err)
		}
		t.Skipf("postgres unreachable at %s (set CI or RESO_REQUIRE_POSTGRES to fail instead): %v", ce.DSN, ce.Err)
	}
}

// WithSearchPath returns base with its search_path set to schema.
func WithSearchPath(t testing.TB, base, schema string) string {
	t.Helper()
	return pgschema.WithParam(base, "search_path", schema)
}
