// Package eventstore defines the contract of Réso's log: append-only streams of
// typed, versioned JSON events, one total global order, and subscriptions that
// switch from catch-up to live without loss or duplicate.
//
// The store does not know needs or any other domain concept; it moves events.
// Adapters live in subpackages (memory, sqlite, postgres, kurrentdb) and all of
// them pass the conformance suite in eventstoretest.
package eventstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// MaxEventSize is the largest accepted event: data and metadata, encoded.
const MaxEventSize = 1 << 20

// ExpectedVersion states what the writer believes the stream's current
// version is. Versions are 1-based: the first event of a stream has version 1,
// so a stream that does not exist has version 0.
type ExpectedVersion int64

const (
	// AnyVersion appends whatever the stream's current version is.
	AnyVersion ExpectedVersion = -1
	// NoStream appends only if the stream has no event yet.
	NoStream ExpectedVersion = 0
)

// Exactly expects the stream's current version to be v (v >= 1; Exactly(0)
// is NoStream).
func Exactly(v int64) ExpectedVersion { return ExpectedVersion(v) }

// Metadata says who caused an event and why. Every field is optional.
type Metadata struct {
	ActorID        string `json:"actor_id,omitempty"`
	ActorRole      string `json:"actor_role,omitempty"`
	CorrelationID  string `json:"correlation_id,omitempty"`
	CausationID    string `json:"causation_id,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// NewEvent is an event to append. ID should be set by the caller (a UUIDv7)
// so that a retried append is recognised as the same; when it is uuid.Nil the
// store assigns one.
type NewEvent struct {
	ID            uuid.UUID
	Type          string
	SchemaVersion int
	Data          json.RawMessage
	Metadata      Metadata
}

// Event is a stored event.
type Event struct {
	ID            uuid.UUID
	StreamID      string
	Version       int64 // 1-based position inside the stream
	Position      Position
	Type          string
	SchemaVersion int
	Data          json.RawMessage
	Metadata      Metadata
	RecordedAt    time.Time // the store's clock, UTC
}

// AppendResult reports where an append landed.
type AppendResult struct {
	StreamID     string
	FirstVersion int64
	LastVersion  int64
	// Position is the global position of the last appended event.
	Position Position
}

// Store is the log. Implementations are safe for concurrent use.
type Store interface {
	// Append writes events atomically and contiguously at the end of stream,
	// if the stream's current version matches expected.
	//
	// It returns a *ConcurrencyError (errors.Is ErrConcurrency) when it does
	// not, a *ValidationError (errors.Is ErrInvalidEvent) for bad input,
	// ErrDuplicateEvent when an event id is already stored elsewhere or
	// differently, and ErrClosed after Close. Appending again events whose
	// ids are already stored in this stream at the same versions succeeds
	// with the original result and stores nothing.
	Append(ctx context.Context, stream string, expected ExpectedVersion, events ...NewEvent) (AppendResult, error)

	// ReadStream returns up to limit events of stream with version >= from,
	// in version order. limit <= 0 means no limit. It returns ErrNotFound
	// when the stream has no event.
	ReadStream(ctx context.Context, stream string, from int64, limit int) ([]Event, error)

	// ReadAll returns up to limit events after position, in global order.
	// The zero Position reads from the beginning. It never returns an event
	// before an earlier one that is yet to become visible: once an event at
	// position p has been returned, no event < p will ever appear.
	ReadAll(ctx context.Context, after Position, limit int) ([]Event, error)

	// Subscribe follows the log after position: it catches up, then follows
	// live, without loss or duplicate across that switch.
	Subscribe(ctx context.Context, after Position) (Subscription, error)

	// Head returns the position of the last visible event (zero when the log
	// is empty).
	Head(ctx context.Context) (Position, error)

	// Close releases the store's resources. Later calls return ErrClosed.
	Close() error
}

// Subscription delivers the log in global order.
type Subscription interface {
	// Next blocks until at least one event is available after the last one
	// delivered, then returns up to max of them (a full batch while catching
	// up, what has arrived when live). It returns ctx.Err() when ctx ends and
	// ErrClosed after Close.
	Next(ctx context.Context, max int) ([]Event, error)
	// Close ends the subscription.
	Close() error
}
