package projections

import (
	"database/sql"
	"fmt"
	"strings"
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

// placeholders writes "($k+1, ..., $k+n)" for one row of n columns whose
// first parameter is number k+1. Both dialects accept $N, but SQLite
// resolves numbered parameters in time quadratic in their count, which
// dominates multi-row statements: there they are plain "?" (positional).
func (d Dialect) placeholders(b *strings.Builder, k, n int) {
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

// txn is a transaction with its dialect.
type txn struct {
	*sql.Tx
	d Dialect
}

// rebuildSuffix names the tables a rebuild fills beside the live ones.
const rebuildSuffix = "_rebuild"
