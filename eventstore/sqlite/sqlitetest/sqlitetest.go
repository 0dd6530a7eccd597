// Package sqlitetest checks, for tests, that writers of an embedded
// database take their turns through its handle (eventstore/sqlite.DB).
package sqlitetest

import (
	"testing"
	"time"

	"github.com/reso-fr/reso/eventstore/sqlite"
)

// heldFor is how long the writers are held before the check that none of
// them wrote: long enough for one that bypasses the handle to have written
// many times over.
const heldFor = 300 * time.Millisecond

// MustTakeTurns starts every write of writes while db holds its writers
// (sqlite.DB.HoldWrites), fails the test if one of them returns before
// they are let go, then lets them go and fails unless each succeeds.
func MustTakeTurns(t testing.TB, db *sqlite.DB, writes map[string]func() error) {
	t.Helper()
	release := db.HoldWrites()
	type result struct {
		name string
		err  error
	}
	done := make(chan result, len(writes))
	for name, w := range writes {
		go func() { done <- result{name, w()} }()
	}
	select {
	case r := <-done:
		release()
		t.Fatalf("%s wrote while the writers were held (err %v)", r.name, r.err)
	case <-time.After(heldFor):
	}
	release()
	for range writes {
		select {
		case r := <-done:
			if r.err != nil {
				t.Fatalf("%s: %v", r.name, r.err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a write never finished after the writers were let go")
		}
	}
}
