package bench

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/testwait"
)

// TestRunStatsSmoke seeds a few needs on each store, rebuilds, and runs
// every statistics query: each answers rows, without error.
func TestRunStatsSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a database")
	}
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			dsn := ""
			if store == "postgres" {
				// The bench makes its own bench_ schema on the server of that URL.
				dsn = pgtest.MustSchema(t)
			}
			// Long enough, on a loaded machine too, for every query to
			// answer once within the run: speed is measured, not asserted.
			rep, err := RunStats(context.Background(), StatsConfig{Store: store, DSN: dsn, Needs: 300, Clients: 2,
				Duration: testwait.Scale(time.Second), Progress: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Events < 300 || rep.Overall.Count == 0 || rep.Errors != 0 || len(rep.Queries) != len(benchStatsQueries) {
				t.Fatalf("report %+v", rep)
			}
			for _, q := range rep.Queries {
				if q.Rows == 0 {
					t.Errorf("query %s answered no row", q.Query)
				}
			}
		})
	}
}
