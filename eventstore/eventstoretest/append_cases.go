package eventstoretest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/eventstore"
)

func appendCases() []testCase {
	return []testCase{
		{"AppendAndRead", true, testAppendAndRead},
		{"ExpectedVersion", true, testExpectedVersion},
		{"AtomicMultiEvent", true, testAtomicMultiEvent},
		{"IdempotentRetry", true, testIdempotentRetry},
		{"BadInput", true, testBadInput},
		{"AssignsMissingID", true, testAssignsMissingID},
		{"MetadataRoundTrip", true, testMetadataRoundTrip},
	}
}

func testAppendAndRead(t *testing.T, newStore NewStore) {
	s, _ := mustStore(t, newStore)
	ctx := mustContext(t)
	evs := newEvents(t, "need.captured", "a", 3)
	before := time.Now()
	res := mustAppend(t, ctx, s, "need-a", eventstore.NoStream, evs...)
	after := time.Now()
	if res.StreamID != "need-a" || res.FirstVersion != 1 || res.LastVersion != 3 {
		t.Fatalf("append result %+v: want need-a versions 1..3", res)
	}
	got := mustReadStream(t, ctx, s, "need-a", 1, 0)
	if len(got) != 3 {
		t.Fatalf("read %d events, want 3", len(got))
	}
	for i, e := range got {
		checkEvent(t, e, "need-a", int64(i+1), evs[i])
		if e.RecordedAt.Location() != time.UTC {
			t.Errorf("event %d recorded at %v: location %v, want UTC", i, e.RecordedAt, e.RecordedAt.Location())
		}
		// The store's clock may round; one second either side is generous.
		if e.RecordedAt.Before(before.Add(-time.Second)) || e.RecordedAt.After(after.Add(time.Second)) {
			t.Errorf("event %d recorded at %v, outside the append's window [%v, %v]", i, e.RecordedAt, before, after)
		}
	}
	if got[2].Position != res.Position {
		t.Errorf("result position %s, want the last event's %s", res.Position, got[2].Position)
	}
	checkStrictOrder(t, "stream", got)
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	if head != res.Position {
		t.Errorf("head %s, want %s", head, res.Position)
	}
}

func testExpectedVersion(t *testing.T, newStore NewStore) {
	s, _ := mustStore(t, newStore)
	ctx := mustContext(t)
	// "existing" has two events; "fresh" has none.
	mustAppend(t, ctx, s, "existing", eventstore.NoStream, newEvents(t, "t", "seed", 2)...)

	tests := []struct {
		name     string
		stream   string
		expected eventstore.ExpectedVersion
		wantErr  bool
		actual   int64 // the actual version the error reports
		first    int64 // the first version written when it succeeds
	}{
		{"any on new stream", "fresh-any", eventstore.AnyVersion, false, 0, 1},
		{"any on existing stream", "existing", eventstore.AnyVersion, false, 0, 3},
		{"no stream on new stream", "fresh-nostream", eventstore.NoStream, false, 0, 1},
		{"no stream on existing stream", "existing", eventstore.NoStream, true, 3, 0},
		{"exactly right", "existing", eventstore.Exactly(3), false, 0, 4},
		{"exactly too low", "existing", eventstore.Exactly(2), true, 4, 0},
		{"exactly too high", "existing", eventstore.Exactly(9), true, 4, 0},
		{"exactly on new stream", "fresh-exact", eventstore.Exactly(1), true, 0, 0},
	}
	// Sequential: each row sees the previous rows' effect on "existing".
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Append(ctx, tt.stream, tt.expected, newEvents(t, "t", tt.name, 1)...)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("append: %v", err)
				}
				if res.FirstVersion != tt.first || res.LastVersion != tt.first {
					t.Fatalf("result %+v, want version %d", res, tt.first)
				}
				return
			}
			if err == nil {
				t.Fatalf("append succeeded with %+v, want a concurrency error", res)
			}
			ce := isConcurrency(t, err)
			if ce.Actual != tt.actual || ce.Expected != tt.expected || ce.Stream != tt.stream {
				t.Errorf("concurrency error %+v, want stream %s expected %d actual %d", ce, tt.stream, tt.expected, tt.actual)
			}
			if tt.actual == 0 {
				if _, err := s.ReadStream(ctx, tt.stream, 1, 0); !errors.Is(err, eventstore.ErrNotFound) {
					t.Errorf("failed append created stream %s: read error %v", tt.stream, err)
				}
			} else if n := len(mustReadStream(t, ctx, s, tt.stream, 1, 0)); int64(n) != tt.actual {
				t.Errorf("stream %s has %d events after a refused append, want %d", tt.stream, n, tt.actual)
			}
		})
	}
}

