package projections_test

import (
	"slices"
	"testing"

	"github.com/reso-fr/reso/projections"
)

func TestTables(t *testing.T) {
	t.Parallel()
	b := mustSQLite(t)
	if got := mustEngine(t, b, projections.Options{}).Tables(); !slices.Equal(got, readModelTables) {
		t.Errorf("Tables() = %v, want %v", got, readModelTables)
	}
	got := mustEngine(t, b, projections.Options{Projections: []string{projections.Needs}}).Tables()
	if !slices.Equal(got, []string{"needs", "matches"}) {
		t.Errorf("Tables() of the needs projection = %v", got)
	}
}
