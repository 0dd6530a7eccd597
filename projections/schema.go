package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// table is one read-model table. DDL and index statements use {T} for the
// table's name (live or rebuild) and {I} as the prefix of index names, which
// are always those of the live table: a rebuild table gets its indexes only
// when it is swapped in, and bulk loading without them is faster. DDL types
// the ids of the largest tables {U} (see uuidType) and other identifier and
// code columns {K} (see keyType).
type table struct {
	name    string
	ddl     string
	indexes []string
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
func keyType(d Dialect) string {
	if d == DialectPostgres {
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
func uuidType(d Dialect) string {
	if d == DialectPostgres {
		return "UUID"
	}
	return "TEXT"
}

func (t table) create(name string, d Dialect) string {
	return strings.NewReplacer("{T}", name, "{K}", keyType(d), "{U}", uuidType(d)).Replace(t.ddl)
}

// indexDDLOn returns the statements creating t's indexes on the table
// named target, under their live names, or with alt the other set of names
// SQLite uses (see sqliteAltIndexes).
func (t table) indexDDLOn(target string, alt bool) []string {
	out := make([]string, len(t.indexes))
	for i, s := range t.indexes {
		out[i] = strings.Replace(strings.ReplaceAll(s, "{T}", target), indexName(s), t.indexNameOf(s, alt), 1)
	}
	return out
}

// indexNameOf is the name of the index ddl declares, in the live set or,
// with alt, the other one.
func (t table) indexNameOf(ddl string, alt bool) string {
	name := strings.ReplaceAll(indexName(ddl), "{I}", "ix_"+t.name)
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
func (t table) dropIndexes() []string {
	var out []string
	for _, s := range t.indexes {
		out = append(out, "DROP INDEX IF EXISTS "+t.indexNameOf(s, false))
		out = append(out, "DROP INDEX IF EXISTS "+t.indexNameOf(s, true))
	}
	return out
}

// sqliteAltIndexes reports whether the live table t holds its indexes
// under the second set of names (altIndexSuffix). It returns the database
// error.
func sqliteAltIndexes(ctx context.Context, q querier, t table) (bool, error) {
	if len(t.indexes) == 0 {
		return false, nil
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = $1 AND tbl_name = $2`,
		t.indexNameOf(t.indexes[0], true), t.name).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up the indexes of %s: %w", t.name, err)
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
func liveIndexDDL(ctx context.Context, q querier, d Dialect, t table) ([]string, error) {
	alt := false
	if d == DialectSQLite {
		var err error
		if alt, err = sqliteAltIndexes(ctx, q, t); err != nil {
			return nil, err
		}
	}
	return t.indexDDLOn(t.name, alt), nil
}

// rebuildIndexes returns the statements creating the indexes on the
// rebuild table under temporary names, and for each the statement giving
// it its live name once the live table (and its indexes) is dropped.
// PostgreSQL only: SQLite cannot rename an index.
func (t table) rebuildIndexes() (create, rename []string) {
	for _, s := range t.indexes {
		name := indexName(s)
		tmp := strings.ReplaceAll(name, "{I}", "ix_"+t.name+rebuildSuffix)
		live := strings.ReplaceAll(name, "{I}", "ix_"+t.name)
		create = append(create, strings.NewReplacer("{T}", t.name+rebuildSuffix, "{I}", "ix_"+t.name+rebuildSuffix).Replace(s))
		rename = append(rename, "ALTER INDEX "+tmp+" RENAME TO "+live)
	}
	return create, rename
}

// Times are stored as microseconds since the Unix epoch (UTC) in BIGINT
// columns, 0 when unset, and booleans as 0/1 INTEGER: both dialects then
// share every statement and compare the same way.
const checkpointDDL = `CREATE TABLE IF NOT EXISTS projection_checkpoints (
	name       TEXT PRIMARY KEY,
	position   TEXT NOT NULL,
	generation BIGINT NOT NULL DEFAULT 0,
	updated_at BIGINT NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
)`

var directoryTables = []table{
	{name: "dir_organisations", ddl: `CREATE TABLE IF NOT EXISTS {T} (
	id         {K} PRIMARY KEY,
	name       TEXT NOT NULL,
	kind       {K} NOT NULL,
	created_at BIGINT NOT NULL
)`},
	{name: "dir_antennes", ddl: `CREATE TABLE IF NOT EXISTS {T} (
	id              {K} PRIMARY KEY,
	organisation_id {K} NOT NULL,
	name            TEXT NOT NULL,
	zone_level      {K} NOT NULL,
	zone_code       {K} NOT NULL
)`, indexes: []string{`CREATE INDEX IF NOT EXISTS {I}_org ON {T} (organisation_id)`}},
	{name: "dir_referents", ddl: `CREATE TABLE IF NOT EXISTS {T} (
	id              {K} PRIMARY KEY,
	organisation_id {K} NOT NULL,
	antenne_id      {K} NOT NULL,
	name            TEXT NOT NULL,
	email           TEXT NOT NULL,
	subjects        TEXT NOT NULL,
	zones           TEXT NOT NULL,
	active          INTEGER NOT NULL
)`, indexes: []string{`CREATE INDEX IF NOT EXISTS {I}_org ON {T} (organisation_id)`}},
	{name: "dir_users", ddl: `CREATE TABLE IF NOT EXISTS {T} (
	id              {K} PRIMARY KEY,
	name            TEXT NOT NULL,
	email           TEXT NOT NULL,
	role            {K} NOT NULL,
	organisation_id {K} NOT NULL,
	referent_id     {K} NOT NULL,
	territories     TEXT NOT NULL
)`},
}

var needsTables = []table{
	{name: "needs", ddl: `CREATE TABLE IF NOT EXISTS {T} (
	id                 {U} PRIMARY KEY,
	siret              {K} NOT NULL,
	company_name       TEXT NOT NULL,
	commune            {K} NOT NULL,
	epci               {K} NOT NULL,
	departement        {K} NOT NULL,
	region             {K} NOT NULL,
	subject            {K} NOT NULL,
	theme              {K} NOT NULL,
	advisor_id         {U} NOT NULL,
	status             {K} NOT NULL,
	captured_at        BIGINT NOT NULL,
	forwarded_at       BIGINT NOT NULL,
	first_taken_at     BIGINT NOT NULL,
	closed_at          BIGINT NOT NULL,
	abandoned_at       BIGINT NOT NULL,
	waiting            INTEGER NOT NULL,
	reminders          INTEGER NOT NULL,
	last_reminder      {K} NOT NULL,
	last_reminder_at   BIGINT NOT NULL,
	match_count        INTEGER NOT NULL,
	contact_key_id     {K} NOT NULL,
	contact_erased     INTEGER NOT NULL,
	version            BIGINT NOT NULL
)`, indexes: []string{
		`CREATE INDEX IF NOT EXISTS {I}_captured ON {T} (captured_at, id)`,
		`CREATE INDEX IF NOT EXISTS {I}_status ON {T} (status, captured_at)`,
		`CREATE INDEX IF NOT EXISTS {I}_region ON {T} (region, captured_at)`,
		`CREATE INDEX IF NOT EXISTS {I}_dep ON {T} (departement, captured_at)`,
		`CREATE INDEX IF NOT EXISTS {I}_epci ON {T} (epci, captured_at)`,
		`CREATE INDEX IF NOT EXISTS {I}_commune ON {T} (commune, captured_at)`,
		`CREATE INDEX IF NOT EXISTS {I}_subject ON {T} (subject, captured_at)`,
		`CREATE INDEX IF NOT EXISTS {I}_advisor ON {T} (advisor_id, captured_at)`,
		// Reminder baskets select waiting needs only (waiting=1): the
		// others, most of the table, need no entry.
		`CREATE INDEX IF NOT EXISTS {I}_waiting ON {T} (forwarded_at) WHERE waiting = 1`,
	}},
	{name: "matches", ddl: `CREATE TABLE IF NOT EXISTS {T} (
	need_id         {U} NOT NULL,
	referent_id     {U} NOT NULL,
	organisation_id {U} NOT NULL,
	status          {K} NOT NULL,
	sent_at         BIGINT NOT NULL,
	taken_at        BIGINT NOT NULL,
	closed_at       BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
	PRIMARY KEY (need_id, referent_id)
)`, indexes: []string{
		`CREATE INDEX IF NOT EXISTS {I}_inbox ON {T} (referent_id, status, sent_at, need_id)`,
	}},
}

// migrate creates the checkpoint table and every projection's live tables
// with their indexes, and a checkpoint row per projection. It is idempotent.
func migrate(ctx context.Context, db *sql.DB, d Dialect, projs []projection) error {
	if err := upgradeStatsLayout(ctx, db, d); err != nil {
		return err
	}
	if err := upgradeNeedsLayout(ctx, db, d); err != nil {
		return err
	}
	if err := upgradeStatsState(ctx, db, d); err != nil {
		return err
	}
	if err := upgradeIDColumns(ctx, db, d); err != nil {
		return err
	}
	exec := func(stmts ...string) error {
		for _, s := range stmts {
			if _, err := db.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("migrate read models: %w", err)
			}
		}
		return nil
	}
	if err := exec(checkpointDDL); err != nil {
		return err
	}
	for _, p := range projs {
		for _, t := range p.tables() {
			if err := exec(t.create(t.name, d)); err != nil {
				return err
			}
			if d == DialectSQLite {
				// A process that died between a swap and dropOld left the
				// replaced table, which holds index names the next rebuild
				// needs.
				if err := exec(`DROP TABLE IF EXISTS ` + t.name + oldSuffix); err != nil {
					return err
				}
			}
			indexes, err := liveIndexDDL(ctx, db, d, t)
			if err != nil {
				return fmt.Errorf("migrate read models: %w", err)
			}
			if err := exec(indexes...); err != nil {
				return err
			}
		}
	}
	for _, p := range projs {
		if _, err := db.ExecContext(ctx,
			`INSERT INTO projection_checkpoints (name, position) VALUES ($1, '') ON CONFLICT (name) DO NOTHING`,
			p.name()); err != nil {
			return fmt.Errorf("migrate checkpoint of %s: %w", p.name(), err)
		}
	}
	return nil
}

// idColumns are the columns typed {U}, by table.
var idColumns = map[string][]string{
	"needs":       {"id", "advisor_id"},
	"matches":     {"need_id", "referent_id", "organisation_id"},
	"stats_needs": {"id"},
}

// upgradeIDColumns gives, on PostgreSQL, the UUID type to the id columns
// that tables created by earlier versions hold as TEXT, one rewrite per
// table: the projections write those ids as 16 bytes (Dialect.idArg),
// which a TEXT column would not take. It returns the database error.
func upgradeIDColumns(ctx context.Context, db *sql.DB, d Dialect) error {
	if d != DialectPostgres {
		return nil
	}
	for _, table := range []string{"needs", "matches", "stats_needs"} {
		var alters []string
		for _, col := range idColumns[table] {
			typ, err := columnType(ctx, db, d, table, col)
			if err != nil {
				return fmt.Errorf("upgrade %s: %w", table, err)
			}
			if typ == "text" {
				alters = append(alters, fmt.Sprintf("ALTER COLUMN %s TYPE UUID USING %s::uuid", col, col))
			}
		}
		if len(alters) == 0 {
			continue
		}
		if _, err := db.ExecContext(ctx, "ALTER TABLE "+table+" "+strings.Join(alters, ", ")); err != nil {
			return fmt.Errorf("upgrade %s: %w", table, err)
		}
	}
	return nil
}

// columnType returns the type of table.column as the database names it
// (PostgreSQL's information_schema data_type, SQLite's declared type), or
// "" when the table or the column does not exist: Migrate's upgrades look
// before they touch, rather than run a statement that fails (and leaves
// an ERROR in the server's log at every start).
func columnType(ctx context.Context, db *sql.DB, d Dialect, table, column string) (string, error) {
	q := `SELECT data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`
	if d == DialectSQLite {
		q = `SELECT type FROM pragma_table_info($1) WHERE name = $2`
	}
	var typ string
	err := db.QueryRowContext(ctx, q, table, column).Scan(&typ)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up %s.%s: %w", table, column, err)
	}
	return typ, nil
}
