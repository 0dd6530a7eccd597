package kurrentdb

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/reso-fr/reso/eventstore"
)

func TestStreamState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expected eventstore.ExpectedVersion
		want     kdb.StreamState
	}{
		{eventstore.AnyVersion, kdb.Any{}},
		{eventstore.NoStream, kdb.NoStream{}},
		{eventstore.Exactly(1), kdb.StreamRevision{Value: 0}},
		{eventstore.Exactly(2), kdb.StreamRevision{Value: 1}},
		{eventstore.Exactly(1 << 40), kdb.StreamRevision{Value: 1<<40 - 1}},
	}
	for _, tt := range tests {
		if got := streamState(tt.expected); got != tt.want {
			t.Errorf("streamState(%d) = %#v, want %#v", tt.expected, got, tt.want)
		}
	}
}

func TestVersionAndStreamFrom(t *testing.T) {
	t.Parallel()
	for rev, want := range map[uint64]int64{0: 1, 1: 2, 41: 42} {
		if got := versionOf(rev); got != want {
			t.Errorf("versionOf(%d) = %d, want %d", rev, got, want)
		}
	}
	tests := []struct {
		from int64
		want kdb.StreamPosition
	}{
		{-3, kdb.Start{}},
		{0, kdb.Start{}},
		{1, kdb.Start{}},
		{2, kdb.StreamRevision{Value: 1}},
		{10, kdb.StreamRevision{Value: 9}},
	}
	for _, tt := range tests {
		if got := streamFrom(tt.from); got != tt.want {
			t.Errorf("streamFrom(%d) = %#v, want %#v", tt.from, got, tt.want)
		}
	}
}

