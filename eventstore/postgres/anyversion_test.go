package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/reso-fr/reso/eventstore"
)

// TestAnyVersionNeverConflicts has many writers append to one stream with
// AnyVersion, each append held open a moment inside its transaction, so
// that most attempts lose their version to another writer and try again,
// many times in a row. AnyVersion promises no expectation: every append
// must succeed, however often it lost its slot.
func TestAnyVersionNeverConflicts(t *testing.T) {
	t.Parallel()
	s, _ := mustStore(t)
	s.SetAppendDelay(func() time.Duration { return 2 * time.Millisecond })
	const writers, appends = 24, 6
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range appends {
				if _, err := s.Append(context.Background(), "any", eventstore.AnyVersion, mustEvent(t, "any", w*appends+i)); err != nil {
					errs <- fmt.Errorf("writer %d, append %d: %w", w, i, err)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(mustReadAll(t, s)); got != writers*appends && !t.Failed() {
		t.Fatalf("%d events in the log, want %d", got, writers*appends)
	}
}
