package eventstoretest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/eventstore"
)

func concurrencyCases() []testCase {
	return []testCase{
		{"OptimisticConcurrency", true, testOptimisticConcurrency},
		{"GapFreeOrder", false, testGapFreeOrder},
	}
}

// testOptimisticConcurrency has 32 goroutines append to one stream with the
// version they last read, until each has written k events.
func testOptimisticConcurrency(t *testing.T, newStore NewStore) {
	s, _ := mustStore(t, newStore)
	ctx := mustContext(t)
	const writers = 32
	k := 4
	if testing.Short() {
		k = 2
	}
	var (
		mu        sync.Mutex
		written   = map[uuid.UUID]int64{} // id -> version its append reported
		conflicts int
	)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	start := make(chan struct{}) // all writers start together
	for w := range writers {
		wg.Go(func() {
			<-start
			known := int64(0)
			for done := 0; done < k; {
				evs, err := s.ReadStream(ctx, "contended", known+1, 0)
				if err != nil && !errors.Is(err, eventstore.ErrNotFound) {
					errs <- fmt.Errorf("writer %d: read: %w", w, err)
					return
				}
				if len(evs) > 0 {
					known = evs[len(evs)-1].Version
				}
				// Let the others read the same version: a fast store on
				// two cores would otherwise run the writers one by one.
				runtime.Gosched()
				ev := newEvents(t, "t", fmt.Sprintf("w%d", w), 1)
				res, err := s.Append(ctx, "contended", eventstore.Exactly(known), ev...)
				if err != nil {
					var ce *eventstore.ConcurrencyError
					if !errors.As(err, &ce) || !errors.Is(err, eventstore.ErrConcurrency) {
						errs <- fmt.Errorf("writer %d: append at %d: %v, want a concurrency error", w, known, err)
						return
					}
					if ce.Actual <= known {
						errs <- fmt.Errorf("writer %d: conflict at %d reports actual version %d", w, known, ce.Actual)
						return
					}
					mu.Lock()
					conflicts++
					mu.Unlock()
					continue
				}
				if res.FirstVersion != known+1 {
					errs <- fmt.Errorf("writer %d: expected %d but wrote at %d", w, known, res.FirstVersion)
					return
				}
				known = res.LastVersion
				done++
				mu.Lock()
				written[ev[0].ID] = res.FirstVersion
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	if conflicts == 0 {
		t.Fatalf("%d writers never conflicted: the case did not test concurrency", writers)
	}
	got := mustReadStream(t, ctx, s, "contended", 1, 0)
	if len(got) != writers*k {
		t.Fatalf("stream has %d events, want %d", len(got), writers*k)
	}
	for i, e := range got {
		if e.Version != int64(i+1) {
			t.Fatalf("event %d has version %d", i, e.Version)
		}
		v, ok := written[e.ID]
		if !ok {
			t.Fatalf("event %s at version %d was not written by a successful append", e.ID, e.Version)
		}
		if v != e.Version {
			t.Fatalf("event %s stored at %d, its append reported %d", e.ID, e.Version, v)
		}
		delete(written, e.ID)
	}
	t.Logf("%d writers x %d events: %d conflicts", writers, k, conflicts)
}

// testGapFreeOrder has 16 writers append to many streams, each append slowed
// inside its transaction when the adapter allows it, so that commits finish
// out of order, while a subscriber follows the log. Once the writers stop,
// the subscriber must have seen every committed event exactly once, in
// strictly increasing positions, and a late subscriber the same order.
func testGapFreeOrder(t *testing.T, newStore NewStore) {
	s, _ := mustStore(t, newStore)
	ctx := mustContext(t)
	const writers = 16
	appends, maxDelay := 25, 4*time.Millisecond
	if testing.Short() {
		appends, maxDelay = 8, 2*time.Millisecond
	}
	if d, ok := s.(DelayInjector); ok {
		d.SetAppendDelay(func() time.Duration { return rand.N(maxDelay + 1) })
		defer d.SetAppendDelay(nil)
	} else {
		t.Logf("%T does not implement DelayInjector: commits interleave naturally", s)
	}

	live := startCollector(t, ctx, s, eventstore.Start)

	var (
		mu        sync.Mutex
		committed = map[uuid.UUID]bool{}
	)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range appends {
				stream := fmt.Sprintf("gap-%d", rand.N(40))
				evs := newEvents(t, "t", fmt.Sprintf("w%d-%d", w, i), 1+rand.N(3))
				if _, err := s.Append(ctx, stream, eventstore.AnyVersion, evs...); err != nil {
					errs <- fmt.Errorf("writer %d append %d: %w", w, i, err)
					return
				}
				mu.Lock()
				for _, e := range evs {
					committed[e.ID] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	seen := live.waitFor(t, len(committed))
	checkExactlyOnce(t, "live subscriber", seen, committed)

	late := startCollector(t, ctx, s, eventstore.Start)
	again := late.waitFor(t, len(committed))
	checkSameOrder(t, "late subscriber", again, seen)
	checkSameOrder(t, "ReadAll", mustReadAllFrom(t, ctx, s, eventstore.Start, 500), seen)

	// A reader resuming from a checkpoint taken mid-log gets exactly the rest.
	mid := len(seen) / 2
	resumed := startCollector(t, ctx, s, seen[mid].Position)
	checkSameOrder(t, "subscriber resumed mid-log", resumed.waitFor(t, len(seen)-mid-1), seen[mid+1:])
	t.Logf("%d events in %d appends by %d writers", len(committed), writers*appends, writers)
}

// checkExactlyOnce checks evs holds each committed id once, in strictly
// increasing positions, and each stream's events in version order.
func checkExactlyOnce(t *testing.T, who string, evs []eventstore.Event, committed map[uuid.UUID]bool) {
	t.Helper()
	seen := make(map[uuid.UUID]bool, len(evs))
	versions := map[string]int64{}
	for i, e := range evs {
		if seen[e.ID] {
			t.Fatalf("%s: event %s delivered twice (index %d)", who, e.ID, i)
		}
		seen[e.ID] = true
		if !committed[e.ID] {
			t.Fatalf("%s: event %s was never committed", who, e.ID)
		}
		if e.Version != versions[e.StreamID]+1 {
			t.Fatalf("%s: %s@%d follows version %d", who, e.StreamID, e.Version, versions[e.StreamID])
		}
		versions[e.StreamID] = e.Version
	}
	if len(seen) != len(committed) {
		t.Fatalf("%s: saw %d events, %d were committed", who, len(seen), len(committed))
	}
	checkStrictOrder(t, who, evs)
}

func checkSameOrder(t *testing.T, who string, got, want []eventstore.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", who, len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Position != want[i].Position {
			t.Fatalf("%s: event %d is %s at %s, want %s at %s", who, i, got[i].ID, got[i].Position, want[i].ID, want[i].Position)
		}
	}
}
