package pgschema_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/reso-fr/reso/internal/pgschema"
	"github.com/reso-fr/reso/internal/pgtest"
)

func TestWithParam(t *testing.T) {
	t.Parallel()
	tests := []struct{ dsn, want string }{
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?search_path=s&sslmode=disable"},
		{"postgres://u@h/db?search_path=old", "postgres://u@h/db?search_path=s"},
		{"host=h dbname=db", "host=h dbname=db search_path=s"},
	}
	for _, tt := range tests {
		if got := pgschema.WithParam(tt.dsn, "search_path", "s"); got != tt.want {
			t.Errorf("WithParam(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ dsn, want string }{
		{"postgres://u:secret@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"host=h dbname=db", "host=h dbname=db"},
	}
	for _, tt := range tests {
		if got := pgschema.Redact(tt.dsn); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}

// An unreachable server gives a *ConnectError (tests skip on it) that does
// not show the password.
func TestCreateUnreachable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := pgschema.Create(ctx, "postgres://u:secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=5", "t_")
	var ce *pgschema.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("Create on port 1: %v, want a *ConnectError", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error shows the password: %v", err)
	}
}

// Create makes a schema with the prefix that Drop removes, with its tables.
func TestCreateAndDrop(t *testing.T) {
	t.Parallel()
	pgtest.MustSchema(t) // skips (or fails under CI) without a server
	ctx := context.Background()
	base := pgtest.BaseURL()
	schema, err := pgschema.Create(ctx, base, "t_")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(schema, "t_") || len(schema) != len("t_")+12 {
		t.Errorf("schema %q: want t_ and 12 hex digits", schema)
	}
	dropped := false
	t.Cleanup(func() {
		if !dropped {
			_ = pgschema.Drop(context.Background(), base, schema)
		}
	})
	conn, err := pgx.Connect(ctx, pgschema.WithParam(base, "search_path", schema))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	var in string
	if err := conn.QueryRow(ctx, "SELECT table_schema FROM information_schema.tables WHERE table_name = 't' AND table_schema = current_schema()").Scan(&in); err != nil || in != schema {
		t.Fatalf("table t in %q (%v), want in %q", in, err, schema)
	}
	if err := pgschema.Drop(ctx, base, schema); err != nil {
		t.Fatal(err)
	}
	dropped = true
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", schema).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema %s still there after Drop (%d, %v)", schema, n, err)
	}
	if err := pgschema.Drop(ctx, base, schema); err == nil {
		t.Error("dropping a dropped schema succeeded")
	}
}
