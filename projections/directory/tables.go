package directory

import "github.com/reso-fr/reso/projections"

// tables are the directory read model's.
var tables = []projections.Table{
	{Name: "dir_organisations", DDL: `CREATE TABLE IF NOT EXISTS {T} (
	id         {K} PRIMARY KEY,
	name       TEXT NOT NULL,
	kind       {K} NOT NULL,
	created_at BIGINT NOT NULL
)`},
	{Name: "dir_antennes", DDL: `CREATE TABLE IF NOT EXISTS {T} (
	id              {K} PRIMARY KEY,
	organisation_id {K} NOT NULL,
	name            TEXT NOT NULL,
	zone_level      {K} NOT NULL,
	zone_code       {K} NOT NULL
)`, Indexes: []string{`CREATE INDEX IF NOT EXISTS {I}_org ON {T} (organisation_id)`}},
	{Name: "dir_referents", DDL: `CREATE TABLE IF NOT EXISTS {T} (
	id              {K} PRIMARY KEY,
	organisation_id {K} NOT NULL,
	antenne_id      {K} NOT NULL,
	name            TEXT NOT NULL,
	email           TEXT NOT NULL,
	subjects        TEXT NOT NULL,
	zones           TEXT NOT NULL,
	active          INTEGER NOT NULL
)`, Indexes: []string{`CREATE INDEX IF NOT EXISTS {I}_org ON {T} (organisation_id)`}},
	{Name: "dir_users", DDL: `CREATE TABLE IF NOT EXISTS {T} (
	id              {K} PRIMARY KEY,
	name            TEXT NOT NULL,
	email           TEXT NOT NULL,
	role            {K} NOT NULL,
	organisation_id {K} NOT NULL,
	referent_id     {K} NOT NULL,
	territories     TEXT NOT NULL
)`},
}