func TestPositions(t *testing.T) {
	t.Parallel()
	// KurrentDB orders $all by commit, then prepare position; the encoded
	// strings must sort the same way.
	ordered := []kdb.Position{
		{Commit: 0, Prepare: 1},
		{Commit: 1, Prepare: 0},
		{Commit: 1, Prepare: 7},
		{Commit: 255, Prepare: 255},
		{Commit: 256, Prepare: 3},
		{Commit: 1 << 40, Prepare: 1 << 40},
	}
	for i, kp := range ordered {
		p := toPosition(kp)
		if p.Major != kp.Commit || p.Minor != kp.Prepare {
			t.Errorf("toPosition(%+v) = %+v", kp, p)
		}
		if back := fromPosition(p); back != kp {
			t.Errorf("fromPosition(toPosition(%+v)) = %+v", kp, back)
		}
		parsed, err := eventstore.ParsePosition(p.String())
		if err != nil || parsed != p {
			t.Errorf("ParsePosition(%q) = %+v, %v; want %+v", p.String(), parsed, err, p)
		}
		if i > 0 {
			prev := toPosition(ordered[i-1])
			if !prev.Less(p) || !(prev.String() < p.String()) {
				t.Errorf("%+v does not sort before %+v (%s, %s)", prev, p, prev, p)
			}
		}
	}
	if got := allFrom(eventstore.Start); got != (kdb.Start{}) {
		t.Errorf("allFrom(Start) = %#v, want Start", got)
	}
	if got := allFrom(eventstore.Position{Major: 9, Minor: 8}); got != (kdb.Position{Commit: 9, Prepare: 8}) {
		t.Errorf("allFrom(9/8) = %#v", got)
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   eventstore.NewEvent
		want string
	}{
		{"empty", eventstore.NewEvent{}, `{"schema_version":0}`},
		{"schema only", eventstore.NewEvent{SchemaVersion: 3}, `{"schema_version":3}`},
		{"full", eventstore.NewEvent{SchemaVersion: 2, Metadata: eventstore.Metadata{
			ActorID: "u-1", ActorRole: "referent", CorrelationID: "c", CausationID: "k", IdempotencyKey: "i",
		}}, `{"schema_version":2,"actor_id":"u-1","actor_role":"referent","correlation_id":"c","causation_id":"k","idempotency_key":"i"}`},
		{"accents and quotes", eventstore.NewEvent{SchemaVersion: 1, Metadata: eventstore.Metadata{ActorID: `Élodie "É"`}},
			`{"schema_version":1,"actor_id":"Élodie \"É\""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := encodeMetadata(&tt.ev)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if string(b) != tt.want {
				t.Errorf("encoded %s, want %s", b, tt.want)
			}
			schema, meta, err := decodeMetadata(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if schema != tt.ev.SchemaVersion || meta != tt.ev.Metadata {
				t.Errorf("decoded %d %+v, want %d %+v", schema, meta, tt.ev.SchemaVersion, tt.ev.Metadata)
			}
		})
	}
}

func TestDecodeForeignMetadata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		schema  int
		meta    eventstore.Metadata
		wantErr bool
	}{
		{"none", "", 0, eventstore.Metadata{}, false},
		{"unknown fields", `{"$correlationId":"x","schema_version":4}`, 4, eventstore.Metadata{}, false},
		{"not json", `not json`, 0, eventstore.Metadata{}, true},
		{"wrong type", `{"schema_version":"one"}`, 0, eventstore.Metadata{}, true},
	}
	for _, tt := range tests {
		schema, meta, err := decodeMetadata([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: error %v, want error %v", tt.name, err, tt.wantErr)
		}
		if schema != tt.schema || meta != tt.meta {
			t.Errorf("%s: decoded %d %+v, want %d %+v", tt.name, schema, meta, tt.schema, tt.meta)
		}
	}
}

func TestEventConversion(t *testing.T) {
	t.Parallel()
	id := mustUUID(t)
	in := eventstore.NewEvent{
		ID: id, Type: "need.captured", SchemaVersion: 2,
		Data:     json.RawMessage(`{"siret":"12345678901234"}`),
		Metadata: eventstore.Metadata{ActorID: "a", IdempotencyKey: "k"},
	}
	ed, err := toEventData(&in)
	if err != nil {
		t.Fatalf("toEventData: %v", err)
	}
	if ed.EventID != id || ed.EventType != in.Type || ed.ContentType != kdb.ContentTypeJson || string(ed.Data) != string(in.Data) {
		t.Errorf("event data %+v does not carry %+v", ed, in)
	}
	paris := time.FixedZone("CET", 3600)
	created := time.Date(2026, 3, 1, 10, 0, 0, 123400, paris)
	rec := &kdb.RecordedEvent{
		EventID: id, EventType: ed.EventType, ContentType: "application/json",
		StreamID: "ns-1-need-42", EventNumber: 6,
		Position:    kdb.Position{Commit: 900, Prepare: 880},
		CreatedDate: created, Data: ed.Data, UserMetadata: ed.Metadata,
	}
	got, err := toEvent(rec, "ns-1-")
	if err != nil {
		t.Fatalf("toEvent: %v", err)
	}
	want := eventstore.Event{
		ID: id, StreamID: "need-42", Version: 7,
		Position: eventstore.Position{Major: 900, Minor: 880},
		Type:     in.Type, SchemaVersion: 2, Data: in.Data, Metadata: in.Metadata,
		RecordedAt: created.UTC(),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("toEvent =\n%+v\nwant\n%+v", got, want)
	}
	if got.RecordedAt.Location() != time.UTC {
		t.Errorf("recorded at %v, want UTC", got.RecordedAt.Location())
	}
	rec.UserMetadata = []byte("{")
	if _, err := toEvent(rec, ""); err == nil {
		t.Errorf("toEvent with broken metadata: no error")
	}
}

func TestVisible(t *testing.T) {
	t.Parallel()
	tests := []struct {
		stream, typ, ns string
		want            bool
	}{
		{"need-1", "need.captured", "", true},
		{"$stats-127.0.0.1:2113", "$statsCollected", "", false},
		{"$$need-1", "$metadata", "", false},
		{"$ce-need", "$>", "", false},
		{"need-1", "$>", "", false},
		{"$settings", "update", "", false},
		{"t1-need-1", "need.captured", "t1-", true},
		{"t2-need-1", "need.captured", "t1-", false},
		{"need-1", "need.captured", "t1-", false},
	}
	for _, tt := range tests {
		if got := visible(tt.stream, tt.typ, tt.ns); got != tt.want {
			t.Errorf("visible(%q, %q, %q) = %v, want %v", tt.stream, tt.typ, tt.ns, got, tt.want)
		}
	}
}

func TestSubscriptionFilter(t *testing.T) {
	t.Parallel()
	all := subscriptionFilter("")
	if all.Type != kdb.StreamFilterType || all.Regex != `^[^$]` || len(all.Prefixes) != 0 {
		t.Errorf("filter without namespace: %+v", all)
	}
	ns := subscriptionFilter("t1-")
	if ns.Type != kdb.StreamFilterType || ns.Regex != "" || !reflect.DeepEqual(ns.Prefixes, []string{"t1-"}) {
		t.Errorf("filter with namespace: %+v", ns)
	}
}

func TestWithIDs(t *testing.T) {
	t.Parallel()
	given := mustUUID(t)
	in := []eventstore.NewEvent{{ID: given, Type: "a"}, {Type: "b"}, {Type: "c"}}
	out, err := withIDs(in)
	if err != nil {
		t.Fatalf("withIDs: %v", err)
	}
	if out[0].ID != given {
		t.Errorf("given id replaced: %s", out[0].ID)
	}
	for i := 1; i < 3; i++ {
		if out[i].ID == uuid.Nil || out[i].ID.Version() != 7 {
			t.Errorf("event %d: id %s, want a UUIDv7", i, out[i].ID)
		}
		if in[i].ID != uuid.Nil {
			t.Errorf("caller's event %d changed", i)
		}
	}
	if out[1].ID == out[2].ID {
		t.Errorf("two events got the same id")
	}
	if _, err := withIDs([]eventstore.NewEvent{{ID: given}, {ID: given}}); !errors.Is(err, eventstore.ErrDuplicateEvent) {
		t.Errorf("same id twice: %v, want ErrDuplicateEvent", err)
	}
}

func TestSameEvent(t *testing.T) {
	t.Parallel()
	id := mustUUID(t)
	base := eventstore.NewEvent{ID: id, Type: "t", SchemaVersion: 1, Data: json.RawMessage(`{"a":1,"b":[1,2]}`), Metadata: eventstore.Metadata{ActorID: "x"}}
	stored := eventstore.Event{ID: id, Type: "t", SchemaVersion: 1, Data: json.RawMessage(`{"a":1,"b":[1,2]}`), Metadata: eventstore.Metadata{ActorID: "x"}}
	tests := []struct {
		name   string
		change func(e *eventstore.NewEvent)
		want   bool
	}{
		{"identical", func(*eventstore.NewEvent) {}, true},
		{"same JSON value, other spacing", func(e *eventstore.NewEvent) { e.Data = json.RawMessage(`{ "b": [1, 2], "a": 1 }`) }, true},
		{"other data", func(e *eventstore.NewEvent) { e.Data = json.RawMessage(`{"a":2,"b":[1,2]}`) }, false},
		{"other type", func(e *eventstore.NewEvent) { e.Type = "u" }, false},
		{"other schema", func(e *eventstore.NewEvent) { e.SchemaVersion = 2 }, false},
		{"other metadata", func(e *eventstore.NewEvent) { e.Metadata.ActorID = "y" }, false},
		{"other id", func(e *eventstore.NewEvent) { e.ID = uuid.New() }, false},
	}
	for _, tt := range tests {
		e := base
		tt.change(&e)
		if got := sameEvent(&stored, &e); got != tt.want {
			t.Errorf("%s: sameEvent = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	min, max := 100*time.Millisecond, time.Second
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, time.Second},
		{50, time.Second},
	}
	for _, tt := range tests {
		if got := backoff(tt.attempt, min, max); got != tt.want {
			t.Errorf("backoff(%d) = %s, want %s", tt.attempt, got, tt.want)
		}
	}
}

func mustUUID(t *testing.T) uuid.UUID {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatalf("new uuid: %v", err)
	}
	return id
}
