package projections

import (
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

// placeholders returns "($k+1, ..., $k+n)" for one row of n columns whose
// first parameter is number k+1: both dialects accept $N.
func placeholders(b *strings.Builder, k, n int) {
	b.WriteByte('(')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(b, "$%d", k+i+1)
	}
	b.WriteByte(')')
}

// rebuildSuffix names the tables a rebuild fills beside the live ones.
const rebuildSuffix = "_rebuild"
