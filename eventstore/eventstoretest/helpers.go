package eventstoretest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/eventstore"
)

// testTimeout bounds every blocking call of a case so that a broken adapter
// fails the case instead of hanging the whole run.
const testTimeout = 30 * time.Second

func mustContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func mustID(t testing.TB) uuid.UUID {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatalf("new event id: %v", err)
	}
	return id
}

// newEvents makes n events of typ with fresh ids and data {"n": i, "tag": tag}.
func newEvents(t testing.TB, typ, tag string, n int) []eventstore.NewEvent {
	t.Helper()
	out := make([]eventstore.NewEvent, n)
	for i := range out {
		out[i] = eventstore.NewEvent{
			ID:            mustID(t),
			Type:          typ,
			SchemaVersion: 1,
			Data:          json.RawMessage(fmt.Sprintf(`{"n": %d, "tag": %q}`, i, tag)),
		}
	}
	return out
}

func mustAppend(t testing.TB, ctx context.Context, s eventstore.Store, stream string, exp eventstore.ExpectedVersion, events ...eventstore.NewEvent) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(ctx, stream, exp, events...)
	if err != nil {
		t.Fatalf("append %d events to %s (expected %d): %v", len(events), stream, exp, err)
	}
	return res
}

func mustReadStream(t testing.TB, ctx context.Context, s eventstore.Store, stream string, from int64, limit int) []eventstore.Event {
	t.Helper()
	evs, err := s.ReadStream(ctx, stream, from, limit)
	if err != nil {
		t.Fatalf("read stream %s from %d limit %d: %v", stream, from, limit, err)
	}
	return evs
}

// mustReadAllFrom reads the whole log after pos in pages of page events.
func mustReadAllFrom(t testing.TB, ctx context.Context, s eventstore.Store, after eventstore.Position, page int) []eventstore.Event {
	t.Helper()
	var out []eventstore.Event
	for {
		evs, err := s.ReadAll(ctx, after, page)
		if err != nil {
			t.Fatalf("read all after %s: %v", after, err)
		}
		if len(evs) > page {
			t.Fatalf("read all after %s with limit %d returned %d events", after, page, len(evs))
		}
		out = append(out, evs...)
		if len(evs) < page {
			return out
		}
		after = evs[len(evs)-1].Position
	}
}

// checkStrictOrder fails when positions do not strictly increase.
func checkStrictOrder(t testing.TB, what string, evs []eventstore.Event) {
	t.Helper()
	for i := 1; i < len(evs); i++ {
		if !evs[i-1].Position.Less(evs[i].Position) {
			t.Fatalf("%s: position %s at index %d is not after %s", what, evs[i].Position, i, evs[i-1].Position)
		}
	}
}

// sameJSON compares two JSON documents by value: a backend may store JSON
// in a normalised form (PostgreSQL jsonb reorders keys and spaces).
func sameJSON(t testing.TB, got, want json.RawMessage) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("stored data is not JSON: %v: %q", err, got)
		return false
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("test data is not JSON: %v", err)
	}
	return reflect.DeepEqual(g, w)
}

// checkEvent compares a stored event with what was appended.
func checkEvent(t testing.TB, got eventstore.Event, stream string, version int64, want eventstore.NewEvent) {
	t.Helper()
	if got.StreamID != stream || got.Version != version {
		t.Errorf("event at %s@%d: got %s@%d", stream, version, got.StreamID, got.Version)
	}
	if want.ID != uuid.Nil && got.ID != want.ID {
		t.Errorf("%s@%d: id %s, want %s", stream, version, got.ID, want.ID)
	}
	if got.Type != want.Type {
		t.Errorf("%s@%d: type %q, want %q", stream, version, got.Type, want.Type)
	}
	if got.SchemaVersion != want.SchemaVersion {
		t.Errorf("%s@%d: schema version %d, want %d", stream, version, got.SchemaVersion, want.SchemaVersion)
	}
	if !sameJSON(t, got.Data, want.Data) {
		t.Errorf("%s@%d: data %s, want %s", stream, version, got.Data, want.Data)
	}
	if got.Metadata != want.Metadata {
		t.Errorf("%s@%d: metadata %+v, want %+v", stream, version, got.Metadata, want.Metadata)
	}
	if got.Position.IsZero() {
		t.Errorf("%s@%d: zero global position", stream, version)
	}
}

// isConcurrency checks err is a *ConcurrencyError matching ErrConcurrency.
func isConcurrency(t testing.TB, err error) *eventstore.ConcurrencyError {
	t.Helper()
	if !errors.Is(err, eventstore.ErrConcurrency) {
		t.Fatalf("error %v: want ErrConcurrency", err)
	}
	var ce *eventstore.ConcurrencyError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T): want a *eventstore.ConcurrencyError", err, err)
	}
	return ce
}
