package projections_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/internal/testwait"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/directory"
	"github.com/reso-fr/reso/projections/needs"
	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
	"github.com/reso-fr/reso/projections/signaux"
	"github.com/reso-fr/reso/projections/stats"
)

// versions are the schema versions of Réso's read models.
var versions = map[string]int{directory.Name: directory.Version, needs.Name: needs.Version, stats.Name: stats.Version,
	signaux.Name: signaux.Version}

// schemaVersions reads the schema version of every checkpoint.
func schemaVersions(t *testing.T, b pt.Backend) map[string]int {
	t.Helper()
	rows, err := b.DB.Query(`SELECT name, schema_version FROM projection_checkpoints`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var n string
		var v int
		if err := rows.Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		out[n] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// An installation made before read models had schema versions (no
// projections_migrations, checkpoints without schema_version) and holding
// tables of earlier layouts (needs with the JSON state column it kept, the
// statistics' stats_hours, on PostgreSQL ids as TEXT) is upgraded by
// rebuilding, not by altering: Migrate leaves its tables as they are and
// they answer queries; Run rebuilds every read model beside them and swaps
// the new ones in, at the current versions, equal row for row to those of
// a deployment built by this version; the runners then go on.
func TestOldInstallationIsRebuiltToCurrentSchema(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := pt.MustBackend(t, name)
			res := pt.MustSimulate(t, b.Store, simulate.Options{Seed: 6, Months: 2, NeedsPerMonth: 40, Writers: 2})
			current := pt.MustEngine(t, b, readmodels.Options{})
			stop := pt.MustRun(t, current)
			pt.MustWait(t, current, res.Last)
			stop()
			want := pt.MustDump(t, b.DB)

			old := []string{
				`DROP TABLE projections_migrations`,
				`ALTER TABLE projection_checkpoints DROP COLUMN schema_version`,
				`ALTER TABLE needs ADD COLUMN state TEXT NOT NULL DEFAULT '{}'`,
				`CREATE TABLE stats_hours (month TEXT, bucket INTEGER, n BIGINT)`,
			}
			if name == "postgres" {
				old = append(old,
					`ALTER TABLE needs ALTER COLUMN id TYPE TEXT, ALTER COLUMN advisor_id TYPE TEXT`,
					`ALTER TABLE matches ALTER COLUMN need_id TYPE TEXT, ALTER COLUMN referent_id TYPE TEXT, ALTER COLUMN organisation_id TYPE TEXT`,
					`ALTER TABLE stats_needs ALTER COLUMN id TYPE TEXT`)
			}
			for _, q := range old {
				if _, err := b.DB.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}

			e := pt.MustEngine(t, b, readmodels.Options{}) // migrates
			for n, v := range schemaVersions(t, b) {
				if v != 0 {
					t.Fatalf("after Migrate, %s has schema version %d, want 0 (built before versions)", n, v)
				}
			}
			if _, err := b.DB.Exec(`SELECT state FROM needs`); err != nil {
				t.Fatalf("Migrate altered the old needs table: %v", err)
			}
			page, err := e.ListNeeds(ctx, needs.NeedFilter{Limit: 5})
			if err != nil || len(page.Items) == 0 {
				t.Fatalf("the old tables do not answer before the upgrade: %d needs, %v", len(page.Items), err)
			}

			pt.MustRun(t, e)
			testwait.MustEventually(t, 60*time.Second, func() error {
				if got := schemaVersions(t, b); !equalVersions(got) {
					st, _ := e.Status(ctx)
					return fmt.Errorf("schema versions %v, want %v (status %+v)", got, versions, st)
				}
				return nil
			})
			pt.MustWait(t, e, res.Last)
			pt.MustEqualDumps(t, want, pt.MustDump(t, b.DB))
			for _, q := range []string{`SELECT 1 FROM stats_hours`, `SELECT state FROM needs`} {
				if _, err := b.DB.Exec(q); err == nil {
					t.Errorf("%s: the old layout survived the upgrade", q)
				}
			}
			if name == "postgres" {
				var text int
				if err := b.DB.QueryRow(`SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()
					AND table_name IN ('needs', 'matches', 'stats_needs') AND column_name LIKE '%id' AND data_type <> 'uuid'
					AND column_name <> 'contact_key_id'`).Scan(&text); err != nil {
					t.Fatal(err)
				}
				if text != 0 {
					t.Errorf("%d id columns are not UUID after the upgrade", text)
				}
			}
			more := pt.MustSimulate(t, b.Store, simulate.Options{Seed: 8, Months: 1, NeedsPerMonth: 20, Writers: 2})
			pt.MustWait(t, e, more.Last)
			pt.MustMatchRebuild(t, e, b.DB)
		})
	}
}

func equalVersions(got map[string]int) bool {
	for n, v := range versions {
		if got[n] != v {
			return false
		}
	}
	return len(got) == len(versions)
}

// Tables a newer version built are left alone: their runner fails, saying
// so, and the others run.
func TestNewerSchemaStopsItsRunner(t *testing.T) {
	t.Parallel()
	b := pt.MustSQLite(t)
	e := pt.MustEngine(t, b, readmodels.Options{})
	if _, err := b.DB.Exec(`UPDATE projection_checkpoints SET schema_version = 99 WHERE name = 'stats'`); err != nil {
		t.Fatal(err)
	}
	pt.MustRun(t, e)
	testwait.MustEventually(t, 10*time.Second, func() error {
		sts, err := e.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		states := map[string]projections.Status{}
		for _, s := range sts {
			states[s.Name] = s
		}
		st := states[stats.Name]
		if st.State == projections.StateFailed && strings.Contains(st.LastError, "schema version 99, newer") &&
			states[needs.Name].State == projections.StateRunning {
			return nil
		}
		return fmt.Errorf("states %+v, want stats failed on its newer schema and needs running", sts)
	})
	if v := schemaVersions(t, b)[stats.Name]; v != 99 {
		t.Fatalf("the newer tables' version became %d", v)
	}
}
