package app_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/reso-fr/reso/internal/app"
)

// TestConcurrentCommands: 32 writers command one need at once; every
// command lands, none is lost to a concurrency conflict.
func TestConcurrentCommands(t *testing.T) {
	t.Parallel()
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := mustFixture(t, kind)
			id := f.mustNeed(t, lille, f.refA, f.refB)
			const writers = 32
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p := []app.Principal{f.advisor, f.referentA, f.referentB, f.animNord}[i%4]
					_, err := f.svc.Comment(ctx, p, id, fmt.Sprintf("comment %d", i), app.CommandMeta{})
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			h, err := f.svc.History(ctx, f.admin, id)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, e := range h {
				if e.Type == "CommentAdded" {
					seen[string(e.Data)] = true
				}
			}
			// Not asserted (timing decides), but shows the retry path ran.
			t.Logf("%s: %v appends refused and decided again", kind, conflicts(t, f.svc))
			if len(h) != 2+writers || len(seen) != writers {
				t.Errorf("history has %d events, %d distinct comments; want %d and %d", len(h), len(seen), 2+writers, writers)
			}
		})
	}
}

// conflicts reads the service's conflict counter.
func conflicts(t *testing.T, svc *app.Service) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	svc.Collectors()[1].Collect(ch)
	var m dto.Metric
	if err := (<-ch).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
