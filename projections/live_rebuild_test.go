package projections_test

import (
	"context"
	"testing"
	"time"

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

// On PostgreSQL, tables filled from empty (a runner catching up on a log
// loaded in bulk, or a rebuild) come out analyzed, and the runner's come
// out vacuumed: queries are planned from their contents at once, whether
// or not autovacuum runs.
func TestLoadedTablesAnalyzed(t *testing.T) {
	t.Parallel()
	b := mustBackend(t, "postgres")
	res := mustSimulate(t, b.store, simulate.Options{Seed: 5, Months: 2, NeedsPerMonth: 40, Writers: 2})
	e := mustEngine(t, b, projectionsOptions())
	stop := mustRun(t, e)
	mustWait(t, e, res.Last)
	tables := []string{"needs", "matches", "stats_needs", "stats_cells"}
	// tidied reports which tables lack planner statistics or (vacuumed) a
	// vacuum.
	tidied := func(vacuumed bool) []string {
		t.Helper()
		var missing []string
		for _, table := range tables {
			var analyzed int
			var vacuum bool
			if err := b.db.QueryRow(`SELECT
				(SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = $1),
				(SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = $1)`,
				table).Scan(&analyzed, &vacuum); err != nil {
				t.Fatal(err)
			}
			if analyzed == 0 || (vacuumed && !vacuum) {
				missing = append(missing, table)
			}
		}
		return missing
	}
	// The runners tidy once they have committed the head: give them time.
	deadline := time.Now().Add(30 * time.Second)
	for missing := tidied(true); len(missing) > 0; missing = tidied(true) {
		if time.Now().After(deadline) {
			t.Fatalf("after catching up, not analyzed and vacuumed: %v", missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if err := e.RebuildAll(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if missing := tidied(false); len(missing) > 0 {
		t.Fatalf("after a rebuild, not analyzed: %v", missing)
	}
}
