package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/eventstoretest"
	"github.com/reso-fr/reso/internal/pgtest"
)

// TestConformance runs the contract's suite, each case on a fresh schema,
// with the default horizon of DESIGN.md (pg_snapshot_xmin). On a server
// shared with other work its timing cases slow down while another
// transaction is held open: the documented caveat, which HorizonLag exposes.
func TestConformance(t *testing.T) {
	runConformance(t)
}

func runConformance(t *testing.T, opts ...Option) {
	// The suite reads its own writes right after appending. With the
	// cluster horizon, any transaction of the server (other test packages
	// run at the same time) holds those reads back; the default read wait
	// of 1 s is a latency bound for production, too short for a shared
	// test server, so the suite waits longer (settle returns as soon as
	// the horizon passes).
	opts = append([]Option{WithReadWait(15 * time.Second)}, opts...)
	eventstoretest.Run(t, func(t *testing.T) (eventstore.Store, func() (eventstore.Store, error)) {
		dsn := pgtest.MustSchema(t) + "&pool_max_conns=20"
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := Open(ctx, dsn, opts...)
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		return s, func() (eventstore.Store, error) {
			return Open(context.Background(), dsn, opts...)
		}
	})
}

// TestConformanceWritersHorizon runs the suite with the pg_locks horizon.
func TestConformanceWritersHorizon(t *testing.T) {
	runConformance(t, WithWritersHorizon())
}
