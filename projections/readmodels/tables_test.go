package readmodels_test

import (
	"slices"
	"testing"

	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
)

// TestTables: the engine names the live tables of the read models it runs,
// in their order (what reso verify compares with a rebuild).
func TestTables(t *testing.T) {
	t.Parallel()
	b := pt.MustSQLite(t)
	all := pt.MustEngine(t, b, readmodels.Options{}).Tables()
	for _, want := range []string{"dir_referents", "needs", "matches", "stats_cells", "stats_needs"} {
		if !slices.Contains(all, want) {
			t.Errorf("Tables() = %v, missing %s", all, want)
		}
	}
	got := pt.MustEngine(t, b, readmodels.Options{Projections: []string{readmodels.Needs}}).Tables()
	if !slices.Equal(got, []string{"needs", "matches"}) {
		t.Errorf("Tables() of the needs read model = %v", got)
	}
}
