package bench

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/readmodels"
)

// RebuildConfig configures `reso-bench rebuild`.
type RebuildConfig struct {
	Store  string // postgres or sqlite
	DSN    string
	Events int // about this many simulated events are seeded
	Seed   int64
	Page   int // events per ReadAll page of the plain read
	Keep   bool
	// Schema (PostgreSQL) or Reuse (SQLite: the file --dsn) names a log
	// seeded and kept (Keep) by an earlier run: seeding is skipped, so that
	// changes to the rebuild can be compared on the same log.
	Schema string
	Reuse  bool
	// CPUProfile, when set, is written with a CPU profile of the rebuild
	// alone.
	CPUProfile string
	// CatchUp also measures, after the rebuild, the live runners folding
	// the whole log from empty read models (Engine.Reset, then Run until
	// every checkpoint reaches the head), as they do after a bulk load.
	CatchUp bool
	// Writes, when above 0, appends that many need captures a second while
	// the rebuild runs and reports their latency.
	Writes   int
	Progress io.Writer
}

// Rate is a timed pass over the log.
type Rate struct {
	Events       int64   `json:"events"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
}

func rate(n int64, d time.Duration) Rate {
	return Rate{Events: n, Seconds: Round(d.Seconds(), 3), EventsPerSec: Round(float64(n)/d.Seconds(), 0)}
}

// RebuildReport is the result of `reso-bench rebuild`.
type RebuildReport struct {
	Store   string  `json:"store"`
	Schema  string  `json:"schema,omitempty"` // kept or reused PostgreSQL schema
	Events  int64   `json:"events"`
	Needs   int     `json:"needs"`
	Seed    Rate    `json:"seed"`
	Read    Rate    `json:"read"`
	Rebuild Rate    `json:"rebuild"`
	Ratio   float64 `json:"rebuild_to_read_ratio"`
	// CatchUp is the live runners' fold of the whole log (--catchup).
	CatchUp      *Rate   `json:"catch_up,omitempty"`
	CatchUpRatio float64 `json:"catch_up_to_read_ratio,omitempty"`
	// WritesDuringRebuild are the appends made while the rebuild ran
	// (--writes).
	WritesDuringRebuild *Writes `json:"writes_during_rebuild,omitempty"`
}

// eventsPerNeed is about what the simulator writes per need; it sizes the
// seed.
const eventsPerNeed = 5.5

// RunRebuild seeds simulated events, then measures in the same run the plain
// sequential read of the whole log (the floor) and the rebuild of every read
// model from it. It returns the first store, simulation or rebuild error.
func RunRebuild(ctx context.Context, cfg RebuildConfig) (RebuildReport, error) {
	rep := RebuildReport{Store: cfg.Store, Schema: cfg.Schema}
	reuse := cfg.Schema != "" || cfg.Reuse
	var t *readModelTarget
	var err error
	if reuse {
		t, err = openExistingTarget(ctx, cfg.Store, cfg.DSN, cfg.Schema)
	} else {
		t, err = openReadModelTarget(ctx, cfg.Store, cfg.DSN, cfg.Keep)
	}
	if err != nil {
		return rep, err
	}
	defer t.Close()
	if cfg.Page <= 0 {
		cfg.Page = 10000
	}
	if !reuse {
		if cfg.Store == "postgres" && cfg.Keep {
			if err := t.db.SQL().QueryRowContext(ctx, "SELECT current_schema()").Scan(&rep.Schema); err != nil {
				return rep, err
			}
		}
		var seeded atomic.Int64
		stop := Progress(cfg.Progress, 5*time.Second, func() string { return fmt.Sprintf("seeded %d events", seeded.Load()) })
		start := time.Now()
		res, err := simulate.Run(ctx, t.store, simulate.Options{Seed: cfg.Seed, Months: 18,
			TotalNeeds: max(1, int(float64(cfg.Events)/eventsPerNeed)), Writers: 8,
			Progress: func(_, events int64) { seeded.Store(events) }})
		stop()
		if err != nil {
			return rep, err
		}
		rep.Seed, rep.Needs, rep.Events = rate(res.Events, time.Since(start)), res.Needs, res.Events
	}

	start := time.Now()
	var n int64
	pos := eventstore.Start
	for {
		evs, err := t.store.ReadAll(ctx, pos, cfg.Page)
		if err != nil {
			return rep, err
		}
		if len(evs) == 0 {
			break
		}
		n += int64(len(evs))
		pos = evs[len(evs)-1].Position
	}
	rep.Read = rate(n, time.Since(start))
	rep.Events = n

	e, err := readmodels.New(t.db, t.store, readmodels.Options{})
	if err != nil {
		return rep, err
	}
	if err := e.Migrate(ctx); err != nil {
		return rep, err
	}
	var last atomic.Pointer[projections.Progress]
	last.Store(&projections.Progress{})
	stop := Progress(cfg.Progress, 5*time.Second, func() string {
		p := last.Load()
		return fmt.Sprintf("rebuild %s %d/%d events, %.0f events/s", p.Phase, p.Events, p.Total, p.EventsPerSec)
	})
	stopProfile, err := StartCPUProfile(cfg.CPUProfile)
	if err != nil {
		return rep, err
	}
	stopWrites := func() {}
	if cfg.Writes > 0 {
		end := writeDuring(ctx, t.store, cfg.Writes)
		stopWrites = func() {
			w := end()
			rep.WritesDuringRebuild = &w
		}
	}
	start = time.Now()
	err = e.RebuildAll(ctx, func(p projections.Progress) { last.Store(&p) })
	took := time.Since(start)
	stopWrites()
	stop()
	if perr := stopProfile(); err == nil {
		err = perr
	}
	if err != nil {
		return rep, err
	}
	rep.Rebuild = rate(n, took)
	rep.Ratio = Round(rep.Rebuild.EventsPerSec/rep.Read.EventsPerSec, 3)
	if cfg.CatchUp {
		r, err := measureCatchUp(ctx, e, pos, n, cfg.Progress)
		if err != nil {
			return rep, err
		}
		rep.CatchUp = &r
		rep.CatchUpRatio = Round(r.EventsPerSec/rep.Read.EventsPerSec, 3)
	}
	return rep, nil
}

// measureCatchUp empties the read models, runs the projections and times
// how long they take to fold the n events of the log up to head.
func measureCatchUp(ctx context.Context, e *readmodels.Engine, head eventstore.Position, n int64, progress io.Writer) (Rate, error) {
	if err := e.Reset(ctx); err != nil {
		return Rate{}, err
	}
	runCtx, stopRun := context.WithCancel(ctx)
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		_ = e.Run(runCtx)
	}()
	stop := Progress(progress, 5*time.Second, func() string {
		sts, err := e.Status(ctx)
		if err != nil {
			return err.Error()
		}
		s := "catch up"
		for _, st := range sts {
			s += fmt.Sprintf(" %s:%d", st.Name, st.LagEvents)
		}
		return s
	})
	err := e.WaitFor(ctx, head)
	took := time.Since(start)
	stop()
	stopRun()
	<-done
	if err != nil {
		return Rate{}, fmt.Errorf("bench rebuild: catch up: %w", err)
	}
	return rate(n, took), nil
}
