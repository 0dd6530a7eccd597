package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/readmodels"
	"github.com/reso-fr/reso/projections/stats"
)

// StatsConfig shapes `reso-bench stats`.
type StatsConfig struct {
	Store string // postgres or sqlite
	// DSN is the PostgreSQL server (a bench_<random> schema is used) or
	// the SQLite file (a temporary one when empty).
	DSN string
	// Needs seeded before measuring (simulated lives, bulk-written).
	Needs int
	// Clients run the queries concurrently for Duration; a Duration of 0
	// seeds and rebuilds only.
	Clients  int
	Duration time.Duration
	// Schema (postgres) reuses a schema kept by an earlier run instead of
	// seeding a new one; Reuse does the same for the SQLite file DSN.
	Schema string
	Reuse  bool
	// Rebuild rebuilds the read models with Engine.RebuildAll before
	// measuring (always done after seeding a new log).
	Rebuild bool
	Keep    bool
	// Progress receives progress lines (nil: none).
	Progress io.Writer
}

// StatsReport is what `reso-bench stats` prints.
type StatsReport struct {
	Store          string  `json:"store"`
	Schema         string  `json:"schema,omitempty"`
	Needs          int     `json:"seeded_needs,omitempty"`
	Events         int64   `json:"seeded_events,omitempty"`
	SeedSeconds    float64 `json:"seed_s,omitempty"`
	RebuildSeconds float64 `json:"rebuild_s,omitempty"`
	Clients        int     `json:"clients"`
	DurationSec    float64 `json:"duration_s"`
	// FirstMs is each query's first run after the rebuild (nothing cached
	// by the engine; the database's own buffers may be warm).
	FirstMs map[string]float64 `json:"first_ms"`
	// Queries holds the latency of each query over the timed phase, and
	// Overall all of them together.
	Queries   []StatsQueryLatency `json:"queries"`
	Overall   Latency             `json:"overall"`
	Errors    int64               `json:"errors"`
	QueriesPS float64             `json:"queries_per_s"`
}

// StatsQueryLatency is one query's latency.
type StatsQueryLatency struct {
	Query   string  `json:"query"`
	Rows    int     `json:"rows"`
	Latency Latency `json:"latency"`
}

// benchStatsQueries are the queries of the HTTP bench's stats phase
// (statsQueries), as the API hands them to the engine.
var benchStatsQueries = []struct {
	name string
	q    stats.StatsQuery
}{
	{"none", stats.StatsQuery{}},
	{"month", stats.StatsQuery{GroupBy: []string{"month"}}},
	{"region", stats.StatsQuery{GroupBy: []string{"region"}}},
	{"departement,subject", stats.StatsQuery{GroupBy: []string{"departement", "subject"}}},
	{"month,departement 2025-06..2026-05", stats.StatsQuery{GroupBy: []string{"month", "departement"}, From: "2025-06", To: "2026-05"}},
	{"organisation", stats.StatsQuery{GroupBy: []string{"organisation"}}},
	{"subject departement=59", stats.StatsQuery{GroupBy: []string{"subject"}, Departement: "59"}},
	{"month,subject", stats.StatsQuery{GroupBy: []string{"month", "subject"}}},
}

