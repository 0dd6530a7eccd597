// Package query holds the building blocks the read models' queries share:
// WHERE clauses with numbered parameters, opaque keyset cursors and page
// sizes. The queries themselves live beside their read models
// (projections/needs, stats, directory).
package query

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/projections"
)

// EncodeCursor makes the opaque cursor of a page whose last row sorts at
// (us, id): base64url of "<microseconds>|<id>".
func EncodeCursor(us int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(us, 10) + "|" + id))
}

// DecodeCursor reads a cursor EncodeCursor made. It returns an error
// wrapping projections.ErrInvalidQuery for anything else.
func DecodeCursor(c string) (int64, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", fmt.Errorf("%w: bad cursor", projections.ErrInvalidQuery)
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	us, perr := strconv.ParseInt(ts, 10, 64)
	if _, uerr := uuid.Parse(id); !ok || perr != nil || uerr != nil {
		return 0, "", fmt.Errorf("%w: bad cursor", projections.ErrInvalidQuery)
	}
	return us, id, nil
}

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Limit is the page size a request for n rows gets: DefaultLimit for 0 or
// less, at most MaxLimit.
func Limit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// Where accumulates SQL conditions with numbered parameters ($1, $2...,
// which both dialects accept).
type Where struct {
	Conds []string
	Args  []any
}

// Arg adds a parameter and returns its placeholder.
func (w *Where) Arg(v any) string {
	w.Args = append(w.Args, v)
	return "$" + strconv.Itoa(len(w.Args))
}

// Add adds the condition format, whose %s verbs are replaced by the
// placeholders of vals.
func (w *Where) Add(format string, vals ...any) {
	ph := make([]any, len(vals))
	for i, v := range vals {
		ph[i] = w.Arg(v)
	}
	w.Conds = append(w.Conds, fmt.Sprintf(format, ph...))
}

// SQL is " WHERE " and the conditions joined by AND, or "" for none.
func (w *Where) SQL() string {
	if len(w.Conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.Conds, " AND ")
}
