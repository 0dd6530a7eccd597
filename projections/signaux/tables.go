package signaux

import "github.com/reso-fr/reso/projections"

// tables are the Signaux Faibles read model's: every import of every list
// (sf_imports, numbered in log order by seq), their lines (sf_lines), the
// needs and their SIRENs (sf_needs), the needs of the companies the list
// that applies names (sf_need_flags), and, per SIREN of a need, when Réso
// last met the company (sf_companies).
var tables = []projections.Table{
	{Name: "sf_imports", DDL: `CREATE TABLE IF NOT EXISTS {T} (
	seq            BIGINT PRIMARY KEY,
	import_id      {K} NOT NULL,
	list_id        {K} NOT NULL,
	period         {K} NOT NULL,
	label          TEXT NOT NULL,
	stream_version BIGINT NOT NULL,
	imported_at    BIGINT NOT NULL,
	imported_by    {K} NOT NULL,
	lines          INTEGER NOT NULL,
	f1             INTEGER NOT NULL,
	f2             INTEGER NOT NULL,
	parts          INTEGER NOT NULL,
	parts_seen     INTEGER NOT NULL,
	digest         {K} NOT NULL
)`},
	// A line's place comes from its commune code (empty when the list
	// gives none or the geography does not know it).
	{Name: "sf_lines", DDL: `CREATE TABLE IF NOT EXISTS {T} (
	seq         BIGINT NOT NULL,
	siren       {K} NOT NULL,
	alert       {K} NOT NULL,
	score       DOUBLE PRECISION NOT NULL,
	algo        TEXT NOT NULL,
	batch       TEXT NOT NULL,
	commune     {K} NOT NULL,
	epci        {K} NOT NULL,
	departement {K} NOT NULL,
	region      {K} NOT NULL,
	PRIMARY KEY (seq, siren)
)`, Indexes: []string{
		// The companies to visit, in the order they are listed.
		`CREATE INDEX IF NOT EXISTS {I}_order ON {T} (seq, alert, score DESC, siren)`,
	}},
	// The needs of each company, for the flags below.
	{Name: "sf_needs", DDL: `CREATE TABLE IF NOT EXISTS {T} (
	need_id     {U} PRIMARY KEY,
	siren       {K} NOT NULL,
	captured_at BIGINT NOT NULL
)`, Indexes: []string{`CREATE INDEX IF NOT EXISTS {I}_siren ON {T} (siren)`}},
	// The needs whose company the list that applies names (import
	// sf_seq), with its alert and score: what the needs read model joins
	// to filter needs by alert and to show the flags of a page
	// (projections/needs, SFJoin). Its columns are prefixed so that the
	// conditions on needs stay unqualified; sf_at is the need's capture
	// instant, so that a filtered page is read in capture order from this
	// table, bounded by the needs of alerted companies rather than by all
	// needs or all lines.
	{Name: "sf_need_flags", DDL: `CREATE TABLE IF NOT EXISTS {T} (
	sf_need  {U} PRIMARY KEY,
	sf_seq   BIGINT NOT NULL,
	sf_alert {K} NOT NULL,
	sf_score DOUBLE PRECISION NOT NULL,
	sf_at    BIGINT NOT NULL
)`, Indexes: []string{`CREATE INDEX IF NOT EXISTS {I}_at ON {T} (sf_seq, sf_at, sf_need)`}},
	{Name: "sf_companies", DDL: `CREATE TABLE IF NOT EXISTS {T} (
	siren        {K} PRIMARY KEY,
	needs        INTEGER NOT NULL,
	last_need_at BIGINT NOT NULL,
	company_name TEXT NOT NULL,
	commune      {K} NOT NULL,
	epci         {K} NOT NULL,
	departement  {K} NOT NULL,
	region       {K} NOT NULL
)`},
}
