package projections

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Dialect names the SQL database holding the read models.
type Dialect string

// Supported dialects.
const (
	DialectSQLite   Dialect = "sqlite"
	DialectPostgres Dialect = "postgres"
)

func (d Dialect) valid() error {
	switch d {
	case DialectSQLite, DialectPostgres:
		return nil
	}
	return fmt.Errorf("projections: unknown dialect %q", d)
}

// IDArg is the value an id column typed {U} (uuidType) takes: on
// PostgreSQL its 16 bytes, which pgx writes as they are (a string, or a
// uuid.UUID through its driver.Valuer, is formatted or parsed for every
// row: COPY of 100,000 rows 35 ms against 170–200 ms); SQLite's TEXT
// column takes the text.
func IDArg(d Dialect, id uuid.UUID) any {
	if d == DialectPostgres {
		return [16]byte(id)
	}
	return id.String()
}

// Placeholders writes "($k+1, ..., $k+n)" for one row of n columns whose
// first parameter is number k+1. Both dialects accept $N, but SQLite
// resolves numbered parameters in time quadratic in their count, which
// dominates multi-row statements: there they are plain "?" (positional).
func Placeholders(b *strings.Builder, d Dialect, k, n int) {
	b.WriteByte('(')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if d == DialectSQLite {
			b.WriteByte('?')
		} else {
			fmt.Fprintf(b, "$%d", k+i+1)
		}
	}
	b.WriteByte(')')
}

// rebuildSuffix names the tables a rebuild fills beside the live ones.
const rebuildSuffix = "_rebuild"
