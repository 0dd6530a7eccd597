package projections_test

import (
	"context"
	"testing"

	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/projections"
)

// After a simulated workload written by concurrent writers while the
// projections run, every live table equals a fresh rebuild, row by row.
func TestLiveEqualsRebuild(t *testing.T) {
	t.Parallel()
	for _, name := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := mustBackend(t, name)
			e := mustEngine(t, b, projectionsOptions())
			mustRun(t, e)
			res := mustSimulate(t, b.store, simulate.Options{Seed: 7, Months: 4, NeedsPerMonth: 60, Writers: 4})
			mustWait(t, e, res.Last)
			live := mustDump(t, b.db)
			for _, table := range readModelTables {
				if len(live[table]) == 0 {
					t.Fatalf("%s is empty after the simulation", table)
				}
			}
			if err := e.RebuildAll(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			mustEqualDumps(t, live, mustDump(t, b.db))
			// Again with a flush every few pages: statistics then hold
			// their cells across many flushes (needs moving between
			// them) and write them once at the end.
			small := mustEngine(t, b, projections.Options{RebuildBatch: 50, RebuildFlush: 97})
			if err := small.RebuildAll(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			mustEqualDumps(t, live, mustDump(t, b.db))
		})
	}
}
