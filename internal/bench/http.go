package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/pgschema"
	"github.com/reso-fr/reso/internal/server"
)

// HTTPConfig shapes `reso-bench http`.
type HTTPConfig struct {
	// DSN is the PostgreSQL server; a bench_<random> schema is used.
	DSN string
	// Duration of each measured phase (commands, GET need, stats).
	Duration time.Duration
	// Clients are concurrent keep-alive HTTP clients.
	Clients int
	// Needs seeded before measuring (default 1,000,000), through the
	// store's bulk path, then folded by the projections.
	Needs int
	// IdempotencyKeys sends an Idempotency-Key with every command, as a
	// careful client would (one more write per command).
	IdempotencyKeys bool
	// Keep leaves the schema in place.
	Keep bool
	// Progress receives progress lines (nil: none).
	Progress io.Writer
	// Phase, when set, is called as each measured phase ("commands",
	// "get_need", "stats") starts; the function it returns is called as
	// the phase ends. `--cpuprofile-phase` profiles one phase with it, so
	// that a profile is not a blend of writes, reads and statistics.
	Phase func(name string) (end func())
}

// HTTPReport is what `reso-bench http` prints.
type HTTPReport struct {
	Store           string  `json:"store"`
	Clients         int     `json:"clients"`
	IdempotencyKeys bool    `json:"idempotency_keys"`
	DurationSec     float64 `json:"duration_s"`
	SeededNeeds     int     `json:"seeded_needs"`
	SeededEvents    int64   `json:"seeded_events"`
	SeedSeconds     float64 `json:"seed_s"`
	CatchUpSeconds  float64 `json:"projections_catch_up_s"`
	// Commands mixes capture, forward, take charge, comment and close.
	Commands HTTPPhase `json:"commands"`
	GetNeed  HTTPPhase `json:"get_need"`
	Stats    HTTPPhase `json:"stats"`
	// StatsRows is the largest answer seen in the stats phase.
	StatsRows int `json:"stats_rows"`
}

// HTTPPhase is one measured phase over HTTP.
type HTTPPhase struct {
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	PerSec   float64 `json:"per_sec"`
	Latency  Latency `json:"latency"`
}

