package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/reso-fr/reso/eventstore"
)

// An Exactly append skips the existence check only for a version the store
// saw committed; another process moving the stream on is still refused by
// the unique index, and a version the stream has not reached by the check.
func TestKnownVersionsSkipOnlyReachedVersions(t *testing.T) {
	t.Parallel()
	a, dsn := mustStore(t)
	b := mustOpen(t, dsn) // another process, for all a knows
	ctx := context.Background()

	mustAppend(t, a, "s", eventstore.NoStream, mustEvent(t, "a", 1), mustEvent(t, "a", 2))
	if !a.known.reached("s", 2) || a.known.reached("s", 3) {
		t.Fatalf("after appending versions 1..2, reached(2) = %v, reached(3) = %v; want true, false",
			a.known.reached("s", 2), a.known.reached("s", 3))
	}
	mustAppend(t, b, "s", eventstore.Exactly(2), mustEvent(t, "b", 3), mustEvent(t, "b", 4))

	wantConflict := func(name string, expected eventstore.ExpectedVersion, events ...eventstore.NewEvent) {
		t.Helper()
		_, err := a.Append(ctx, "s", expected, events...)
		var ce *eventstore.ConcurrencyError
		if !errors.As(err, &ce) || ce.Actual != 4 {
			t.Errorf("%s: err = %v, want a ConcurrencyError with actual version 4", name, err)
		}
	}
	// Known reached: no check, the unique index refuses version 3.
	wantConflict("stale known version, one event", eventstore.Exactly(2), mustEvent(t, "a", 3))
	wantConflict("stale known version, two events", eventstore.Exactly(2), mustEvent(t, "a", 3), mustEvent(t, "a", 4))
	// Not reached as far as a knows, and not in fact: the check refuses.
	wantConflict("version past the end", eventstore.Exactly(6), mustEvent(t, "a", 7))

	// Reached in fact, not known to a: checked, and appended.
	e5, e6 := mustEvent(t, "a", 5), mustEvent(t, "a", 6)
	res := mustAppend(t, a, "s", eventstore.Exactly(4), e5, e6)
	if res.FirstVersion != 5 || res.LastVersion != 6 {
		t.Fatalf("append at 4: versions %d..%d, want 5..6", res.FirstVersion, res.LastVersion)
	}
	// A retry now skips the check (6 is known) and is still recognised.
	if again := mustAppend(t, a, "s", eventstore.Exactly(4), e5, e6); again != res {
		t.Errorf("retry: %+v, want the original %+v", again, res)
	}
	if again := mustAppend(t, a, "s", eventstore.Exactly(4), e5, e6); again != res {
		t.Errorf("second retry: %+v, want the original %+v", again, res)
	}

	// Reading a stream makes its version known.
	mustAppend(t, b, "r", eventstore.NoStream, mustEvent(t, "b", 1))
	if a.known.reached("r", 1) {
		t.Fatal("r known before a read it")
	}
	if _, err := a.ReadStream(ctx, "r", 1, 0); err != nil {
		t.Fatal(err)
	}
	if !a.known.reached("r", 1) {
		t.Error("r not known after a read it")
	}
	mustAppend(t, a, "r", eventstore.Exactly(1), mustEvent(t, "a", 2))

	events, err := a.ReadStream(ctx, "s", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		if e.Version != int64(i+1) {
			t.Fatalf("stream s: event %d has version %d", i, e.Version)
		}
	}
	if len(events) != 6 {
		t.Errorf("stream s holds %d events, want 6", len(events))
	}
}

func TestKnownVersionsBounded(t *testing.T) {
	t.Parallel()
	var k knownVersions
	for i := range maxKnownStreams + 10 {
		k.record(fmt.Sprintf("s-%d", i), 1)
	}
	if n := len(k.m); n > maxKnownStreams {
		t.Errorf("holds %d streams, want at most %d", n, maxKnownStreams)
	}
	k.record("x", 5)
	k.record("x", 3) // an older sighting does not lower it
	if !k.reached("x", 5) || k.reached("x", 6) {
		t.Errorf("reached(x, 5) = %v, reached(x, 6) = %v; want true, false", k.reached("x", 5), k.reached("x", 6))
	}
}
