package eventstore

import (
	"fmt"
	"strconv"
	"strings"
)

// Position is a point in the global order of the log. Callers treat it as
// opaque: they compare positions, store them as strings and pass them back.
//
// Adapters fill the two halves as their order needs: PostgreSQL uses
// (transaction id, sequence), KurrentDB (commit, prepare), SQLite and memory
// (0, sequence). Order is lexicographic on (Major, Minor). The zero Position
// is the start of the log, before every event.
type Position struct {
	Major uint64
	Minor uint64
}

// Start is the position before the first event.
var Start = Position{}

// IsZero reports whether p is the start of the log.
func (p Position) IsZero() bool { return p == Position{} }

// Compare returns -1, 0 or +1 as p is before, equal to or after q.
func (p Position) Compare(q Position) int {
	switch {
	case p.Major < q.Major:
		return -1
	case p.Major > q.Major:
		return 1
	case p.Minor < q.Minor:
		return -1
	case p.Minor > q.Minor:
		return 1
	}
	return 0
}

// Less reports whether p is before q.
func (p Position) Less(q Position) bool { return p.Compare(q) < 0 }

// String encodes p as two fixed-width hexadecimal halves, so that the
// encodings sort like the positions themselves.
func (p Position) String() string {
	return fmt.Sprintf("%016x-%016x", p.Major, p.Minor)
}

// MarshalText implements encoding.TextMarshaler.
func (p Position) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Position) UnmarshalText(b []byte) error {
	q, err := ParsePosition(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// ParsePosition decodes a string made by Position.String. The empty string
// and "0" are the start of the log. It returns ErrInvalidPosition otherwise.
func ParsePosition(s string) (Position, error) {
	if s == "" || s == "0" {
		return Start, nil
	}
	major, minor, ok := strings.Cut(s, "-")
	if !ok || len(major) != 16 || len(minor) != 16 {
		return Position{}, fmt.Errorf("%w: %q", ErrInvalidPosition, s)
	}
	hi, err1 := strconv.ParseUint(major, 16, 64)
	lo, err2 := strconv.ParseUint(minor, 16, 64)
	if err1 != nil || err2 != nil {
		return Position{}, fmt.Errorf("%w: %q", ErrInvalidPosition, s)
	}
	return Position{Major: hi, Minor: lo}, nil
}
