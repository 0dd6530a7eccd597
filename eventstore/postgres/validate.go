package postgres

import (
	"strings"
	"unicode/utf8"

	"github.com/reso-fr/reso/eventstore"
)

func invalid(field, reason string) error {
	return &eventstore.ValidationError{Field: field, Reason: reason}
}

// storableText reports whether a PostgreSQL text column can hold s; a
// stream id it cannot hold names no stored stream.
func storableText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}
