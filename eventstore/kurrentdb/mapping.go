package kurrentdb

import (
	"encoding/json"
	"fmt"
	"strings"

	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/reso-fr/reso/eventstore"
)

// streamState maps an expected version (1-based, 0 = no stream) to the
// client's stream state (0-based revisions).
func streamState(expected eventstore.ExpectedVersion) kdb.StreamState {
	switch {
	case expected == eventstore.AnyVersion:
		return kdb.Any{}
	case expected == eventstore.NoStream:
		return kdb.NoStream{}
	default:
		return kdb.StreamRevision{Value: uint64(expected) - 1}
	}
}

// versionOf maps a 0-based revision to Réso's 1-based version.
func versionOf(revision uint64) int64 { return int64(revision) + 1 }

// streamFrom maps the first version to read (1-based, <= 1 meaning the
// start) to the client's stream position.
func streamFrom(from int64) kdb.StreamPosition {
	if from <= 1 {
		return kdb.Start{}
	}
	return kdb.Revision(uint64(from - 1))
}

// toPosition and fromPosition convert global positions: Major is the
// commit position and Minor the prepare position, which sorts like
// KurrentDB's own order of $all.
func toPosition(p kdb.Position) eventstore.Position {
	return eventstore.Position{Major: p.Commit, Minor: p.Prepare}
}

func fromPosition(p eventstore.Position) kdb.Position {
	return kdb.Position{Commit: p.Major, Prepare: p.Minor}
}

// allFrom maps "after p" to the client's $all position. KurrentDB reads
// forward from a position inclusively and subscribes exclusively; callers
// drop any event at or before p either way.
func allFrom(p eventstore.Position) kdb.AllPosition {
	if p.IsZero() {
		return kdb.Start{}
	}
	return fromPosition(p)
}

// userMetadata is the JSON stored as the event's user metadata: Réso's
// metadata fields plus the schema version, which KurrentDB has no field for.
type userMetadata struct {
	SchemaVersion int `json:"schema_version"`
	eventstore.Metadata
}

// encodeMetadata renders the user metadata of e.
func encodeMetadata(e *eventstore.NewEvent) ([]byte, error) {
	return json.Marshal(userMetadata{SchemaVersion: e.SchemaVersion, Metadata: e.Metadata})
}

// decodeMetadata reads user metadata written by encodeMetadata. Empty
// metadata (an event written by another tool) decodes as schema version 0
// and no metadata.
func decodeMetadata(b []byte) (int, eventstore.Metadata, error) {
	if len(b) == 0 {
		return 0, eventstore.Metadata{}, nil
	}
	var m userMetadata
	if err := json.Unmarshal(b, &m); err != nil {
		return 0, eventstore.Metadata{}, fmt.Errorf("decode user metadata: %w", err)
	}
	return m.SchemaVersion, m.Metadata, nil
}

// toEventData builds the client's event; e.ID must already be set.
func toEventData(e *eventstore.NewEvent) (kdb.EventData, error) {
	meta, err := encodeMetadata(e)
	if err != nil {
		return kdb.EventData{}, err
	}
	return kdb.EventData{
		EventID:     e.ID,
		EventType:   e.Type,
		ContentType: kdb.ContentTypeJson,
		Data:        e.Data,
		Metadata:    meta,
	}, nil
}

// toEvent converts a recorded event, removing the namespace from its
// stream id.
func toEvent(r *kdb.RecordedEvent, namespace string) (eventstore.Event, error) {
	schema, meta, err := decodeMetadata(r.UserMetadata)
	if err != nil {
		return eventstore.Event{}, fmt.Errorf("event %s in %s: %w", r.EventID, r.StreamID, err)
	}
	return eventstore.Event{
		ID:            r.EventID,
		StreamID:      strings.TrimPrefix(r.StreamID, namespace),
		Version:       versionOf(r.EventNumber),
		Position:      toPosition(r.Position),
		Type:          r.EventType,
		SchemaVersion: schema,
		Data:          json.RawMessage(r.Data),
		Metadata:      meta,
		RecordedAt:    r.CreatedDate.UTC(),
	}, nil
}

// visible reports whether an event of $all belongs to Réso's log: not a
// system stream or system event type (both start with "$": stream
// metadata, projections' links and statistics), and inside the namespace.
func visible(stream, eventType, namespace string) bool {
	if strings.HasPrefix(stream, "$") || strings.HasPrefix(eventType, "$") {
		return false
	}
	return strings.HasPrefix(stream, namespace)
}

// subscriptionFilter is the server-side filter of a subscription to $all:
// the namespace prefix when there is one, otherwise every stream whose name
// does not start with "$". System event types in user streams, which the
// server filter lets through, are dropped by visible.
func subscriptionFilter(namespace string) *kdb.SubscriptionFilter {
	if namespace != "" && !strings.HasPrefix(namespace, "$") {
		return &kdb.SubscriptionFilter{Type: kdb.StreamFilterType, Prefixes: []string{namespace}}
	}
	return &kdb.SubscriptionFilter{Type: kdb.StreamFilterType, Regex: `^[^$]`}
}
