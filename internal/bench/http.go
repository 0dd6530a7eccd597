package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/reso-fr/reso/domain"
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
	// Keep leaves the schema in place, with the run's directory.
	Keep bool
	// Schema, when set, is a schema a run with Keep left: the run seeds
	// no needs (those already there count) and keeps it. It works with
	// the directory kept there for as many clients (a schema kept before
	// directories were kept gets one more, then keeps it) and adds the
	// needs of its command phase.
	Schema string
	// ClientCommand, when set, starts this process again as the load
	// generator of each phase (HTTPClientEnv), so that this process's CPU
	// is the server's alone; nil runs the load in this process.
	ClientCommand []string
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
	// VacuumSeconds is how long VACUUM (ANALYZE) of the schema took
	// before the measures, on a server without autovacuum (omitted with
	// it): see vacuumWithoutAutovacuum.
	VacuumSeconds float64 `json:"vacuum_s,omitempty"`
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
	// CPU per request in ms: the process running the server (the server
	// alone when the load runs in a child process) and the PostgreSQL
	// backends serving it.
	ProcessCPUMs  float64 `json:"process_cpu_ms_per_request"`
	PostgresCPUMs float64 `json:"postgres_cpu_ms_per_request,omitempty"`
	// ClientCPUMs is the load process's, when the load runs in a child:
	// what the load generator takes from the cores the server shares.
	ClientCPUMs float64 `json:"client_cpu_ms_per_request,omitempty"`
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
	dsn, schema, drop := pgschema.WithParam(cfg.DSN, "search_path", cfg.Schema), cfg.Schema, func() error { return nil }
	if cfg.Schema == "" {
		var err error
		if dsn, schema, drop, err = TempSchema(ctx, cfg.DSN, cfg.Keep); err != nil {
			return rep, err
		}
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
	// A kept log keeps its master key and its directory for later runs.
	kept := cfg.Keep || cfg.Schema != ""
	master, err := benchMaster(ctx, dsn, kept)
	if err != nil {
		return HTTPReport{}, err
	}
	// The server under test collects as `reso serve` does.
	server.TuneGC()
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

	hc := newLoadClient(cfg.Clients)
	api := apiClient{base: "http://" + srv.Addr(), hc: hc}
	// Names unique to the run: a log reused from before runs kept their
	// directory has earlier runs' users.
	seedDir := func() (*httpDirectory, error) {
		return seedDirectory(ctx, api.as(adminToken), cfg.Clients, adminToken[:8])
	}
	var dir *httpDirectory
	if kept {
		dir, err = keptDirectory(ctx, dsn, cfg.Clients, seedDir)
	} else {
		dir, err = seedDir()
	}
	if err != nil {
		return rep, fmt.Errorf("seed directory: %w", err)
	}

	start := time.Now()
	if cfg.Schema == "" {
		events, err := seedNeeds(ctx, srv.Backend().Events, dir, cfg.Needs, cfg.Progress)
		if err != nil {
			return rep, fmt.Errorf("seed needs: %w", err)
		}
		rep.SeededNeeds, rep.SeededEvents, rep.SeedSeconds = cfg.Needs, events, Round(time.Since(start).Seconds(), 2)
		fmt.Fprintf(cfg.Progress, "seeded %d needs (%d events) in %.1f s\n", cfg.Needs, events, rep.SeedSeconds)
	}

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

	if cfg.Schema != "" {
		// Every need and event of the reused log, earlier command phases'
		// included.
		if rep.SeededNeeds, rep.SeededEvents, err = countLog(ctx, dsn); err != nil {
			return rep, err
		}
		fmt.Fprintf(cfg.Progress, "reusing %d needs (%d events)\n", rep.SeededNeeds, rep.SeededEvents)
	}

	took, err := vacuumWithoutAutovacuum(ctx, dsn, schema)
	if err != nil {
		return rep, err
	}
	if took > 0 {
		rep.VacuumSeconds = Round(took.Seconds(), 2)
		fmt.Fprintf(cfg.Progress, "autovacuum is off: VACUUM (ANALYZE) of the schema's tables in %.1f s, as autovacuum would have\n", rep.VacuumSeconds)
	}

	job := clientJob{Base: api.base, AdminToken: adminToken, Dir: dir.toJSON(), Clients: cfg.Clients,
		Duration: cfg.Duration, IdempotencyKeys: cfg.IdempotencyKeys}
	who := "reso process (server and load)"
	if cfg.ClientCommand != nil {
		who = "server process"
	}
	run := func(name, label string) (clientResult, error) {
		job.Phase = name
		end := cfg.phase(name)
		pool, used := poolWaits(srv), cpu.start(ctx)
		var res clientResult
		var err error
		if cfg.ClientCommand != nil {
			res, err = runChild(ctx, cfg.ClientCommand, job, cfg.Progress)
		} else {
			res, err = runJob(ctx, hc, job)
		}
		end()
		if err != nil {
			return res, err
		}
		res.Phase.ProcessCPUMs, res.Phase.PostgresCPUMs = used(res.Phase.Requests)
		cfg.printPhase(label, res.Phase)
		fmt.Fprintf(cfg.Progress, "  %s\n  cpu per request: %s %.3f ms, postgres backends %.3f ms",
			pool(), who, res.Phase.ProcessCPUMs, res.Phase.PostgresCPUMs)
		if res.Phase.ClientCPUMs > 0 {
			fmt.Fprintf(cfg.Progress, ", load process %.3f ms", res.Phase.ClientCPUMs)
		}
		fmt.Fprintln(cfg.Progress)
		return res, nil
	}
	res, err := run("commands", "commands")
	if err != nil {
		return rep, err
	}
	rep.Commands, job.IDs = res.Phase, res.IDs
	if (&needIDs{per: res.IDs}).len() == 0 {
		return rep, errors.New("no command succeeded: nothing to read")
	}
	if res, err = run("get_need", "GET need"); err != nil {
		return rep, err
	}
	rep.GetNeed = res.Phase
	if res, err = run("stats", "GET stats"); err != nil {
		return rep, err
	}
	rep.Stats, rep.StatsRows = res.Phase, res.StatsRows
	return rep, nil
}

// benchMaster is the master key of the run. A kept schema keeps its
// master key in a table of its own (bench data only), so that a later run
// with --schema opens the contact keys the earlier runs wrapped.
func benchMaster(ctx context.Context, dsn string, kept bool) (*keys.Master, error) {
	if !kept {
		return keys.GenerateMaster()
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_master_key (k text NOT NULL)`); err != nil {
		return nil, fmt.Errorf("bench master key: %w", err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO bench_master_key SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM bench_master_key)`,
		base64.StdEncoding.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("bench master key: %w", err)
	}
	var enc string
	if err := conn.QueryRow(ctx, `SELECT k FROM bench_master_key`).Scan(&enc); err != nil {
		return nil, fmt.Errorf("bench master key: %w", err)
	}
	return keys.ParseMaster(enc)
}

// countLog counts the needs and events of the log at dsn.
func countLog(ctx context.Context, dsn string) (needs int, events int64, err error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE event_type = $1), count(*) FROM events`,
		domain.TypeNeedCaptured).Scan(&needs, &events); err != nil {
		return 0, 0, fmt.Errorf("count needs: %w", err)
	}
	return needs, events, nil
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
