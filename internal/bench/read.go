package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/postgres"
)

// ReadConfig configures the read benchmark.
type ReadConfig struct {
	Store        string
	DSN          string
	Events       int // events to seed, then read
	Page         int // ReadAll limit
	StreamLength int // events per seeded stream
	Keep         bool
	Progress     io.Writer
}

// ReadReport is the read benchmark's result, printed as JSON.
type ReadReport struct {
	Store        string  `json:"store"`
	Events       int64   `json:"events"`
	Page         int     `json:"page"`
	Pages        int     `json:"pages"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
	// PageP50Ms and PageP99Ms are the latencies of one ReadAll page.
	PageP50Ms   float64 `json:"page_p50_ms"`
	PageP99Ms   float64 `json:"page_p99_ms"`
	SeedSeconds float64 `json:"seed_seconds"`
}

// RunRead seeds Events events (untimed: COPY on PostgreSQL, large appends
// elsewhere), then reads the whole log in global order with ReadAll pages
// and checks it got every event, once, in increasing positions. It returns
// the configuration, store or check error.
func RunRead(ctx context.Context, cfg ReadConfig) (ReadReport, error) {
	if cfg.Events <= 0 {
		return ReadReport{}, errors.New("events must be positive")
	}
	if cfg.Page <= 0 {
		cfg.Page = 10000
	}
	if cfg.StreamLength <= 0 {
		cfg.StreamLength = 10
	}
	target, err := OpenTarget(ctx, cfg.Store, cfg.DSN, cfg.Keep, 4)
	if err != nil {
		return ReadReport{}, err
	}
	defer target.Close()

	seedStart := time.Now()
	if err := seed(ctx, target.Store, cfg); err != nil {
		return ReadReport{}, err
	}
	report := ReadReport{Store: cfg.Store, Page: cfg.Page, SeedSeconds: Round(time.Since(seedStart).Seconds(), 3)}

	var read atomic.Int64
	progress := Progress(cfg.Progress, 5*time.Second, func() string {
		return fmt.Sprintf("read: %d of %d events", read.Load(), cfg.Events)
	})
	defer progress()
	rec := &Recorder{}
	pos := eventstore.Start
	start := time.Now()
	for {
		t0 := time.Now()
		events, err := target.Store.ReadAll(ctx, pos, cfg.Page)
		if err != nil {
			return report, err
		}
		rec.Add(time.Since(t0))
		for i := range events {
			if !pos.Less(events[i].Position) {
				return report, fmt.Errorf("position %s read after %s", events[i].Position, pos)
			}
			pos = events[i].Position
		}
		read.Add(int64(len(events)))
		if len(events) < cfg.Page {
			break
		}
	}
	elapsed := time.Since(start)
	progress()
	report.Events = read.Load()
	if report.Events != int64(cfg.Events) {
		return report, fmt.Errorf("read %d events, seeded %d", report.Events, cfg.Events)
	}
	lat := Merge(rec)
	report.Pages = lat.Count
	report.Seconds = Round(elapsed.Seconds(), 3)
	report.EventsPerSec = Round(float64(report.Events)/elapsed.Seconds(), 1)
	report.PageP50Ms, report.PageP99Ms = lat.P50Ms, lat.P99Ms
	return report, nil
}

// seed writes cfg.Events events in streams of cfg.StreamLength.
func seed(ctx context.Context, s eventstore.Store, cfg ReadConfig) error {
	var seeded atomic.Int64
	progress := Progress(cfg.Progress, 5*time.Second, func() string {
		return fmt.Sprintf("seed: %d of %d events", seeded.Load(), cfg.Events)
	})
	defer progress()
	gen := newEventGen(0)
	bulk, isPostgres := s.(*postgres.Store)
	const chunk = 50000 // events per COPY transaction
	var batches []postgres.Batch
	pending := 0
	flush := func() error {
		if len(batches) == 0 {
			return nil
		}
		if _, err := bulk.BulkAppend(ctx, batches); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		batches, pending = batches[:0], 0
		return nil
	}
	for stream := 0; seeded.Load() < int64(cfg.Events); stream++ {
		n := min(cfg.StreamLength, cfg.Events-int(seeded.Load()))
		events, err := gen.batch(n)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("seed-%d", stream)
		if isPostgres {
			batches = append(batches, postgres.Batch{Stream: name, Events: events})
			pending += n
			if pending >= chunk {
				if err := flush(); err != nil {
					return err
				}
			}
		} else if _, err := s.Append(ctx, name, eventstore.NoStream, events...); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		seeded.Add(int64(n))
	}
	if isPostgres {
		if err := flush(); err != nil {
			return err
		}
		return bulk.Analyze(ctx)
	}
	return nil
}
