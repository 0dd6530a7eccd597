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
)

// RebuildConfig configures `reso bench rebuild`.
type RebuildConfig struct {
	Store    string // postgres or sqlite
	DSN      string
	Events   int // about this many simulated events are seeded
	Seed     int64
	Page     int // events per ReadAll page of the plain read
	Keep     bool
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

// RebuildReport is the result of `reso bench rebuild`.
type RebuildReport struct {
	Store   string  `json:"store"`
	Events  int64   `json:"events"`
	Needs   int     `json:"needs"`
	Seed    Rate    `json:"seed"`
	Read    Rate    `json:"read"`
	Rebuild Rate    `json:"rebuild"`
	Ratio   float64 `json:"rebuild_to_read_ratio"`
}

// eventsPerNeed is about what the simulator writes per need; it sizes the
// seed.
const eventsPerNeed = 5.5

// RunRebuild seeds simulated events, then measures in the same run the plain
// sequential read of the whole log (the floor) and the rebuild of every read
// model from it. It returns the first store, simulation or rebuild error.
func RunRebuild(ctx context.Context, cfg RebuildConfig) (RebuildReport, error) {
	rep := RebuildReport{Store: cfg.Store}
	t, err := openReadModelTarget(ctx, cfg.Store, cfg.DSN, cfg.Keep)
	if err != nil {
		return rep, err
	}
	defer t.Close()
	if cfg.Page <= 0 {
		cfg.Page = 10000
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

	start = time.Now()
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

	e, err := projections.New(t.db, t.dialect, t.store, projections.Options{})
	if err != nil {
		return rep, err
	}
	if err := e.Migrate(ctx); err != nil {
		return rep, err
	}
	var last atomic.Pointer[projections.Progress]
	last.Store(&projections.Progress{})
	stop = Progress(cfg.Progress, 5*time.Second, func() string {
		p := last.Load()
		return fmt.Sprintf("rebuild %s %d/%d events, %.0f events/s", p.Phase, p.Events, p.Total, p.EventsPerSec)
	})
	start = time.Now()
	err = e.RebuildAll(ctx, func(p projections.Progress) { last.Store(&p) })
	took := time.Since(start)
	stop()
	if err != nil {
		return rep, err
	}
	rep.Rebuild = rate(n, took)
	rep.Ratio = Round(rep.Rebuild.EventsPerSec/rep.Read.EventsPerSec, 3)
	return rep, nil
}
