package projections_test

import (
	"context"
	"testing"

	"github.com/reso-fr/reso/internal/simulate"
	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
)

// A database of the earlier layout (histograms as rows of stats_hours) is
// sent back to the start on Migrate: its statistics tables are dropped and
// the stats checkpoint cleared, so that the runner refolds every need.
func TestMigrateReplacesEarlierStatsLayout(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{})
			for _, q := range []string{
				`CREATE TABLE stats_hours (month TEXT, bucket INTEGER, n BIGINT)`,
				`DROP TABLE stats_cells`,
				`CREATE TABLE stats_cells (month TEXT, needs BIGINT)`,
				`UPDATE projection_checkpoints SET position='0000000000000001-0000000000000001' WHERE name='stats'`,
			} {
				if _, err := b.DB.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := b.DB.Exec(`SELECT 1 FROM stats_hours`); err == nil {
				t.Error("stats_hours survived the migration")
			}
			if _, err := b.DB.Exec(`SELECT layer, hist FROM stats_cells`); err != nil {
				t.Errorf("stats_cells of the new layout: %v", err)
			}
			var pos string
			if err := b.DB.QueryRow(`SELECT position FROM projection_checkpoints WHERE name='stats'`).Scan(&pos); err != nil || pos != "" {
				t.Errorf("stats checkpoint = %q, %v; want it cleared", pos, err)
			}
			if err := e.Migrate(context.Background()); err != nil {
				t.Fatalf("second migration: %v", err)
			}
		})
	}
}

// A stats_needs of earlier versions (states as JSON in a TEXT column) gets
// a BYTEA column on Migrate with its states kept byte for byte (the JSON
// form still decodes: TestStatsStateReadsEarlierJSON).
func TestMigrateKeepsJSONStatsStates(t *testing.T) {
	t.Parallel()
	b := pt.MustBackend(t, "postgres")
	e := pt.MustEngine(t, b, readmodels.Options{})
	const state = `{"id":"0190f3a2-0000-7000-8000-000000000001","departement":"59","region":"32","subject":"recruitment","captured_at":1700000000000000,"version":1}`
	for _, q := range []string{
		`ALTER TABLE stats_needs ALTER COLUMN state TYPE TEXT`,
		`INSERT INTO stats_needs (id, state) VALUES ('0190f3a2-0000-7000-8000-000000000001', '` + state + `')`,
	} {
		if _, err := b.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // idempotent
		if err := e.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var typ string
	var got []byte
	if err := b.DB.QueryRow(`SELECT pg_typeof(state)::text, state FROM stats_needs`).Scan(&typ, &got); err != nil {
		t.Fatal(err)
	}
	if typ != "bytea" || string(got) != state {
		t.Fatalf("after Migrate: %s %q, want bytea %q", typ, got, state)
	}
}

// Tables of earlier versions hold the ids of needs, matches and
// statistics states as TEXT: Migrate turns them into UUID columns with
// their rows unchanged, and the runners go on writing into them.
func TestMigrateTypesIDColumns(t *testing.T) {
	t.Parallel()
	b := pt.MustBackend(t, "postgres")
	e := pt.MustEngine(t, b, readmodels.Options{})
	stop := pt.MustRun(t, e)
	res := pt.MustSimulate(t, b.Store, simulate.Options{Seed: 3, Months: 2, NeedsPerMonth: 30, Writers: 2})
	pt.MustWait(t, e, res.Last)
	stop()
	before := pt.MustDump(t, b.DB)
	for _, q := range []string{
		`ALTER TABLE needs ALTER COLUMN id TYPE TEXT, ALTER COLUMN advisor_id TYPE TEXT`,
		`ALTER TABLE matches ALTER COLUMN need_id TYPE TEXT, ALTER COLUMN referent_id TYPE TEXT, ALTER COLUMN organisation_id TYPE TEXT`,
		`ALTER TABLE stats_needs ALTER COLUMN id TYPE TEXT`,
	} {
		if _, err := b.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	e = pt.MustEngine(t, b, readmodels.Options{}) // migrates
	var text int
	if err := b.DB.QueryRow(`SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()
		AND table_name IN ('needs', 'matches', 'stats_needs') AND column_name LIKE '%id' AND data_type <> 'uuid'
		AND column_name <> 'contact_key_id'`).Scan(&text); err != nil {
		t.Fatal(err)
	}
	if text != 0 {
		t.Fatalf("%d id columns are not UUID after Migrate", text)
	}
	pt.MustEqualDumps(t, before, pt.MustDump(t, b.DB))
	pt.MustRun(t, e)
	more := pt.MustSimulate(t, b.Store, simulate.Options{Seed: 4, Months: 1, NeedsPerMonth: 20, Writers: 2})
	pt.MustWait(t, e, more.Last)
	pt.MustMatchRebuild(t, e, b.DB)
}

// needs of earlier versions kept each need's state as JSON in a state
// column: Migrate drops it (the columns and matches hold the state), on
// both pt.Backends, and a second Migrate finds nothing to do.
func TestMigrateDropsNeedsStateColumn(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{})
			if _, err := b.DB.Exec(`ALTER TABLE needs ADD COLUMN state TEXT NOT NULL DEFAULT '{}'`); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := e.Migrate(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := b.DB.Exec(`SELECT state FROM needs`); err == nil {
				t.Fatal("needs.state survived the migration")
			}
		})
	}
}
