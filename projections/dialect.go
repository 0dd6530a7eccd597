package projections

import (
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/sqldb"
)

// IDArg is the value an id column typed {U} (uuidType) takes: on
// PostgreSQL its 16 bytes, which pgx writes as they are (a string, or a
// uuid.UUID through its driver.Valuer, is formatted or parsed for every
// row: COPY of 100,000 rows 35 ms against 170–200 ms); SQLite's TEXT
// column takes the text.
func IDArg(d sqldb.Dialect, id uuid.UUID) any {
	if d == sqldb.Postgres {
		return [16]byte(id)
	}
	return id.String()
}

// Placeholders writes "($k+1, ..., $k+n)" for one row of n columns whose
// first parameter is number k+1. Both dialects accept $N, but SQLite
// resolves numbered parameters in time quadratic in their count, which
// dominates multi-row statements: there they are plain "?" (positional).
func Placeholders(b *strings.Builder, d sqldb.Dialect, k, n int) {
	b.WriteByte('(')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if d == sqldb.SQLite {
			b.WriteByte('?')
		} else {
			fmt.Fprintf(b, "$%d", k+i+1)
		}
	}
	b.WriteByte(')')
}

// rebuildSuffix names the tables a rebuild fills beside the live ones.
const rebuildSuffix = "_rebuild"
