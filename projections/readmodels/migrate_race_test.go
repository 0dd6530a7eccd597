package readmodels_test

import (
	"context"
	"sync"
	"testing"

	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
)

// Replicas starting together on a fresh PostgreSQL schema each migrate the
// read models: none may fail on the catalog (CREATE … IF NOT EXISTS is not
// safe against a concurrent creation of the same name; the DDL lock makes
// them take turns).
func TestReplicasMigrateTogether(t *testing.T) {
	t.Parallel()
	b := pt.MustPostgres(t)
	const replicas = 6
	engines := make([]*readmodels.Engine, replicas)
	for i := range engines {
		e, err := readmodels.New(b.Handle, b.Store, pt.FastOptions(readmodels.Options{}))
		if err != nil {
			t.Fatal(err)
		}
		engines[i] = e
	}
	start := make(chan struct{})
	errs := make(chan error, replicas)
	var wg sync.WaitGroup
	for _, e := range engines {
		wg.Go(func() {
			<-start
			errs <- e.Migrate(context.Background())
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("migrate: %v", err)
		}
	}
}