// RunStats seeds needs (or reuses a kept log), rebuilds the read models,
// then runs the statistics queries from concurrent clients and reports
// their latency. It returns the first store, seeding, rebuild or query
// error.
func RunStats(ctx context.Context, cfg StatsConfig) (StatsReport, error) {
	rep := StatsReport{Store: cfg.Store, Clients: cfg.Clients, DurationSec: cfg.Duration.Seconds()}
	if cfg.Clients <= 0 {
		cfg.Clients = 1
	}
	var t *readModelTarget
	var err error
	reuse := cfg.Schema != "" || cfg.Reuse
	if reuse {
		if cfg.Schema != "" && cfg.Store != "postgres" {
			return rep, errors.New("--schema is for the postgres store")
		}
		t, err = openExistingTarget(ctx, cfg.Store, cfg.DSN, cfg.Schema)
		rep.Schema = cfg.Schema
	} else {
		t, err = openReadModelTarget(ctx, cfg.Store, cfg.DSN, cfg.Keep)
	}
	if err != nil {
		return rep, err
	}
	defer t.Close()
	if !reuse {
		if cfg.Store == "postgres" && cfg.Keep {
			var schema string
			if err := t.db.SQL().QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err == nil {
				rep.Schema = schema
			}
		}
		d := fakeDirectory(8)
		start := time.Now()
		rep.Events, err = seedNeeds(ctx, t.store, d, cfg.Needs, cfg.Progress)
		if err != nil {
			return rep, fmt.Errorf("seed: %w", err)
		}
		rep.Needs, rep.SeedSeconds = cfg.Needs, Round(time.Since(start).Seconds(), 1)
		cfg.Rebuild = true
	}
	e, err := readmodels.New(t.db, t.store, readmodels.Options{})
	if err != nil {
		return rep, err
	}
	if err := e.Migrate(ctx); err != nil {
		return rep, err
	}
	if cfg.Rebuild {
		var last atomic.Pointer[projections.Progress]
		last.Store(&projections.Progress{})
		stop := Progress(cfg.Progress, 5*time.Second, func() string {
			p := last.Load()
			return fmt.Sprintf("rebuild %s %d/%d events, %.0f events/s", p.Phase, p.Events, p.Total, p.EventsPerSec)
		})
		start := time.Now()
		err := e.RebuildAll(ctx, func(p projections.Progress) { last.Store(&p) })
		stop()
		if err != nil {
			return rep, fmt.Errorf("rebuild: %w", err)
		}
		rep.RebuildSeconds = Round(time.Since(start).Seconds(), 1)
	}
	if cfg.Duration <= 0 {
		return rep, nil
	}

	rep.FirstMs = make(map[string]float64)
	rows := make([]int, len(benchStatsQueries))
	for i, bq := range benchStatsQueries {
		start := time.Now()
		out, err := e.Stats(ctx, bq.q)
		if err != nil {
			return rep, fmt.Errorf("stats %s: %w", bq.name, err)
		}
		rep.FirstMs[bq.name] = ms(time.Since(start))
		rows[i] = len(out)
	}

	recs := make([][]Recorder, cfg.Clients)
	var errs atomic.Int64
	var firstErr error
	var errOnce sync.Once
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for c := range cfg.Clients {
		recs[c] = make([]Recorder, len(benchStatsQueries))
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 0x57a75))
			for runCtx.Err() == nil {
				i := rng.IntN(len(benchStatsQueries))
				t0 := time.Now()
				_, err := e.Stats(runCtx, benchStatsQueries[i].q)
				if runCtx.Err() != nil {
					return // cut by the end of the phase: not counted
				}
				if err != nil {
					errs.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				recs[c][i].Add(time.Since(t0))
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	var all []*Recorder
	for i, bq := range benchStatsQueries {
		var per []*Recorder
		for c := range recs {
			per = append(per, &recs[c][i])
		}
		all = append(all, per...)
		rep.Queries = append(rep.Queries, StatsQueryLatency{Query: bq.name, Rows: rows[i], Latency: Merge(per...)})
	}
	rep.Overall = Merge(all...)
	rep.Errors = errs.Load()
	rep.QueriesPS = Round(float64(rep.Overall.Count)/took.Seconds(), 1)
	if firstErr != nil {
		return rep, fmt.Errorf("stats: %d errors, first: %w", rep.Errors, firstErr)
	}
	return rep, nil
}

// fakeDirectory names 4 organisations, a referent per client spread over
// them and an advisor per client. The statistics need no directory events:
// matches carry their organisation.
func fakeDirectory(clients int) *httpDirectory {
	d := &httpDirectory{}
	for range 4 {
		d.orgs = append(d.orgs, uuid.New())
	}
	for i := range clients {
		d.referents = append(d.referents, uuid.New())
		d.referentOrg = append(d.referentOrg, d.orgs[i%len(d.orgs)])
		d.advisors = append(d.advisors, uuid.New())
	}
	return d
}
