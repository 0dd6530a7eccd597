package eventstore

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Validate checks an append's input the same way for every adapter: a
// non-empty stream id, at least one event, a type on every event, data that
// is JSON, text that every backend can hold (UTF-8, no NUL byte) and a size
// of at most MaxEventSize. It returns a *ValidationError (errors.Is
// ErrInvalidEvent) naming the first refused field, or nil.
func Validate(stream string, events []NewEvent) error {
	if stream == "" {
		return invalid("stream", "empty stream id")
	}
	if err := validText("stream", stream); err != nil {
		return err
	}
	if len(events) == 0 {
		return invalid("events", "no event to append")
	}
	for i := range events {
		if err := validateEvent(i, &events[i]); err != nil {
			return err
		}
	}
	return nil
}

// ValidateAppend is Validate plus the expected version, which must be
// AnyVersion, NoStream or a version >= 1. It returns a *ValidationError or nil.
func ValidateAppend(stream string, expected ExpectedVersion, events []NewEvent) error {
	if expected < AnyVersion {
		return invalid("expected", fmt.Sprintf("expected version %d is below %d", expected, AnyVersion))
	}
	return Validate(stream, events)
}

// EventSize is the size MaxEventSize limits: type, data and metadata.
func EventSize(e *NewEvent) int {
	m := &e.Metadata
	return len(e.Type) + len(e.Data) + len(m.ActorID) + len(m.ActorRole) +
		len(m.CorrelationID) + len(m.CausationID) + len(m.IdempotencyKey)
}

func validateEvent(i int, e *NewEvent) error {
	if e.Type == "" {
		return invalid("type", fmt.Sprintf("event %d has no type", i))
	}
	if err := validText("type", e.Type); err != nil {
		return err
	}
	if e.SchemaVersion < 0 {
		return invalid("schema_version", fmt.Sprintf("event %d has negative schema version %d", i, e.SchemaVersion))
	}
	// Checked before json.Valid so that a huge input is refused without
	// scanning it.
	if n := EventSize(e); n > MaxEventSize {
		return invalid("size", fmt.Sprintf("event %d is %d bytes, over the %d limit", i, n, MaxEventSize))
	}
	if !json.Valid(e.Data) {
		return invalid("data", fmt.Sprintf("event %d data is not JSON", i))
	}
	m := &e.Metadata
	for _, f := range [...]struct{ name, v string }{
		{"metadata.actor_id", m.ActorID},
		{"metadata.actor_role", m.ActorRole},
		{"metadata.correlation_id", m.CorrelationID},
		{"metadata.causation_id", m.CausationID},
		{"metadata.idempotency_key", m.IdempotencyKey},
	} {
		if err := validText(f.name, f.v); err != nil {
			return err
		}
	}
	return nil
}

// validText refuses what a PostgreSQL text column or a KurrentDB stream name
// cannot hold, so that an input valid on one adapter is valid on all.
func validText(field, s string) error {
	if !utf8.ValidString(s) {
		return invalid(field, "not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return invalid(field, "contains a NUL byte")
	}
	return nil
}

func invalid(field, reason string) error {
	return &ValidationError{Field: field, Reason: reason}
}
