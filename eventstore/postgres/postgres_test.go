package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/eventstoretest"
	"github.com/reso-fr/reso/internal/pgtest"
)

// TestConformance runs the contract's suite, each case on a fresh schema.
func TestConformance(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) (eventstore.Store, func() (eventstore.Store, error)) {
		dsn := pgtest.MustSchema(t) + "&pool_max_conns=20"
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		return s, func() (eventstore.Store, error) {
			return Open(context.Background(), dsn)
		}
	})
}
