package eventstoretest

import (
	"errors"
	"testing"

	"github.com/reso-fr/reso/eventstore"
)

func lifecycleCases() []testCase {
	return []testCase{
		{"CloseStore", true, testCloseStore},
		{"Reopen", true, testReopen},
	}
}

func testCloseStore(t *testing.T, newStore NewStore) {
	s, _ := mustStore(t, newStore)
	ctx := mustContext(t)
	seed(t, ctx, s, "x", 3)
	sub, err := s.Subscribe(ctx, eventstore.Start)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Close()
	if evs, err := sub.Next(ctx, 10); err != nil || len(evs) != 3 {
		t.Fatalf("catch up: %d events, %v", len(evs), err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Append", func() error {
			_, err := s.Append(ctx, "x-0", eventstore.AnyVersion, newEvents(t, "t", "late", 1)...)
			return err
		}},
		{"ReadStream", func() error { _, err := s.ReadStream(ctx, "x-0", 1, 0); return err }},
		{"ReadAll", func() error { _, err := s.ReadAll(ctx, eventstore.Start, 10); return err }},
		{"Head", func() error { _, err := s.Head(ctx); return err }},
		{"Subscribe", func() error { _, err := s.Subscribe(ctx, eventstore.Start); return err }},
		{"Next on an open subscription", func() error { _, err := sub.Next(ctx, 10); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", c.name, err)
		}
	}
}

func testReopen(t *testing.T, newStore NewStore) {
	s, reopen := mustStore(t, newStore)
	if reopen == nil {
		t.Skip("the adapter keeps nothing after Close")
	}
	ctx := mustContext(t)
	seed(t, ctx, s, "r", 25)
	before := mustReadAllFrom(t, ctx, s, eventstore.Start, 100)
	if len(before) != 25 {
		t.Fatalf("log has %d events before reopening, want 25", len(before))
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	s2, err := reopen()
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	mustCloseAtCleanup(t, s2)
	after := mustReadAllFrom(t, ctx, s2, eventstore.Start, 100)
	checkSameOrder(t, "after reopen", after, before)
	for i := range after {
		a, b := after[i], before[i]
		if a.StreamID != b.StreamID || a.Version != b.Version || a.Type != b.Type ||
			a.SchemaVersion != b.SchemaVersion || a.Metadata != b.Metadata ||
			!a.RecordedAt.Equal(b.RecordedAt) || !sameJSON(t, a.Data, b.Data) {
			t.Fatalf("event %d changed across reopen:\n%+v\n%+v", i, a, b)
		}
	}
	head, err := s2.Head(ctx)
	if err != nil || head != before[len(before)-1].Position {
		t.Fatalf("head after reopen %s, %v; want %s", head, err, before[len(before)-1].Position)
	}
	// Versions and positions go on from where they were.
	res := mustAppend(t, ctx, s2, "r-2", eventstore.Exactly(5), newEvents(t, "t", "more", 1)...)
	if res.FirstVersion != 6 || !head.Less(res.Position) {
		t.Fatalf("append after reopen: %+v, want version 6 after %s", res, head)
	}
}
