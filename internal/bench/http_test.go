package bench

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/pgschema"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/testwait"
)

// TestMain lets the smoke test start this test binary as its load
// generator, as reso-bench starts itself.
func TestMain(m *testing.M) {
	if os.Getenv(HTTPClientEnv) == "1" {
		os.Exit(HTTPClientFromEnv(context.Background(), os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestBenchSIRET(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		s := benchSIRET(rng)
		if _, err := domain.ParseSIRET(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestSimulatedNeedFolds(t *testing.T) {
	t.Parallel()
	geo := domain.DefaultGeography()
	communes := geo.CommunesIn(domain.Zone{Level: domain.LevelRegion, Code: "32"})
	d := &httpDirectory{referents: []uuid.UUID{uuid.New()}, referentOrg: []uuid.UUID{uuid.New()}, advisors: []uuid.UUID{uuid.New()}}
	rng := rand.New(rand.NewPCG(3, 4))
	now := time.Now().UTC()
	statuses := map[domain.NeedStatus]int{}
	for range 300 {
		b, err := simulatedNeed(rng, geo, communes, domain.Subjects(), d, now)
		if err != nil {
			t.Fatal(err)
		}
		_, id, err := domain.ParseStream(b.Stream)
		if err != nil {
			t.Fatal(err)
		}
		n := domain.NewNeed(id)
		for _, ev := range b.Events {
			e, err := domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data)
			if err != nil {
				t.Fatal(err)
			}
			if e.OccurredAt().After(now) {
				t.Fatalf("%s happens in the future", ev.Type)
			}
			if err := n.Apply(e); err != nil {
				t.Fatalf("apply %s: %v", ev.Type, err)
			}
		}
		statuses[n.Status()]++
	}
	// The mix has open, taken and closed needs.
	for _, s := range []domain.NeedStatus{domain.NeedQuo, domain.NeedDone, domain.NeedNotForMe} {
		if statuses[s] == 0 {
			t.Errorf("no need %s in %v", s, statuses)
		}
	}
}

// TestRunHTTPSmoke runs the whole HTTP benchmark, tiny, on PostgreSQL:
// once seeding a kept schema with the load in a child process (this test
// binary, see TestMain), then again on that schema with the load in
// process.
func TestRunHTTPSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and seeds a database")
	}
	// The bench makes its own bench_ schema on the server of that URL.
	dsn := pgtest.MustSchema(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	var autovacuum string
	err = conn.QueryRow(ctx, `SHOW autovacuum`).Scan(&autovacuum)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check := func(rep HTTPReport) {
		t.Helper()
		// Without autovacuum the bench vacuums before measuring; with it,
		// never.
		if vacuumed := rep.VacuumSeconds > 0; vacuumed != (autovacuum == "off") {
			t.Errorf("autovacuum %s, vacuumed %.2f s", autovacuum, rep.VacuumSeconds)
		}
		if rep.SeededEvents < 2000 || rep.Commands.Requests == 0 || rep.GetNeed.Requests == 0 || rep.Stats.Requests == 0 || rep.StatsRows == 0 {
			t.Fatalf("report %+v", rep)
		}
		if rep.Commands.Errors != 0 || rep.GetNeed.Errors != 0 || rep.Stats.Errors != 0 {
			t.Fatalf("errors in %+v", rep)
		}
		if rep.Commands.ProcessCPUMs <= 0 {
			t.Fatalf("no server CPU measured in %+v", rep.Commands)
		}
	}
	// Phases of two seconds, ten under -race: a request still running at
	// its phase's end is not counted, and on a loaded machine one stats
	// query could take all of a shorter phase, leaving nothing to check.
	var progress strings.Builder
	rep, err := RunHTTP(ctx, HTTPConfig{DSN: dsn, Duration: testwait.Scale(2 * time.Second), Clients: 2, Needs: 2000, Progress: &progress,
		IdempotencyKeys: true, Keep: true, ClientCommand: []string{os.Args[0]}})
	if err != nil {
		t.Fatal(err)
	}
	check(rep)
	if rep.Commands.ClientCPUMs <= 0 || rep.GetNeed.ClientCPUMs <= 0 {
		t.Errorf("no load process CPU measured: commands %+v, GET need %+v", rep.Commands, rep.GetNeed)
	}
	schema := strings.Fields(strings.SplitN(progress.String(), "\n", 2)[0])[1]
	t.Cleanup(func() { _ = pgschema.Drop(context.Background(), dsn, schema) })
	organisations := func() int {
		t.Helper()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, "dir_organisations"}.Sanitize()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := organisations()
	again, err := RunHTTP(ctx, HTTPConfig{DSN: dsn, Duration: testwait.Scale(2 * time.Second), Clients: 2, Progress: io.Discard, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	check(again)
	// The second run counts the first's needs, its command phase's too.
	if again.SeededNeeds <= 2000 || again.SeedSeconds != 0 {
		t.Fatalf("reused schema: %d needs, seeded in %.2f s", again.SeededNeeds, again.SeedSeconds)
	}
	// and works with the first's directory: a log's statistics by
	// organisation do not grow with the runs made on it.
	if after := organisations(); before == 0 || after != before {
		t.Fatalf("reused schema: %d organisations after the first run, %d after the second", before, after)
	}
}
