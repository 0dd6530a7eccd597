package needs

import "github.com/reso-fr/reso/projections"

// tables are the needs read model's: needs and matches.
var tables = []projections.Table{
	{Name: "needs", DDL: `CREATE TABLE IF NOT EXISTS {T} (
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
)`, Indexes: []string{
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
	{Name: "matches", DDL: `CREATE TABLE IF NOT EXISTS {T} (
	need_id         {U} NOT NULL,
	referent_id     {U} NOT NULL,
	organisation_id {U} NOT NULL,
	status          {K} NOT NULL,
	sent_at         BIGINT NOT NULL,
	taken_at        BIGINT NOT NULL,
	closed_at       BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
	handled_elsewhere INTEGER NOT NULL,
	PRIMARY KEY (need_id, referent_id)
)`, Indexes: []string{
		`CREATE INDEX IF NOT EXISTS {I}_inbox ON {T} (referent_id, status, sent_at, need_id)`,
	}},
}
