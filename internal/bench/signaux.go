package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/projections/needs"
	"github.com/reso-fr/reso/projections/readmodels"
	"github.com/reso-fr/reso/projections/signaux"
)

// SignauxConfig shapes `reso-bench signaux`.
type SignauxConfig struct {
	Store string // postgres or sqlite
	DSN   string // as StatsConfig's
	// Needs simulated (with the monthly Signaux Faibles lists), then Lines
	// in one national list imported on top: the SIRENs of a third of the
	// needs' companies that have a valid one, and random others.
	Needs, Lines int
	// Runs of each query, one after the other.
	Runs     int
	Keep     bool
	Progress io.Writer
}

// SignauxReport is what `reso-bench signaux` prints.
type SignauxReport struct {
	Store          string  `json:"store"`
	Needs          int     `json:"needs"`
	Events         int64   `json:"events"`
	SeedSeconds    float64 `json:"seed_s"`
	RebuildSeconds float64 `json:"rebuild_s"`
	Lines          int     `json:"list_lines"`
	ListedNeeds    int     `json:"needs_of_listed_companies"`
	// ImportMs is the domain's decision and the append of the list;
	// FoldMs the time until every read model has folded it.
	ImportMs float64               `json:"import_ms"`
	FoldMs   float64               `json:"fold_ms"`
	Queries  []SignauxQueryLatency `json:"queries"`
}

// SignauxQueryLatency is one query's latency over the runs.
type SignauxQueryLatency struct {
	Query   string  `json:"query"`
	Rows    int     `json:"rows"`
	FirstMs float64 `json:"first_ms"`
	Latency Latency `json:"latency"`
}

// RunSignaux simulates needs, imports a large list, and measures the need
// lists joined with it (filtered by alert or carrying the flags) and the
// companies to visit. It returns the first store, seeding, rebuild or
// query error.
func RunSignaux(ctx context.Context, cfg SignauxConfig) (SignauxReport, error) {
	rep := SignauxReport{Store: cfg.Store, Needs: cfg.Needs}
	if cfg.Runs <= 0 {
		cfg.Runs = 30
	}
	t, err := openReadModelTarget(ctx, cfg.Store, cfg.DSN, cfg.Keep)
	if err != nil {
		return rep, err
	}
	defer t.Close()
	start := time.Now()
	var written atomic.Int64
	stop := Progress(cfg.Progress, 5*time.Second, func() string { return fmt.Sprintf("seed %d events", written.Load()) })
	sim, err := simulate.Run(ctx, t.store, simulate.Options{Seed: 1, Months: 18, TotalNeeds: cfg.Needs, SignauxFaibles: true,
		Progress: func(_, events int64) { written.Store(events) }})
	stop()
	if err != nil {
		return rep, fmt.Errorf("seed: %w", err)
	}
	rep.Events, rep.SeedSeconds = sim.Events, Round(time.Since(start).Seconds(), 1)

	e, err := readmodels.New(t.db, t.store, readmodels.Options{})
	if err != nil {
		return rep, err
	}
	if err := e.Migrate(ctx); err != nil {
		return rep, err
	}
	start = time.Now()
	if err := e.RebuildAll(ctx, nil); err != nil {
		return rep, fmt.Errorf("rebuild: %w", err)
	}
	rep.RebuildSeconds = Round(time.Since(start).Seconds(), 1)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(runCtx) }()
	defer func() { cancel(); <-done }()

	list, listed, err := bigList(ctx, t.store, cfg.Lines)
	if err != nil {
		return rep, err
	}
	rep.Lines, rep.ListedNeeds = len(list), listed
	start = time.Now()
	period := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC).Format("2006-01") // after the simulated lists
	l := domain.NewSFList(period)
	if err := l.Import(domain.SFListImport{Period: period, Lines: list}, uuid.New(), domain.Actor{Role: domain.RoleAdmin}, time.Now()); err != nil {
		return rep, err
	}
	news := make([]eventstore.NewEvent, 0, len(l.Changes()))
	for _, ev := range l.Changes() {
		typ, v, data, err := domain.Marshal(ev)
		if err != nil {
			return rep, err
		}
		news = append(news, eventstore.NewEvent{ID: uuid.New(), Type: typ, SchemaVersion: v, Data: data})
	}
	res, err := t.store.Append(ctx, domain.SFListStream(l.ID()), eventstore.NoStream, news...)
	if err != nil {
		return rep, fmt.Errorf("append the list: %w", err)
	}
	rep.ImportMs = ms(time.Since(start))
	start = time.Now()
	waitCtx, wcancel := context.WithTimeout(ctx, 5*time.Minute)
	defer wcancel()
	if err := e.WaitFor(waitCtx, res.Position); err != nil {
		return rep, fmt.Errorf("fold the list: %w", err)
	}
	rep.FoldMs = ms(time.Since(start))

	imp, ok, err := e.SFApplying(ctx, time.Time{})
	if err != nil || !ok || imp.Period != period {
		return rep, fmt.Errorf("the imported list does not apply: %+v, %v", imp, err)
	}
	join := func(alerts ...domain.SFAlert) *needs.SFJoin {
		return &needs.SFJoin{Seq: imp.Seq, List: imp.Label, Periode: imp.Period, Alerts: alerts}
	}
	nord := []domain.Zone{{Level: domain.LevelDepartement, Code: "59"}}
	mel := []domain.Zone{{Level: domain.LevelEPCI, Code: "200093201"}}
	region := []domain.Zone{{Level: domain.LevelRegion, Code: "32"}}
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	queries := []struct {
		name string
		run  func() (int, error)
	}{
		{"needs Nord (no join)", listNeeds(ctx, e, needs.NeedFilter{ScopeZones: nord})},
		{"needs Nord with flags", listNeeds(ctx, e, needs.NeedFilter{ScopeZones: nord, SF: join()})},
		{"needs Nord sf_alert=F1", listNeeds(ctx, e, needs.NeedFilter{ScopeZones: nord, SF: join(domain.SFAlertF1)})},
		{"needs Nord sf_alert=any", listNeeds(ctx, e, needs.NeedFilter{ScopeZones: nord, SF: join(domain.SFAlertF1, domain.SFAlertF2)})},
		{"needs MEL sf_alert=F1", listNeeds(ctx, e, needs.NeedFilter{ScopeZones: mel, SF: join(domain.SFAlertF1)})},
		{"needs all sf_alert=any", listNeeds(ctx, e, needs.NeedFilter{SF: join(domain.SFAlertF1, domain.SFAlertF2)})},
		{"needs all sf_alert=F1 status=done", listNeeds(ctx, e, needs.NeedFilter{Status: "done", SF: join(domain.SFAlertF1)})},
		{"companies Nord", companies(ctx, e, signaux.CompanyFilter{Import: imp, ScopeZones: nord})},
		{"companies région, no need since 2026-01", companies(ctx, e, signaux.CompanyFilter{Import: imp, ScopeZones: region, WithoutNeedSince: since})},
		{"companies all F1", companies(ctx, e, signaux.CompanyFilter{Import: imp, Alert: domain.SFAlertF1})},
	}
	for _, q := range queries {
		first := time.Now()
		rows, err := q.run()
		if err != nil {
			return rep, fmt.Errorf("%s: %w", q.name, err)
		}
		ql := SignauxQueryLatency{Query: q.name, Rows: rows, FirstMs: ms(time.Since(first))}
		var rec Recorder
		for range cfg.Runs {
			t0 := time.Now()
			if _, err := q.run(); err != nil {
				return rep, fmt.Errorf("%s: %w", q.name, err)
			}
			rec.Add(time.Since(t0))
		}
		ql.Latency = Merge(&rec)
		rep.Queries = append(rep.Queries, ql)
	}
	return rep, nil
}

