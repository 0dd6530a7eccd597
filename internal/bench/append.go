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

	"github.com/reso-fr/reso/eventstore"
)

// AppendConfig configures the append benchmark.
type AppendConfig struct {
	Store    string        // postgres, sqlite or memory
	DSN      string        // PostgreSQL URL, or the SQLite file path
	Writers  int           // concurrent writers
	Duration time.Duration // how long each phase runs
	Batch    int           // events per append
	// Contention is the share (0..1) of appends that go to HotStreams
	// streams shared by every writer, with the version the writer last
	// saw: those count the conflicts. 0: each writer owns its streams.
	Contention float64
	HotStreams int
	// StreamLength is how many events a writer appends to one of its own
	// streams before starting a new one.
	StreamLength int
	// Baseline also runs plain INSERTs of the same rows (postgres only).
	Baseline bool
	// BaselineIndexes gives the baseline table the store's unique indexes
	// (event id, stream and version, transaction id and position).
	BaselineIndexes bool
	// Rounds is how many alternating store/baseline slices share Duration
	// (with Baseline; default 3).
	Rounds   int
	Keep     bool      // keep the bench_ schema
	Progress io.Writer // progress lines; nil for none
}

// Phase is what one timed run measured.
type Phase struct {
	Events       int64   `json:"events"`
	Appends      int64   `json:"appends"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
	P50Ms        float64 `json:"p50_ms"`
	P99Ms        float64 `json:"p99_ms"`
	Conflicts    int64   `json:"conflicts"`
}

// AppendReport is the append benchmark's result, printed as JSON.
type AppendReport struct {
	Store      string  `json:"store"`
	Writers    int     `json:"writers"`
	Batch      int     `json:"batch"`
	Contention float64 `json:"contention"`
	Phase
	Baseline *Phase `json:"baseline,omitempty"`
	// BaselineIndexes says the baseline table had the store's indexes.
	BaselineIndexes bool `json:"baseline_indexes,omitempty"`
	Rounds          int  `json:"rounds,omitempty"`
	// Ratio is events_per_sec of the store over the baseline's.
	Ratio float64 `json:"ratio,omitempty"`
}

func (c *AppendConfig) defaults() error {
	if c.Writers <= 0 || c.Batch <= 0 || c.Duration <= 0 {
		return errors.New("writers, batch and duration must be positive")
	}
	if c.Contention < 0 || c.Contention > 1 {
		return fmt.Errorf("contention %v is not a share between 0 and 1", c.Contention)
	}
	if c.HotStreams <= 0 {
		c.HotStreams = 4
	}
	if c.StreamLength <= 0 {
		c.StreamLength = 100
	}
	if c.Rounds <= 0 {
		c.Rounds = 3
	}
	if c.Baseline && c.Store != "postgres" {
		return fmt.Errorf("--baseline is measured for postgres only, not %s", c.Store)
	}
	return nil
}

// RunAppend runs the append benchmark: Writers goroutines append batches of
// Batch events for Duration. With Baseline, the same writers also insert
// the same kind of rows into a plain table for Duration; the two phases
// alternate in Rounds slices, so that load from elsewhere on a shared
// machine weighs on both alike. It returns the configuration error, the
// store's error, or the first writer error.
func RunAppend(ctx context.Context, cfg AppendConfig) (AppendReport, error) {
	if err := cfg.defaults(); err != nil {
		return AppendReport{}, err
	}
	target, err := OpenTarget(ctx, cfg.Store, cfg.DSN, cfg.Keep, cfg.Writers+4)
	if err != nil {
		return AppendReport{}, err
	}
	defer target.Close()
	report := AppendReport{Store: cfg.Store, Writers: cfg.Writers, Batch: cfg.Batch, Contention: cfg.Contention,
		BaselineIndexes: cfg.Baseline && cfg.BaselineIndexes}

	store := newPhase("store", cfg, func(w int) writerFunc { return storeWriter(target.Store, cfg, w) })
	var base *phase
	if cfg.Baseline {
		plain, err := openPlainTable(ctx, target.PostgresDSN, cfg.Writers+4, cfg.BaselineIndexes)
		if err != nil {
			return report, err
		}
		defer plain.close()
		base = newPhase("baseline", cfg, func(w int) writerFunc { return plain.writer(cfg, w) })
	}
	rounds := 1
	if base != nil {
		rounds = max(cfg.Rounds, 1)
	}
	slice := cfg.Duration / time.Duration(rounds)
	for range rounds {
		if err := store.run(ctx, slice); err != nil {
			return report, err
		}
		if base != nil {
			if err := base.run(ctx, slice); err != nil {
				return report, err
			}
		}
	}
	report.Phase = store.result()
	if base != nil {
		b := base.result()
		report.Baseline = &b
		report.Rounds = rounds
		if b.EventsPerSec > 0 {
			report.Ratio = Round(report.EventsPerSec/b.EventsPerSec, 3)
		}
	}
	return report, nil
}

// writerFunc makes one append of a batch; it returns the number of events
// written, whether the append lost a conflict, how long the append itself
// took (making the events is not timed), and an error that ends the run.
type writerFunc func(ctx context.Context) (events int, conflict bool, took time.Duration, err error)

// phase is one kind of writing, run in one or more time slices by the same
// writers (which keep their streams from one slice to the next).
type phase struct {
	name                       string
	writers                    []writerFunc
	recs                       []*Recorder
	events, appends, conflicts atomic.Int64
	elapsed                    time.Duration
	progress                   io.Writer
}

func newPhase(name string, cfg AppendConfig, newWriter func(w int) writerFunc) *phase {
	p := &phase{name: name, progress: cfg.Progress}
	for w := range cfg.Writers {
		p.writers = append(p.writers, newWriter(w))
		p.recs = append(p.recs, &Recorder{})
	}
	return p
}

// run lets every writer write for d.
func (p *phase) run(ctx context.Context, d time.Duration) error {
	var (
		stop atomic.Bool
		wg   sync.WaitGroup
		errs = make(chan error, len(p.writers))
	)
	progress := Progress(p.progress, 5*time.Second, func() string {
		return fmt.Sprintf("%s: %d events, %d appends, %d conflicts", p.name, p.events.Load(), p.appends.Load(), p.conflicts.Load())
	})
	defer progress()
	start := time.Now()
	for w, write := range p.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() && ctx.Err() == nil {
				n, conflict, took, err := write(ctx)
				if err != nil {
					if ctx.Err() == nil {
						errs <- fmt.Errorf("%s writer %d: %w", p.name, w, err)
					}
					stop.Store(true)
					return
				}
				if conflict {
					p.conflicts.Add(1)
					continue
				}
				p.recs[w].Add(took)
				p.events.Add(int64(n))
				p.appends.Add(1)
			}
		}()
	}
	timer := time.NewTimer(d)
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
	timer.Stop()
	stop.Store(true)
	wg.Wait()
	p.elapsed += time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}

func (p *phase) result() Phase {
	lat := Merge(p.recs...)
	secs := p.elapsed.Seconds()
	return Phase{
		Events:       p.events.Load(),
		Appends:      p.appends.Load(),
		Seconds:      Round(secs, 3),
		EventsPerSec: Round(float64(p.events.Load())/secs, 1),
		P50Ms:        lat.P50Ms,
		P99Ms:        lat.P99Ms,
		Conflicts:    p.conflicts.Load(),
	}
}

// storeWriter appends to the writer's own streams, StreamLength events
// each, with the exact expected version, and a Contention share of its
// appends to the shared hot streams with the version it last saw there.
func storeWriter(s eventstore.Store, cfg AppendConfig, w int) writerFunc {
	gen := newEventGen(w)
	rng := rand.New(rand.NewPCG(uint64(w), 7))
	stream, version := 0, int64(0)
	hot := make([]int64, cfg.HotStreams)
	return func(ctx context.Context) (int, bool, time.Duration, error) {
		events, err := gen.batch(cfg.Batch)
		if err != nil {
			return 0, false, 0, err
		}
		if cfg.Contention > 0 && rng.Float64() < cfg.Contention {
			h := rng.IntN(len(hot))
			name := fmt.Sprintf("hot-%d", h)
			t0 := time.Now()
			res, err := s.Append(ctx, name, eventstore.ExpectedVersion(hot[h]), events...)
			took := time.Since(t0)
			var ce *eventstore.ConcurrencyError
			if errors.As(err, &ce) {
				hot[h] = ce.Actual
				return 0, true, took, nil
			}
			if err != nil {
				return 0, false, took, err
			}
			hot[h] = res.LastVersion
			return len(events), false, took, nil
		}
		name := fmt.Sprintf("w%d-%d", w, stream)
		t0 := time.Now()
		res, err := s.Append(ctx, name, eventstore.ExpectedVersion(version), events...)
		took := time.Since(t0)
		if err != nil {
			return 0, false, took, err
		}
		version = res.LastVersion
		if version >= int64(cfg.StreamLength) {
			stream, version = stream+1, 0
		}
		return len(events), false, took, nil
	}
}
