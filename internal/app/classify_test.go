package app_test

import (
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/reso-fr/reso/eventstore/memory"
	"github.com/reso-fr/reso/eventstore/postgres"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/auth"
)

// TestClassify: an error of a database that cannot serve now (here,
// PostgreSQL starting up) becomes ErrUnavailable, which the doors answer
// with "retry shortly"; other errors stay as they are.
func TestClassify(t *testing.T) {
	t.Parallel()
	svc, err := app.New(app.Config{Store: memory.New(), Auth: &auth.Store{}, Unavailable: postgres.IsUnavailable})
	if err != nil {
		t.Fatal(err)
	}
	down := fmt.Errorf("reserve idempotency key: %w", &pgconn.PgError{Code: "57P03"})
	if got := svc.Classify(down); !errors.Is(got, app.ErrUnavailable) || !errors.Is(got, down) {
		t.Errorf("starting database: %v, want ErrUnavailable wrapping it", got)
	}
	refused := fmt.Errorf("read: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")})
	if got := svc.Classify(refused); !errors.Is(got, app.ErrUnavailable) {
		t.Errorf("refused connection: %v, want ErrUnavailable", got)
	}
	bad := fmt.Errorf("read: %w", &pgconn.PgError{Code: "42P01", Message: "relation does not exist"})
	if got := svc.Classify(bad); errors.Is(got, app.ErrUnavailable) {
		t.Errorf("a bad statement is not a passing refusal: %v", got)
	}
	other := errors.New("disk on fire")
	if got := svc.Classify(other); got != other {
		t.Errorf("another error: %v, want it unchanged", got)
	}
	if svc.Classify(nil) != nil {
		t.Error("nil classified")
	}
}
