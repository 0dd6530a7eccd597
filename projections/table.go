package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/reso-fr/reso/sqldb"
)

// Table is one read-model table. DDL and Indexes use {T} for the table's
// name (live or rebuild) and {I} as the prefix of index names, which are
// those of the live table (a rebuild builds its indexes after the load,
// which is faster than maintaining them during it; see rebuildIndexes and
// altIndexSuffix). DDL types the ids of the largest tables {U} (see
// uuidType) and other identifier and code columns {K} (see keyType).
// Every statement is CREATE ... IF NOT EXISTS.
type Table struct {
	Name    string
	DDL     string
	Indexes []string
}

// keyType is the type of the columns holding ids and codes (UUIDs, INSEE
// codes, statuses), except the ids typed {U} (uuidType): on PostgreSQL,
// text compared byte by byte (COLLATE "C"). Under a libc locale such as
// C.UTF-8 or fr_FR every comparison calls strcoll, and sorting may not use
// abbreviated keys: the primary keys filled by COPY and the indexes a
// rebuild builds cost up to twice as much (docs/benchmarks.md). These
// columns are only compared for equality, ranges of one code, or the
// keyset order of ids, all of which byte order serves; names and e-mails
// keep the database's collation. Every read-model table uses it, so that
// joins never mix collations. Tables created before keep their columns
// until their next rebuild.
func keyType(d sqldb.Dialect) string {
	if d == sqldb.Postgres {
		return `TEXT COLLATE "C"`
	}
	return "TEXT"
}

// uuidType is the type of the columns holding the ids of the largest
// tables (needs, matches, statistics states): PostgreSQL's 16-byte UUID
// rather than 36 characters of text makes their rows and indexes smaller
// and their comparisons cheaper (a rebuild loads and indexes them about a
// third faster, docs/benchmarks.md). Both dialects take and give the ids
// as text, so statements and scans are the same.
func uuidType(d sqldb.Dialect) string {
	if d == sqldb.Postgres {
		return "UUID"
	}
	return "TEXT"
}

func (t Table) create(name string, d sqldb.Dialect) string {
	return strings.NewReplacer("{T}", name, "{K}", keyType(d), "{U}", uuidType(d)).Replace(t.DDL)
}

// indexDDLOn returns the statements creating t's indexes on the table
// named target, under their live names, or with alt the other set of names
// SQLite uses (see sqliteAltIndexes).
func (t Table) indexDDLOn(target string, alt bool) []string {
	out := make([]string, len(t.Indexes))
	for i, s := range t.Indexes {
		out[i] = strings.Replace(strings.ReplaceAll(s, "{T}", target), indexName(s), t.indexNameOf(s, alt), 1)
	}
	return out
}

// indexNameOf is the name of the index ddl declares, in the live set or,
// with alt, the other one.
func (t Table) indexNameOf(ddl string, alt bool) string {
	name := strings.ReplaceAll(indexName(ddl), "{I}", "ix_"+t.Name)
	if alt {
		name += altIndexSuffix
	}
	return name
}

// altIndexSuffix marks the second set of index names on SQLite. An index
// there keeps the name it was created with (SQLite cannot rename one), and
// names are unique in the file: a rebuild table gets its indexes, before
// the swap, under the set the live table does not use, and the two sets
// take turns from one rebuild to the next.
const altIndexSuffix = "_b"

// indexName is the name, with {I}, in "CREATE INDEX IF NOT EXISTS {I}_x ON
// {T} (...)": the token after EXISTS.
func indexName(ddl string) string {
	_, rest, _ := strings.Cut(ddl, " EXISTS ")
	name, _, _ := strings.Cut(rest, " ")
	return name
}

// dropIndexes returns the statements dropping the live table's secondary
// indexes, under either set of names.
func (t Table) dropIndexes() []string {
	var out []string
	for _, s := range t.Indexes {
		out = append(out, "DROP INDEX IF EXISTS "+t.indexNameOf(s, false))
		out = append(out, "DROP INDEX IF EXISTS "+t.indexNameOf(s, true))
	}
	return out
}

// sqliteAltIndexes reports whether the live table t holds its indexes
// under the second set of names (altIndexSuffix). It returns the database
// error.
func sqliteAltIndexes(ctx context.Context, q querier, t Table) (bool, error) {
	if len(t.Indexes) == 0 {
		return false, nil
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = $1 AND tbl_name = $2`,
		t.indexNameOf(t.Indexes[0], true), t.Name).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up the indexes of %s: %w", t.Name, err)
	}
	return n > 0, nil
}

// querier runs a query returning one row (*sql.DB, *sql.Conn, *sql.Tx).
type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// liveIndexDDL returns the statements creating t's missing indexes on the
// live table, under the set of names it uses. It returns the database
// error.
func liveIndexDDL(ctx context.Context, q querier, d sqldb.Dialect, t Table) ([]string, error) {
	alt := false
	if d == sqldb.SQLite {
		var err error
		if alt, err = sqliteAltIndexes(ctx, q, t); err != nil {
			return nil, err
		}
	}
	return t.indexDDLOn(t.Name, alt), nil
}

// rebuildIndexes returns the statements creating the indexes on the
// rebuild table under temporary names, and for each the statement giving
// it its live name once the live table (and its indexes) is dropped.
// PostgreSQL only: SQLite cannot rename an index.
func (t Table) rebuildIndexes() (create, rename []string) {
	for _, s := range t.Indexes {
		name := indexName(s)
		tmp := strings.ReplaceAll(name, "{I}", "ix_"+t.Name+rebuildSuffix)
		live := strings.ReplaceAll(name, "{I}", "ix_"+t.Name)
		create = append(create, strings.NewReplacer("{T}", t.Name+rebuildSuffix, "{I}", "ix_"+t.Name+rebuildSuffix).Replace(s))
		rename = append(rename, "ALTER INDEX "+tmp+" RENAME TO "+live)
	}
	return create, rename
}
