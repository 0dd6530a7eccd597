// Package pgschema makes and drops throw-away PostgreSQL schemas, the
// isolation of both the tests (internal/pgtest) and the end-to-end
// benchmarks (internal/bench): each run creates <prefix>_<random>, points
// its connections at it through search_path and drops it at the end.
//
// It imports no testing code, so that a benchmark command can use it
// without linking the testing package.
package pgschema

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the local trust-auth server that tests and benchmarks use
// when they are given no URL.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ConnectError is returned when the server of a DSN cannot be reached;
// tests skip on it, anything else is a failure.
type ConnectError struct {
	DSN string // with any password hidden
	Err error
}

func (e *ConnectError) Error() string { return "connect to " + e.DSN + ": " + e.Err.Error() }
func (e *ConnectError) Unwrap() error { return e.Err }

// Create makes a schema named prefix followed by 12 random hex digits on the
// server of dsn. It returns the schema's name, a *ConnectError when the
// server is unreachable, or the creation error.
func Create(ctx context.Context, dsn, prefix string) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", &ConnectError{DSN: Redact(dsn), Err: err}
	}
	defer conn.Close(context.Background())
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	schema := prefix + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", fmt.Errorf("create schema %s: %w", schema, err)
	}
	return schema, nil
}

// Drop removes schema and everything in it from the server of dsn. It
// returns the connection or drop error.
func Drop(ctx context.Context, dsn, schema string) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	return nil
}

// WithParam sets a connection parameter (search_path, application_name,
// pool_max_conns…) in a URL or keyword/value DSN.
func WithParam(dsn, key, value string) string {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set(key, value)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return strings.TrimSpace(dsn + " " + key + "=" + value)
}

// Redact hides the password of a URL DSN, for error messages.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return dsn
}
