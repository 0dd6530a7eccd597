package kurrentdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/eventstoretest"
)

// serverURL returns RESO_KURRENTDB_URL, or skips: KurrentDB cannot run on
// every machine (it needs Docker or its own package), and the tests do not
// fake one.
func serverURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("RESO_KURRENTDB_URL")
	if url == "" {
		tb.Skip("RESO_KURRENTDB_URL is not set: this test needs a KurrentDB server " +
			"(e.g. kurrentdb://127.0.0.1:2113?tls=false from deploy/compose.yaml); no server is faked")
	}
	return url
}

// mustNamespace returns a stream-name prefix no other test uses: every test
// shares the server's $all, and the server keeps streams across runs.
func mustNamespace(tb testing.TB) string {
	tb.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		tb.Fatalf("namespace id: %v", err)
	}
	return fmt.Sprintf("t%x-", id[:])
}

func mustOpen(tb testing.TB, url, namespace string) *Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, url, WithNamespace(namespace))
	if err != nil {
		tb.Fatalf("open %s: %v", url, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	url := serverURL(t)
	eventstoretest.Run(t, func(t *testing.T) (eventstore.Store, func() (eventstore.Store, error)) {
		ns := mustNamespace(t)
		s := mustOpen(t, url, ns)
		reopen := func() (eventstore.Store, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return Open(ctx, url, WithNamespace(ns))
		}
		return s, reopen
	})
}

// TestServerMapping checks against a real server what the unit tests check
// on pure functions: versions, positions and metadata as KurrentDB stores
// them, and what it does with a retry.
func TestServerMapping(t *testing.T) {
	t.Parallel()
	url := serverURL(t)
	ns := mustNamespace(t)
	s := mustOpen(t, url, ns)
	t.Cleanup(func() { _ = s.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	ev := eventstore.NewEvent{
		ID: mustUUID(t), Type: "need.captured", SchemaVersion: 3,
		Data:     json.RawMessage(`{"siret":"73282932000074"}`),
		Metadata: eventstore.Metadata{ActorID: "advisor-1", ActorRole: "advisor", CorrelationID: "c-1"},
	}
	res, err := s.Append(ctx, "need-1", eventstore.NoStream, ev)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	if res.FirstVersion != 1 || res.LastVersion != 1 || res.Position.IsZero() {
		t.Fatalf("append result %+v", res)
	}

	t.Run("retry returns the original result", func(t *testing.T) {
		for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.AnyVersion} {
			again, err := s.Append(ctx, "need-1", exp, ev)
			if err != nil || again != res {
				t.Errorf("retry with %d: %+v, %v; want %+v", exp, again, err, res)
			}
		}
	})
	t.Run("retry with other content", func(t *testing.T) {
		changed := ev
		changed.Data = json.RawMessage(`{"siret":"00000000000000"}`)
		if _, err := s.Append(ctx, "need-1", eventstore.NoStream, changed); !errors.Is(err, eventstore.ErrDuplicateEvent) {
			t.Errorf("retry with other data: %v, want ErrDuplicateEvent", err)
		}
	})
	t.Run("stored id followed by a new one", func(t *testing.T) {
		for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.AnyVersion} {
			mixed := []eventstore.NewEvent{ev, {ID: mustUUID(t), Type: "t", Data: []byte(`{}`)}}
			if _, err := s.Append(ctx, "need-1", exp, mixed...); !errors.Is(err, eventstore.ErrDuplicateEvent) {
				t.Errorf("expected %d: %v, want ErrDuplicateEvent", exp, err)
			}
		}
	})
	t.Run("wrong version", func(t *testing.T) {
		_, err := s.Append(ctx, "need-1", eventstore.Exactly(5), eventstore.NewEvent{Type: "t", Data: []byte(`{}`)})
		var ce *eventstore.ConcurrencyError
		if !errors.As(err, &ce) || ce.Actual != 1 || ce.Expected != 5 || ce.Stream != "need-1" {
			t.Errorf("error %v, want a concurrency error with actual 1", err)
		}
		_, err = s.Append(ctx, "need-none", eventstore.Exactly(1), eventstore.NewEvent{Type: "t", Data: []byte(`{}`)})
		if !errors.As(err, &ce) || ce.Actual != 0 {
			t.Errorf("error %v, want a concurrency error with actual 0", err)
		}
	})
	t.Run("stored event", func(t *testing.T) {
		got, err := s.ReadStream(ctx, "need-1", 1, 0)
		if err != nil || len(got) != 1 {
			t.Fatalf("read: %d events, %v", len(got), err)
		}
		e := got[0]
		if e.ID != ev.ID || e.StreamID != "need-1" || e.Version != 1 || e.Position != res.Position ||
			e.SchemaVersion != 3 || e.Metadata != ev.Metadata || e.Type != ev.Type {
			t.Errorf("stored %+v", e)
		}
		all, err := s.ReadAll(ctx, eventstore.Start, 0)
		if err != nil || len(all) != 1 || all[0].ID != ev.ID {
			t.Errorf("read all in the namespace: %d events, %v", len(all), err)
		}
		head, err := s.Head(ctx)
		if err != nil || head != res.Position {
			t.Errorf("head %s, %v; want %s", head, err, res.Position)
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	url := serverURL(b)
	s := mustOpen(b, url, mustNamespace(b))
	defer func() { _ = s.Close() }()
	ctx := context.Background()
	data := json.RawMessage(`{"siret":"73282932000074","subject":"recrutement","commune":"75056"}`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ev := eventstore.NewEvent{Type: "need.captured", SchemaVersion: 1, Data: data}
		if _, err := s.Append(ctx, fmt.Sprintf("need-%d", i), eventstore.NoStream, ev); err != nil {
			b.Fatalf("append: %v", err)
		}
	}
}

func BenchmarkAppendUnchecked(b *testing.B) {
	url := serverURL(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	s, err := Open(ctx, url, WithNamespace(mustNamespace(b)), WithoutAppendCheck())
	cancel()
	if err != nil {
		b.Fatalf("open: %v", err)
	}
	defer func() { _ = s.Close() }()
	data := json.RawMessage(`{"siret":"73282932000074","subject":"recrutement","commune":"75056"}`)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev := eventstore.NewEvent{Type: "need.captured", SchemaVersion: 1, Data: data}
		if _, err := s.Append(context.Background(), fmt.Sprintf("need-%d", i), eventstore.NoStream, ev); err != nil {
			b.Fatalf("append: %v", err)
		}
	}
}

func BenchmarkReadAll(b *testing.B) {
	url := serverURL(b)
	s := mustOpen(b, url, "")
	defer func() { _ = s.Close() }()
	ctx := context.Background()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		evs, err := s.ReadAll(ctx, eventstore.Start, 1000)
		if err != nil {
			b.Fatalf("read all: %v", err)
		}
		n += len(evs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
