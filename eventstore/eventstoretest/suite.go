// Package eventstoretest is the conformance suite every event-store adapter
// passes: call Run from the adapter's tests with a factory of fresh stores.
package eventstoretest

import (
	"errors"
	"testing"
	"time"

	"github.com/reso-fr/reso/eventstore"
)

// NewStore returns a fresh, empty store for one test, and a reopen function
// that opens a new handle on the same storage (nil when the adapter keeps
// nothing, like memory). The suite closes every store it gets.
type NewStore func(t *testing.T) (s eventstore.Store, reopen func() (eventstore.Store, error))

// DelayInjector is implemented by adapters that can make an append slow
// inside its write transaction: after inserting the events, before the
// commit, the adapter sleeps for what the function returns. The gap test
// uses it to make commits finish out of order; adapters without it still
// run the test, with whatever interleaving happens naturally.
type DelayInjector interface {
	SetAppendDelay(func() time.Duration)
}

// Run runs every case of the contract, each in a subtest with a fresh store.
// Loads shrink under testing.Short().
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			if c.parallel {
				t.Parallel()
			}
			c.run(t, newStore)
		})
	}
}

type testCase struct {
	name     string
	parallel bool
	run      func(t *testing.T, newStore NewStore)
}

func cases() []testCase {
	var all []testCase
	all = append(all, appendCases()...)
	all = append(all, readCases()...)
	all = append(all, concurrencyCases()...)
	all = append(all, subscribeCases()...)
	all = append(all, lifecycleCases()...)
	return all
}

// mustStore gets a fresh store from the factory and closes it at cleanup.
func mustStore(t *testing.T, newStore NewStore) (eventstore.Store, func() (eventstore.Store, error)) {
	t.Helper()
	s, reopen := newStore(t)
	if s == nil {
		t.Fatal("factory returned a nil store")
	}
	mustCloseAtCleanup(t, s)
	return s, reopen
}

// mustCloseAtCleanup closes s when the test ends; a store a case closed
// itself answers ErrClosed, which is fine.
func mustCloseAtCleanup(t *testing.T, s eventstore.Store) {
	t.Helper()
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("close store: %v", err)
		}
	})
}

// PerStreamEventIDs is implemented by an adapter whose server keeps event ids
// unique within a stream only (KurrentDB deduplicates a retry by stream and
// expected version, and stores an id reused elsewhere as a new event). For
// such an adapter the suite does not require ErrDuplicateEvent when an id is
// reused in another stream or at another version; every other idempotency
// case still applies. The difference is documented in docs/eventstore.md.
type PerStreamEventIDs interface {
	EventIDsUniquePerStreamOnly() bool
}
