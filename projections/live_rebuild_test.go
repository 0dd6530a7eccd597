package projections_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/internal/testwait"
	"github.com/reso-fr/reso/projections"
	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
)

// After a simulated workload written by concurrent writers while the
// projections run, every live table equals a fresh rebuild, row by row.
func TestLiveEqualsRebuild(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{})
			pt.MustRun(t, e)
			res := pt.MustSimulate(t, b.Store, simulate.Options{Seed: 7, Months: 4, NeedsPerMonth: 60, Writers: 4, SignauxFaibles: true})
			pt.MustWait(t, e, res.Last)
			live := pt.MustDump(t, b.DB)
			for _, table := range pt.ReadModelTables {
				if len(live[table]) == 0 {
					t.Fatalf("%s is empty after the simulation", table)
				}
			}
			if err := e.RebuildAll(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			pt.MustEqualDumps(t, live, pt.MustDump(t, b.DB))
			// Again with a flush every few pages: statistics then hold
			// their cells across many flushes (needs moving between
			// them) and write them once at the end.
			small := pt.MustEngine(t, b, readmodels.Options{RebuildBatch: 50, RebuildFlush: 97})
			if err := small.RebuildAll(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			pt.MustEqualDumps(t, live, pt.MustDump(t, b.DB))
		})
	}
}

// On PostgreSQL, tables filled from empty (a runner catching up on a log
// loaded in bulk, or a rebuild) come out analyzed, and the runner's come
// out vacuumed: queries are planned from their contents at once, whether
// or not autovacuum runs.
func TestLoadedTablesAnalyzed(t *testing.T) {
	t.Parallel()
	b := pt.MustBackend(t, "postgres")
	res := pt.MustSimulate(t, b.Store, simulate.Options{Seed: 5, Months: 2, NeedsPerMonth: 40, Writers: 2})
	e := pt.MustEngine(t, b, readmodels.Options{})
	stop := pt.MustRun(t, e)
	pt.MustWait(t, e, res.Last)
	tables := []string{"needs", "matches", "stats_needs", "stats_cells"}
	// tidied reports which tables lack planner statistics or (vacuumed) a
	// vacuum.
	tidied := func(vacuumed bool) []string {
		t.Helper()
		var missing []string
		for _, table := range tables {
			var analyzed int
			var vacuum bool
			if err := b.DB.QueryRow(`SELECT
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
	testwait.MustEventually(t, 30*time.Second, func() error {
		if missing := tidied(true); len(missing) > 0 {
			return fmt.Errorf("after catching up, not analyzed and vacuumed: %v", missing)
		}
		return nil
	})
	stop()
	if err := e.RebuildAll(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if missing := tidied(false); len(missing) > 0 {
		t.Fatalf("after a rebuild, not analyzed: %v", missing)
	}
}

// A rebuild cancelled at any point (mid-fold, mid-flush: on SQLite inside
// a relay's slice) leaves the database writable and the live tables as
// they were, and the next rebuild succeeds.
func TestCancelledRebuildLeavesTablesAndLocks(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{})
			stop := pt.MustRun(t, e)
			res := pt.MustSimulate(t, b.Store, simulate.Options{Seed: 9, Months: 3, NeedsPerMonth: 60, Writers: 2})
			pt.MustWait(t, e, res.Last)
			stop()
			live := pt.MustDump(t, b.DB)
			small := pt.MustEngine(t, b, readmodels.Options{RebuildBatch: 50, RebuildFlush: 97})
			reports := 0
			if err := small.RebuildAll(context.Background(), func(projections.Progress) { reports++ }); err != nil {
				t.Fatal(err)
			}
			pt.MustEqualDumps(t, live, pt.MustDump(t, b.DB))
			// Cancelled at the first page, in the fold, and when the swap
			// begins (the report before last; the last says it is done).
			for _, after := range []int{1, reports / 3, 2 * reports / 3, reports - 1} {
				start := time.Now()
				ctx, cancel := context.WithCancel(context.Background())
				calls := 0
				err := small.RebuildAll(ctx, func(projections.Progress) {
					if calls++; calls == after {
						cancel()
					}
				})
				cancel()
				if calls < after {
					t.Fatalf("the rebuild reported %d times, fewer than %d: %v", calls, after, err)
				}
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled after %d reports: %v", after, err)
				}
				t.Logf("cancelled after %d of %d reports: %v", after, reports, time.Since(start))
				pt.MustEqualDumps(t, live, pt.MustDump(t, b.DB))
			}
			// The locks were given back: the log takes an append, and a
			// rebuild runs to its end.
			appendCtx, done := context.WithTimeout(context.Background(), testwait.Scale(10*time.Second))
			defer done()
			id := uuid.New()
			typ, v, data, err := domain.Marshal(captured(id, "k"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Store.Append(appendCtx, domain.NeedStream(id), eventstore.NoStream,
				eventstore.NewEvent{ID: uuid.New(), Type: typ, SchemaVersion: v, Data: data}); err != nil {
				t.Fatal(err)
			}
			if err := e.RebuildAll(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}
