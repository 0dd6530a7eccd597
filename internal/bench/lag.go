package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/projections/readmodels"
)

// LagConfig configures `reso-bench lag`.
type LagConfig struct {
	Store    string // postgres or sqlite
	DSN      string
	Rate     int // events per second
	Duration time.Duration
	Writers  int
	Keep     bool
	Progress io.Writer
}

// DefaultLagWriters is how many writers append by default. The ticker
// hands each event to a free writer, so writers × (1 s / append latency)
// caps the rate: with 4 writers and appends of 4.5 ms under load, the rate
// stalled at 880/s; 16 keep up with 1,000/s up to 16 ms per append.
const DefaultLagWriters = 16

// LagReport is the result of `reso-bench lag`: the time from an append's
// commit (its return to the writer) to the moment every read model has
// folded it (all checkpoints at or past its position).
type LagReport struct {
	Store       string  `json:"store"`
	TargetRate  int     `json:"target_rate"`
	Events      int     `json:"events"`
	Writers     int     `json:"writers"`
	AchievedSec float64 `json:"achieved_events_per_sec"`
	Lag         Latency `json:"lag"`
}

type pending struct {
	pos eventstore.Position
	at  time.Time
}

// RunLag runs the projections while writers append NeedCaptured events at
// cfg.Rate for cfg.Duration, and measures each event's lag. It returns the
// first store, simulation or projection error.
func RunLag(ctx context.Context, cfg LagConfig) (LagReport, error) {
	rep := LagReport{Store: cfg.Store, TargetRate: cfg.Rate}
	if cfg.Rate <= 0 || cfg.Duration <= 0 {
		return rep, fmt.Errorf("bench lag: rate and duration must be positive")
	}
	if cfg.Writers <= 0 {
		cfg.Writers = DefaultLagWriters
	}
	t, err := openReadModelTarget(ctx, cfg.Store, cfg.DSN, cfg.Keep)
	if err != nil {
		return rep, err
	}
	defer t.Close()
	dir, err := simulate.Run(ctx, t.store, simulate.Options{Seed: 1, Months: 1, TotalNeeds: 1})
	if err != nil {
		return rep, err
	}
	e, err := readmodels.New(t.db, t.store, readmodels.Options{})
	if err != nil {
		return rep, err
	}
	if err := e.Migrate(ctx); err != nil {
		return rep, err
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go func() { _ = e.Run(runCtx) }()
	warm, cancel := context.WithTimeout(ctx, time.Minute)
	err = e.WaitFor(warm, dir.Last)
	cancel()
	if err != nil {
		return rep, fmt.Errorf("bench lag: warm up: %w", err)
	}

	var mu sync.Mutex
	var queue []pending
	rec := &Recorder{}
	watchDone := make(chan error, 1)
	writing := make(chan struct{})
	go func() { watchDone <- watch(runCtx, t, &mu, &queue, rec, writing) }()

	advisor := dir.Users[domain.RoleAdvisor][0]
	total := int(cfg.Duration.Seconds() * float64(cfg.Rate))
	ticks := make(chan int)
	var wg sync.WaitGroup
	var writeErr error
	var errOnce sync.Once
	for range cfg.Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ticks {
				pos, err := appendCapture(ctx, t.store, advisor, i)
				if err != nil {
					errOnce.Do(func() { writeErr = err })
					continue
				}
				mu.Lock()
				queue = append(queue, pending{pos, time.Now()})
				mu.Unlock()
			}
		}()
	}
	stop := Progress(cfg.Progress, 2*time.Second, func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprintf("%d lags measured, %d pending", rec.Len(), len(queue))
	})
	start := time.Now()
	interval := time.Second / time.Duration(cfg.Rate)
	for i := 0; i < total && ctx.Err() == nil; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		ticks <- i
	}
	close(ticks)
	wg.Wait()
	elapsed := time.Since(start)
	close(writing)
	err = <-watchDone
	stop()
	if writeErr != nil {
		return rep, writeErr
	}
	if err != nil {
		return rep, err
	}
	rep.Events, rep.Writers = total, cfg.Writers
	rep.AchievedSec = Round(float64(total)/elapsed.Seconds(), 1)
	rep.Lag = Merge(rec)
	return rep, nil
}

// watch polls the slowest checkpoint every millisecond and records the lag
// of every appended event it has passed, until writing is closed and
// nothing is pending.
func watch(ctx context.Context, t *readModelTarget, mu *sync.Mutex, queue *[]pending, rec *Recorder, writing <-chan struct{}) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.Time{}
	for {
		var slowest string
		if err := t.db.SQL().QueryRowContext(ctx, `SELECT MIN(position) FROM projection_checkpoints`).Scan(&slowest); err != nil {
			return fmt.Errorf("bench lag: read checkpoints: %w", err)
		}
		seen := time.Now()
		mu.Lock()
		keep := (*queue)[:0]
		for _, p := range *queue {
			if p.pos.String() <= slowest {
				rec.Add(seen.Sub(p.at))
			} else {
				keep = append(keep, p)
			}
		}
		*queue = keep
		left := len(keep)
		mu.Unlock()
		select {
		case <-writing:
			if left == 0 {
				return nil
			}
			if deadline.IsZero() {
				deadline = time.Now().Add(time.Minute)
			} else if time.Now().After(deadline) {
				return fmt.Errorf("bench lag: %d events never folded", left)
			}
		default:
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func appendCapture(ctx context.Context, st eventstore.Store, advisor uuid.UUID, i int) (eventstore.Position, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return eventstore.Position{}, err
	}
	by := domain.Actor{ID: advisor, Role: domain.RoleAdvisor}
	e := domain.NeedCaptured{Meta: domain.Meta{At: time.Now().UTC(), By: by}, NeedID: id, SIRET: "73282932000074",
		CompanyName: fmt.Sprintf("Entreprise lag %d", i), Commune: "59350", Subject: "recruitment", Description: "bench",
		Contact: domain.SealedContact{KeyID: "bench-" + id.String(), Ciphertext: []byte{1}}, AdvisorID: advisor}
	typ, v, data, err := domain.Marshal(e)
	if err != nil {
		return eventstore.Position{}, err
	}
	res, err := st.Append(ctx, domain.NeedStream(id), eventstore.NoStream,
		eventstore.NewEvent{ID: id, Type: typ, SchemaVersion: v, Data: data})
	if err != nil {
		return eventstore.Position{}, err
	}
	return res.Position, nil
}
