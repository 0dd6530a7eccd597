package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/projections"
	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
)

// BenchmarkRebuildSQLite measures RebuildAll over a simulated log (for
// profiling; `reso-bench rebuild` is the end-to-end figure).
func BenchmarkRebuildSQLite(b *testing.B) { benchRebuild(b, pt.MustSQLite(b)) }

// BenchmarkRebuildPostgres is the same on PostgreSQL.
func BenchmarkRebuildPostgres(b *testing.B) { benchRebuild(b, pt.MustPostgres(b)) }

func benchRebuild(b *testing.B, be pt.Backend) {
	res, err := simulate.Run(context.Background(), be.Store, simulate.Options{Seed: 1, Months: 6, NeedsPerMonth: 300, Writers: 4})
	if err != nil {
		b.Fatal(err)
	}
	e, err := readmodels.New(be.Handle, be.Store, readmodels.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		last := time.Now()
		if err := e.RebuildAll(context.Background(), func(p projections.Progress) {
			b.Logf("%s %d events after %s (+%s)", p.Phase, p.Events, p.Elapsed, time.Since(last))
			last = time.Now()
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.Events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