func testAtomicMultiEvent(t *testing.T, newStore NewStore) {
	s, _ := mustStore(t, newStore)
	ctx := mustContext(t)
	mustAppend(t, ctx, s, "other", eventstore.AnyVersion, newEvents(t, "t", "o", 1)...)
	res := mustAppend(t, ctx, s, "multi", eventstore.NoStream, newEvents(t, "t", "m", 5)...)
	if res.FirstVersion != 1 || res.LastVersion != 5 {
		t.Fatalf("result %+v, want versions 1..5", res)
	}
	mustAppend(t, ctx, s, "other", eventstore.AnyVersion, newEvents(t, "t", "o", 1)...)
	got := mustReadStream(t, ctx, s, "multi", 1, 0)
	for i, e := range got {
		if e.Version != int64(i+1) {
			t.Fatalf("event %d has version %d", i, e.Version)
		}
	}
	// One append's events are contiguous in the global order too.
	all := mustReadAllFrom(t, ctx, s, eventstore.Start, 100)
	if len(all) != 7 {
		t.Fatalf("log has %d events, want 7", len(all))
	}
	for i := 1; i <= 5; i++ {
		if all[i].StreamID != "multi" || all[i].Version != int64(i) {
			t.Fatalf("log[%d] is %s@%d, want multi@%d", i, all[i].StreamID, all[i].Version, i)
		}
	}

	// One bad event refuses the whole append.
	batch := newEvents(t, "t", "bad", 3)
	batch[2].Data = json.RawMessage(`{not json`)
	_, err := s.Append(ctx, "multi", eventstore.Exactly(5), batch...)
	var ve *eventstore.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("append with a bad third event: error %v, want a *ValidationError", err)
	}
	if n := len(mustReadStream(t, ctx, s, "multi", 1, 0)); n != 5 {
		t.Fatalf("stream has %d events after a refused append, want 5", n)
	}
	if _, err := s.ReadStream(ctx, "never", 1, 0); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("read missing stream: %v, want ErrNotFound", err)
	}
	_, err = s.Append(ctx, "never", eventstore.NoStream, batch...)
	if !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("append bad batch to new stream: %v, want ErrInvalidEvent", err)
	}
	if _, err := s.ReadStream(ctx, "never", 1, 0); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("refused append created the stream: %v", err)
	}
}

func testIdempotentRetry(t *testing.T, newStore NewStore) {
	s, _ := mustStore(t, newStore)
	ctx := mustContext(t)
	first := newEvents(t, "t", "first", 2)
	res := mustAppend(t, ctx, s, "idem", eventstore.NoStream, first...)
	second := newEvents(t, "t", "second", 1)
	res2 := mustAppend(t, ctx, s, "idem", eventstore.Exactly(2), second...)
	mustAppend(t, ctx, s, "elsewhere", eventstore.NoStream, newEvents(t, "t", "e", 1)...)
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatalf("head: %v", err)
	}

	t.Run("same ids same versions", func(t *testing.T) {
		tests := []struct {
			name     string
			expected eventstore.ExpectedVersion
			events   []eventstore.NewEvent
			want     eventstore.AppendResult
		}{
			{"retry with the original expectation", eventstore.NoStream, first, res},
			{"retry with any version", eventstore.AnyVersion, first, res},
			{"retry of a later append", eventstore.Exactly(2), second, res2},
			{"retry of a later append with any version", eventstore.AnyVersion, second, res2},
		}
		for _, tt := range tests {
			got, err := s.Append(ctx, "idem", tt.expected, tt.events...)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if got != tt.want {
				t.Errorf("%s: result %+v, want the original %+v", tt.name, got, tt.want)
			}
		}
	})

	t.Run("conflicting ids", func(t *testing.T) {
		twice := newEvents(t, "t", "twice", 1)[0]
		changed := first[0]
		changed.Type = "other.type"
		tests := []struct {
			name     string
			stream   string
			expected eventstore.ExpectedVersion
			events   []eventstore.NewEvent
			global   bool // needs ids unique across the whole log
		}{
			{"id stored in another stream", "elsewhere", eventstore.Exactly(1), first[:1], true},
			{"id stored in another stream, new stream", "brand-new", eventstore.NoStream, first[:1], true},
			{"id stored at another version", "idem", eventstore.Exactly(3), first[:1], true},
			{"id stored with another type", "idem", eventstore.NoStream, []eventstore.NewEvent{changed}, false},
			{"same id twice in one append", "twice", eventstore.NoStream, []eventstore.NewEvent{twice, twice}, false},
		}
		scoped, _ := s.(PerStreamEventIDs)
		for _, tt := range tests {
			if tt.global && scoped != nil && scoped.EventIDsUniquePerStreamOnly() {
				t.Logf("%s: not required of this adapter (event ids are unique per stream only)", tt.name)
				continue
			}
			_, err := s.Append(ctx, tt.stream, tt.expected, tt.events...)
			if !errors.Is(err, eventstore.ErrDuplicateEvent) {
				t.Errorf("%s: error %v, want ErrDuplicateEvent", tt.name, err)
			}
		}
	})

	// A stored id mixed with new ones is not a retry: it must not succeed.
	mixed := append([]eventstore.NewEvent{second[0]}, newEvents(t, "t", "mixed", 1)...)
	if _, err := s.Append(ctx, "idem", eventstore.Exactly(2), mixed...); err == nil {
		t.Errorf("append of a stored id followed by a new one succeeded")
	}

	after, err := s.Head(ctx)
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	if after != head {
		t.Errorf("head moved from %s to %s: a retry or refused append stored something", head, after)
	}
	if n := len(mustReadStream(t, ctx, s, "idem", 1, 0)); n != 3 {
		t.Errorf("stream has %d events, want 3", n)
	}
	if n := len(mustReadAllFrom(t, ctx, s, eventstore.Start, 100)); n != 4 {
		t.Errorf("log has %d events, want 4", n)
	}
}

