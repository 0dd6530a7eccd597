package projections_test

import (
	"context"
	"errors"
	"testing"

	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/projections"
	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
)

// StartRebuild claims the engine before it returns: the projection reads
// as rebuilding at once, and any other rebuild is refused until it ends,
// so that the API can answer 409 instead of accepting a rebuild that would
// fail in the background.
func TestStartRebuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := pt.MustSQLite(t)
	pt.MustSimulate(t, b.Store, simulate.Options{Seed: 4, Months: 2, NeedsPerMonth: 30, Writers: 2})
	e := pt.MustEngine(t, b, readmodels.Options{})
	if _, err := e.StartRebuild(ctx, "nope", nil); !errors.Is(err, projections.ErrUnknownProjection) {
		t.Fatalf("unknown projection: %v", err)
	}
	done, err := e.StartRebuild(ctx, "needs", nil)
	if err != nil {
		t.Fatal(err)
	}
	sts, err := e.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts {
		if s.Name == "needs" && s.State != projections.StateRebuilding {
			t.Errorf("needs is %q while it rebuilds", s.State)
		}
	}
	if _, err := e.StartRebuild(ctx, "stats", nil); !errors.Is(err, projections.ErrRebuildRunning) {
		t.Errorf("second rebuild: %v, want ErrRebuildRunning", err)
	}
	if err := e.RebuildAll(ctx, nil); !errors.Is(err, projections.ErrRebuildRunning) {
		t.Errorf("RebuildAll during a rebuild: %v, want ErrRebuildRunning", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sts, err = e.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts {
		if s.State == projections.StateRebuilding {
			t.Errorf("%s still rebuilding after the rebuild", s.Name)
		}
	}
	done, err = e.StartRebuild(ctx, "stats", nil)
	if err != nil {
		t.Fatalf("a rebuild after the first: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
