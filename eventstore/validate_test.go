package eventstore_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/eventstore"
)

func validEvent() eventstore.NewEvent {
	return eventstore.NewEvent{ID: uuid.New(), Type: "need.captured", SchemaVersion: 1, Data: json.RawMessage(`{"a":1}`)}
}

func TestValidateAppend(t *testing.T) {
	t.Parallel()
	with := func(f func(*eventstore.NewEvent)) []eventstore.NewEvent {
		e := validEvent()
		f(&e)
		return []eventstore.NewEvent{validEvent(), e}
	}
	tests := []struct {
		name     string
		stream   string
		expected eventstore.ExpectedVersion
		events   []eventstore.NewEvent
		field    string // "" when valid
	}{
		{"valid", "s", eventstore.AnyVersion, []eventstore.NewEvent{validEvent()}, ""},
		{"valid exactly", "s", eventstore.Exactly(7), []eventstore.NewEvent{validEvent()}, ""},
		{"empty stream", "", eventstore.AnyVersion, []eventstore.NewEvent{validEvent()}, "stream"},
		{"stream not UTF-8", "s\xff", eventstore.AnyVersion, []eventstore.NewEvent{validEvent()}, "stream"},
		{"stream with NUL", "s\x00", eventstore.AnyVersion, []eventstore.NewEvent{validEvent()}, "stream"},
		{"expected below any", "s", eventstore.ExpectedVersion(-2), []eventstore.NewEvent{validEvent()}, "expected"},
		{"no events", "s", eventstore.AnyVersion, nil, "events"},
		{"missing type", "s", eventstore.AnyVersion, with(func(e *eventstore.NewEvent) { e.Type = "" }), "type"},
		{"negative schema version", "s", eventstore.AnyVersion, with(func(e *eventstore.NewEvent) { e.SchemaVersion = -1 }), "schema_version"},
		{"nil data", "s", eventstore.AnyVersion, with(func(e *eventstore.NewEvent) { e.Data = nil }), "data"},
		{"bad JSON", "s", eventstore.AnyVersion, with(func(e *eventstore.NewEvent) { e.Data = json.RawMessage(`{"a"}`) }), "data"},
		{"two JSON values", "s", eventstore.AnyVersion, with(func(e *eventstore.NewEvent) { e.Data = json.RawMessage(`{} {}`) }), "data"},
		{"metadata with NUL", "s", eventstore.AnyVersion, with(func(e *eventstore.NewEvent) { e.Metadata.ActorID = "a\x00" }), "metadata.actor_id"},
		{"over the size", "s", eventstore.AnyVersion, with(func(e *eventstore.NewEvent) {
			e.Data = json.RawMessage(`"` + strings.Repeat("x", eventstore.MaxEventSize) + `"`)
		}), "size"},
		{"metadata counts in the size", "s", eventstore.AnyVersion, with(func(e *eventstore.NewEvent) {
			e.Data = json.RawMessage(`"` + strings.Repeat("x", eventstore.MaxEventSize-100) + `"`)
			e.Metadata.CorrelationID = strings.Repeat("c", 200)
		}), "size"},
		{"at the size", "s", eventstore.AnyVersion, with(func(e *eventstore.NewEvent) {
			e.Data = json.RawMessage(`"` + strings.Repeat("x", eventstore.MaxEventSize-2-len(e.Type)) + `"`)
		}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := eventstore.ValidateAppend(tt.stream, tt.expected, tt.events)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused valid input: %v", err)
				}
				return
			}
			var ve *eventstore.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, eventstore.ErrInvalidEvent) {
				t.Fatalf("error %v, want a *ValidationError", err)
			}
			if ve.Field != tt.field {
				t.Errorf("field %q, want %q", ve.Field, tt.field)
			}
		})
	}
}

func TestAssignIDs(t *testing.T) {
	t.Parallel()
	given := validEvent()
	in := []eventstore.NewEvent{given, {Type: "t", Data: json.RawMessage(`1`)}, {Type: "t", Data: json.RawMessage(`2`)}}
	out, err := eventstore.AssignIDs(in)
	if err != nil {
		t.Fatalf("assign: %v", err)
	}
	if out[0].ID != given.ID {
		t.Errorf("a given id changed: %s, want %s", out[0].ID, given.ID)
	}
	if out[1].ID == uuid.Nil || out[2].ID == uuid.Nil || out[1].ID == out[2].ID {
		t.Errorf("assigned ids %s, %s: want distinct, non-nil", out[1].ID, out[2].ID)
	}
	if out[1].ID.Version() != 7 {
		t.Errorf("assigned id version %d, want 7", out[1].ID.Version())
	}
	if in[1].ID != uuid.Nil {
		t.Errorf("the caller's slice was changed")
	}
	if _, err := eventstore.AssignIDs([]eventstore.NewEvent{given, given}); !errors.Is(err, eventstore.ErrDuplicateEvent) {
		t.Errorf("same id twice: %v, want ErrDuplicateEvent", err)
	}
}

func TestErrorsMatchSentinels(t *testing.T) {
	t.Parallel()
	ce := error(&eventstore.ConcurrencyError{Stream: "s", Expected: eventstore.Exactly(2), Actual: 3})
	if !errors.Is(ce, eventstore.ErrConcurrency) || errors.Is(ce, eventstore.ErrInvalidEvent) {
		t.Errorf("ConcurrencyError matches the wrong sentinels")
	}
	if !strings.Contains(ce.Error(), "expected version 2, actual 3") {
		t.Errorf("message %q does not name the versions", ce.Error())
	}
	ve := error(&eventstore.ValidationError{Field: "type", Reason: "missing"})
	if !errors.Is(ve, eventstore.ErrInvalidEvent) || errors.Is(ve, eventstore.ErrConcurrency) {
		t.Errorf("ValidationError matches the wrong sentinels")
	}
}