func testBadInput(t *testing.T, newStore NewStore) {
	s, _ := mustStore(t, newStore)
	ctx := mustContext(t)
	good := func() eventstore.NewEvent { return newEvents(t, "t", "x", 1)[0] }
	with := func(f func(*eventstore.NewEvent)) []eventstore.NewEvent {
		e := good()
		f(&e)
		return []eventstore.NewEvent{e}
	}
	huge := `"` + strings.Repeat("a", eventstore.MaxEventSize) + `"`
	tests := []struct {
		name   string
		stream string
		events []eventstore.NewEvent
		field  string
	}{
		{"empty stream id", "", []eventstore.NewEvent{good()}, "stream"},
		{"missing type", "bad", with(func(e *eventstore.NewEvent) { e.Type = "" }), "type"},
		{"data not JSON", "bad", with(func(e *eventstore.NewEvent) { e.Data = json.RawMessage(`{"a":`) }), "data"},
		{"empty data", "bad", with(func(e *eventstore.NewEvent) { e.Data = nil }), "data"},
		{"event over MaxEventSize", "bad", with(func(e *eventstore.NewEvent) { e.Data = json.RawMessage(huge) }), "size"},
		{"no event", "bad", nil, "events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(ctx, tt.stream, eventstore.AnyVersion, tt.events...)
			var ve *eventstore.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, eventstore.ErrInvalidEvent) {
				t.Fatalf("error %v (%T), want a *ValidationError", err, err)
			}
			if ve.Field != tt.field {
				t.Errorf("refused field %q, want %q (%v)", ve.Field, tt.field, err)
			}
		})
	}
	if evs, err := s.ReadAll(ctx, eventstore.Start, 10); err != nil || len(evs) != 0 {
		t.Fatalf("log after bad input: %d events, error %v; want empty", len(evs), err)
	}
	// Large but under the limit is accepted and comes back whole.
	big := good()
	big.Data = json.RawMessage(`"` + strings.Repeat("b", eventstore.MaxEventSize/2) + `"`)
	mustAppend(t, ctx, s, "big", eventstore.NoStream, big)
	got := mustReadStream(t, ctx, s, "big", 1, 0)
	if len(got) != 1 || !sameJSON(t, got[0].Data, big.Data) {
		t.Fatalf("large event did not round-trip")
	}
}

func testAssignsMissingID(t *testing.T, newStore NewStore) {
	s, _ := mustStore(t, newStore)
	ctx := mustContext(t)
	evs := newEvents(t, "t", "noid", 2)
	evs[0].ID, evs[1].ID = uuid.Nil, uuid.Nil
	mustAppend(t, ctx, s, "noid", eventstore.NoStream, evs...)
	got := mustReadStream(t, ctx, s, "noid", 1, 0)
	if len(got) != 2 {
		t.Fatalf("read %d events, want 2", len(got))
	}
	if got[0].ID == uuid.Nil || got[1].ID == uuid.Nil || got[0].ID == got[1].ID {
		t.Fatalf("assigned ids %s and %s: want two distinct non-nil ids", got[0].ID, got[1].ID)
	}
}

func testMetadataRoundTrip(t *testing.T, newStore NewStore) {
	s, _ := mustStore(t, newStore)
	ctx := mustContext(t)
	tests := []struct {
		name string
		ev   eventstore.NewEvent
	}{
		{"full metadata", eventstore.NewEvent{
			Type: "need.forwarded", SchemaVersion: 3,
			Data: json.RawMessage(`{"need":"n1","referents":["r1","r2"],"note":"équipe café"}`),
			Metadata: eventstore.Metadata{
				ActorID: "advisor-42", ActorRole: "advisor",
				CorrelationID: "corr-1", CausationID: "cause-1", IdempotencyKey: "idem-1",
			},
		}},
		{"empty metadata", eventstore.NewEvent{Type: "need.closed", SchemaVersion: 1, Data: json.RawMessage(`{}`)}},
		{"array data and schema 7", eventstore.NewEvent{Type: "x", SchemaVersion: 7, Data: json.RawMessage(`[1, 2.5, null, true]`),
			Metadata: eventstore.Metadata{ActorRole: "animateur"}}},
	}
	for i, tt := range tests {
		tt.ev.ID = mustID(t)
		stream := "meta-" + string(rune('a'+i))
		mustAppend(t, ctx, s, stream, eventstore.NoStream, tt.ev)
		got := mustReadStream(t, ctx, s, stream, 1, 0)
		if len(got) != 1 {
			t.Fatalf("%s: read %d events", tt.name, len(got))
		}
		checkEvent(t, got[0], stream, 1, tt.ev)
	}
}
