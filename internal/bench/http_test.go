package bench

import (
	"context"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/testwait"
)

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

// TestRunHTTPSmoke runs the whole HTTP benchmark, tiny, on PostgreSQL.
func TestRunHTTPSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and seeds a database")
	}
	// The bench makes its own bench_ schema on the server of that URL.
	dsn := pgtest.MustSchema(t)
	// Each phase lasts a second, five under -race: a request still running
	// at its phase's end is not counted, and on a loaded machine one stats
	// query could take all of a shorter phase, leaving nothing to check.
	rep, err := RunHTTP(context.Background(), HTTPConfig{DSN: dsn, Duration: testwait.Scale(time.Second), Clients: 2, Needs: 300, Progress: io.Discard, IdempotencyKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.SeededEvents < 300 || rep.Commands.Requests == 0 || rep.GetNeed.Requests == 0 || rep.Stats.Requests == 0 || rep.StatsRows == 0 {
		t.Fatalf("report %+v", rep)
	}
	if rep.Commands.Errors != 0 || rep.GetNeed.Errors != 0 || rep.Stats.Errors != 0 {
		t.Fatalf("errors in %+v", rep)
	}
}
