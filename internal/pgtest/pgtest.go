// Package pgtest gives tests a fresh PostgreSQL schema of their own.
//
// Tests read RESO_TEST_DATABASE_URL (default: the local trust-auth server).
// When no server answers they skip, unless CI or RESO_REQUIRE_POSTGRES is
// set: then they fail, so that a broken database never passes as green.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is used when RESO_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

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
	return WithSearchPath(t, BaseURL(), mustCreate(t, "SCHEMA", "DROP SCHEMA %s CASCADE"))
}

// mustCreate creates an object of kind (SCHEMA, DATABASE) with a random
// name on the test server, runs drop (a format taking the name) when the
// test ends, and returns the name. It skips the test when no server is
// reachable (fails when Required).
func mustCreate(t testing.TB, kind, drop string) string {
	t.Helper()
	base := BaseURL()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if Required() {
			t.Fatalf("postgres required but unreachable at %s: %v", base, err)
		}
		t.Skipf("postgres unreachable at %s (set CI or RESO_REQUIRE_POSTGRES to fail instead): %v", base, err)
	}
	defer conn.Close(context.Background())

	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE "+kind+" "+name); err != nil {
		t.Fatalf("create %s %s: %v", strings.ToLower(kind), name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, fmt.Sprintf(drop, name)); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	return name
}

// WithSearchPath returns base with its search_path set to schema.
func WithSearchPath(t testing.TB, base, schema string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
