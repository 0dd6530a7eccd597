package projections

import (
	"fmt"
	"time"

	"github.com/reso-fr/reso/domain"
)

// Read models store times as microseconds since the Unix epoch (UTC) in
// BIGINT columns, 0 when unset, and booleans as 0/1 INTEGER: both dialects
// then share every statement and compare the same way.

// Micros is t as stored.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// FromMicros is the time stored as us, in UTC; the zero time for 0.
func FromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// Flag is b as stored: 1 or 0.
func Flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Unfit is the error of an event a read model's state cannot take (a
// match that does not exist, a need never captured): it wraps
// domain.ErrEventMismatch, and the projection stops on it rather than skip
// the event.
func Unfit(format string, args ...any) error {
	return fmt.Errorf("%w: %s", domain.ErrEventMismatch, fmt.Sprintf(format, args...))
}
