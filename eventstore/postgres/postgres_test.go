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
// with the default (writers) horizon. The cluster horizon is not run
// through the suite: on a server shared with other work its timing cases
// fail whenever another database holds a transaction open (seen), which is
// the caveat it is documented with; TestUnrelatedTransactionDoesNotHoldReaders
// and TestHorizonHoldsBackLateCommits cover it.
func TestConformance(t *testing.T) {
	runConformance(t)
}

func runConformance(t *testing.T, opts ...Option) {
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