func listNeeds(ctx context.Context, e *readmodels.Engine, f needs.NeedFilter) func() (int, error) {
	return func() (int, error) {
		f.Limit = 50
		p, err := e.ListNeeds(ctx, f)
		return len(p.Items), err
	}
}

func companies(ctx context.Context, e *readmodels.Engine, f signaux.CompanyFilter) func() (int, error) {
	return func() (int, error) {
		f.Limit = 50
		p, err := e.SFCompanies(ctx, f)
		return len(p.Items), err
	}
}

// bigList is a national list of n lines: a third of the needs' companies
// whose SIREN is valid, and random companies of France for the rest. It
// returns the lines and how many needs are of listed companies.
func bigList(ctx context.Context, st eventstore.Store, n int) ([]domain.SFLine, int, error) {
	r := rand.New(rand.NewPCG(7, 16))
	bySiren := map[string]int{}
	for after := eventstore.Start; ; {
		evs, err := st.ReadAll(ctx, after, 10_000)
		if err != nil {
			return nil, 0, err
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			if ev.Type != domain.TypeNeedCaptured {
				continue
			}
			e, err := domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data)
			if err != nil {
				return nil, 0, err
			}
			bySiren[e.(domain.NeedCaptured).SIRET[:9]]++
		}
		after = evs[len(evs)-1].Position
	}
	line := func(siren string) domain.SFLine {
		l := domain.SFLine{SIREN: siren, Alert: domain.SFAlertF2, Score: float64(300+r.IntN(700)) / 1000, Algo: "avec_urssaf", Batch: "2607"}
		if r.IntN(5) == 0 {
			l.Alert = domain.SFAlertF1
		}
		return l
	}
	seen := map[string]bool{}
	var lines []domain.SFLine
	listed := 0
	for s, k := range bySiren {
		if _, err := domain.ParseSIREN(s); err != nil || r.IntN(3) != 0 || len(lines) >= n {
			continue
		}
		seen[s] = true
		lines = append(lines, line(s))
		listed += k
	}
	communes := domain.DefaultGeography().Communes()
	for len(lines) < n {
		b := []byte(fmt.Sprintf("%08d", 10_000_000+r.IntN(89_999_999)))
		for k := byte('0'); k <= '9'; k++ {
			s := string(append(b, k))
			if _, err := domain.ParseSIREN(s); err == nil && !seen[s] {
				seen[s] = true
				l := line(s)
				l.Commune = communes[r.IntN(len(communes))].Code
				lines = append(lines, l)
				break
			}
		}
	}
	return lines, listed, nil
}
