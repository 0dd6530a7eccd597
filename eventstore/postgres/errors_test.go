package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"shutting down", fmt.Errorf("read: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"bad password", &pgconn.PgError{Code: "28P01"}, false},
		{"dial", fmt.Errorf("append: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), true},
		{"cut mid-answer", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"closed connection", pgconn.ErrConnClosed, true},
		{"other", errors.New("disk on fire"), false},
		{"context", context.Canceled, false},
	} {
		if got := IsUnavailable(c.err); got != c.want {
			t.Errorf("%s: IsUnavailable(%v) = %v", c.name, c.err, got)
		}
	}
	// A real refusal: nothing listens on the port.
	ctx := context.Background()
	_, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	if err == nil || !IsUnavailable(err) {
		t.Errorf("connecting to a closed port: %v, unavailable %v", err, IsUnavailable(err))
	}
}