func (c *HTTPConfig) defaults() error {
	if c.DSN == "" {
		c.DSN = pgschema.DefaultURL
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Clients <= 0 {
		c.Clients = 32
	}
	if c.Needs < 0 {
		return errors.New("bench http: --needs must be >= 0")
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return nil
}

// RunHTTP starts the real server in-process on PostgreSQL (a fresh
// schema), seeds a directory through the API and Needs needs through the
// store's bulk path, waits for the projections, then measures need
// commands, GET /api/needs/{id} and GET /api/stats over real HTTP. It
// returns the setup's first error.
func RunHTTP(ctx context.Context, cfg HTTPConfig) (HTTPReport, error) {
	if err := cfg.defaults(); err != nil {
		return HTTPReport{}, err
	}
	rep := HTTPReport{Store: "postgres", Clients: cfg.Clients, DurationSec: cfg.Duration.Seconds(), IdempotencyKeys: cfg.IdempotencyKeys}
	dsn, schema, drop, err := TempSchema(ctx, cfg.DSN, cfg.Keep)
	if err != nil {
		return rep, err
	}
	defer func() { _ = drop() }()
	fmt.Fprintf(cfg.Progress, "schema %s\n", schema)
	// The server's backends are told apart by their application_name, so
	// that the CPU they use can be measured per phase.
	appName := "reso-bench-" + schema
	dsn = pgschema.WithParam(dsn, "application_name", appName)
	cpu := newCPUMeter(ctx, cfg.DSN, appName)
	defer cpu.close()

	var tok [32]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return rep, err
	}
	adminToken := hex.EncodeToString(tok[:])
	logger := slog.New(slog.NewTextHandler(cfg.Progress, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	master, err := keys.GenerateMaster()
	if err != nil {
		return HTTPReport{}, err
	}
	// The load is the point: no rate limit.
	srv, err := server.New(srvCtx, server.Config{Addr: "127.0.0.1:0", DatabaseURL: dsn, AdminToken: adminToken, Logger: logger,
		Limits: server.Limits{Off: true}, MasterKeys: []*keys.Master{master}})
	if err != nil {
		return rep, fmt.Errorf("start server: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return rep, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(srvCtx, ln) }()
	defer func() {
		stop()
		<-served
	}()
	<-srv.Started()

	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: cfg.Clients * 2, MaxIdleConnsPerHost: cfg.Clients * 2, IdleConnTimeout: time.Minute,
	}}
	api := apiClient{base: "http://" + srv.Addr(), hc: hc}
	dir, err := seedDirectory(ctx, api.as(adminToken), cfg.Clients)
	if err != nil {
		return rep, fmt.Errorf("seed directory: %w", err)
	}

	start := time.Now()
	events, err := seedNeeds(ctx, srv.Backend().Events, dir, cfg.Needs, cfg.Progress)
	if err != nil {
		return rep, fmt.Errorf("seed needs: %w", err)
	}
	rep.SeededNeeds, rep.SeededEvents, rep.SeedSeconds = cfg.Needs, events, Round(time.Since(start).Seconds(), 2)
	fmt.Fprintf(cfg.Progress, "seeded %d needs (%d events) in %.1f s\n", cfg.Needs, events, rep.SeedSeconds)

	start = time.Now()
	head, err := srv.Backend().Events.Head(ctx)
	if err != nil {
		return rep, err
	}
	stopProgress := Progress(cfg.Progress, 5*time.Second, func() string {
		return fmt.Sprintf("projections catching up: %.0f s", time.Since(start).Seconds())
	})
	err = srv.Backend().Projections.WaitFor(ctx, head)
	stopProgress()
	if err != nil {
		return rep, fmt.Errorf("wait for projections: %w", err)
	}
	rep.CatchUpSeconds = Round(time.Since(start).Seconds(), 2)
	fmt.Fprintf(cfg.Progress, "projections caught up in %.1f s\n", rep.CatchUpSeconds)

	var ids *needIDs
	end := cfg.phase("commands")
	pool, used := poolWaits(srv), cpu.start(ctx)
	rep.Commands, ids = runCommands(ctx, api, dir, cfg.Clients, cfg.Duration, cfg.IdempotencyKeys)
	end()
	cfg.printPhase("commands", rep.Commands)
	fmt.Fprintf(cfg.Progress, "  %s\n  %s\n", pool(), used(rep.Commands.Requests))
	if ids.len() == 0 {
		return rep, errors.New("no command succeeded: nothing to read")
	}
	end = cfg.phase("get_need")
	pool, used = poolWaits(srv), cpu.start(ctx)
	rep.GetNeed = runGets(ctx, api, dir, ids, cfg.Clients, cfg.Duration)
	end()
	cfg.printPhase("GET need", rep.GetNeed)
	fmt.Fprintf(cfg.Progress, "  %s\n  %s\n", pool(), used(rep.GetNeed.Requests))
	end = cfg.phase("stats")
	rep.Stats, rep.StatsRows = runStats(ctx, api.as(adminToken), cfg.Clients, cfg.Duration)
	end()
	cfg.printPhase("GET stats", rep.Stats)
	return rep, nil
}

// poolWaits starts counting the server's waits for a database connection;
// the function it returns says how many acquisitions had to wait, and how
// long in all, since.
func poolWaits(srv *server.Server) func() string {
	st := srv.Backend().PoolStats()
	if st == nil {
		return func() string { return "pool: none" }
	}
	n0, w0, d0, c0 := st.AcquireCount(), st.EmptyAcquireCount(), st.EmptyAcquireWaitTime(), st.NewConnsCount()
	return func() string {
		st := srv.Backend().PoolStats()
		return fmt.Sprintf("pool: %d acquisitions, %d waited for a connection (%.1f s in all), %d new connections, max %d",
			st.AcquireCount()-n0, st.EmptyAcquireCount()-w0, (st.EmptyAcquireWaitTime() - d0).Seconds(), st.NewConnsCount()-c0, st.MaxConns())
	}
}

// phase calls the Phase hook, if any.
func (c *HTTPConfig) phase(name string) (end func()) {
	if c.Phase == nil {
		return func() {}
	}
	if end = c.Phase(name); end == nil {
		return func() {}
	}
	return end
}

func (c *HTTPConfig) printPhase(name string, p HTTPPhase) {
	fmt.Fprintf(c.Progress, "%s: %.0f/s, p50 %.2f ms, p99 %.2f ms, %d errors\n", name, p.PerSec, p.Latency.P50Ms, p.Latency.P99Ms, p.Errors)
}
