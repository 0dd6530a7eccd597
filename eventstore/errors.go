package eventstore

import (
	"errors"
	"fmt"
)

var (
	// ErrConcurrency means the stream's version was not the expected one.
	// The concrete error is a *ConcurrencyError carrying the actual version.
	ErrConcurrency = errors.New("eventstore: wrong expected version")
	// ErrNotFound means the stream has no event.
	ErrNotFound = errors.New("eventstore: stream not found")
	// ErrInvalidEvent means the input was refused; the concrete error is a
	// *ValidationError.
	ErrInvalidEvent = errors.New("eventstore: invalid event")
	// ErrDuplicateEvent means an event id is already stored in another
	// stream, at another version, or with other content.
	ErrDuplicateEvent = errors.New("eventstore: duplicate event id")
	// ErrInvalidPosition means a position string could not be decoded.
	ErrInvalidPosition = errors.New("eventstore: invalid position")
	// ErrClosed means the store or subscription was closed.
	ErrClosed = errors.New("eventstore: closed")
)

// ConcurrencyError is returned when an append's expected version does not
// match the stream's actual version.
type ConcurrencyError struct {
	Stream   string
	Expected ExpectedVersion
	Actual   int64 // 0 when the stream does not exist
}

func (e *ConcurrencyError) Error() string {
	return fmt.Sprintf("append to %s: expected version %d, actual %d", e.Stream, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrConcurrency) true.
func (e *ConcurrencyError) Is(target error) bool { return target == ErrConcurrency }

// ValidationError says which input was refused and why.
type ValidationError struct {
	Field  string // "stream", "type", "data", "size", ...
	Reason string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid event: %s: %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidEvent) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidEvent }
