// Package testwait is how tests wait for something another goroutine or
// process does: MustEventually polls an observable condition until a
// deadline, and Scale widens deadlines when the race detector slows
// everything down. Tests use it instead of sleeping: a sleep either
// waits too long or, on a loaded machine, not long enough.
package testwait

import (
	"testing"
	"time"
)

// Interval is how often MustEventually checks its condition: short enough
// not to slow tests down, long enough not to load the machine.
const Interval = 10 * time.Millisecond

// Scale returns d widened for the build: the race detector makes code
// several times slower, more so on a machine shared with other tests.
func Scale(d time.Duration) time.Duration {
	return d * raceFactor
}

// MustEventually calls check until it returns nil, and fails t when it
// still returns an error after timeout (scaled by Scale), reporting that
// last error: check's error says what is not there yet. check runs on
// the test's goroutine, so it may call t.Fatal for an error that waiting
// cannot cure.
func MustEventually(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	if err := Eventually(Scale(timeout), check); err != nil {
		t.Fatalf("not within %s: %v", Scale(timeout), err)
	}
}

// Eventually is MustEventually for code without a testing.TB (fixtures
// shared by several tests): it returns check's last error after timeout,
// which it does not scale, or nil as soon as check returns nil.
func Eventually(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(Interval) // the poll's interval, not a synchronisation
	}
}
