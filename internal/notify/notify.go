package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/mail"
	"github.com/reso-fr/reso/projections/directory"
	"github.com/reso-fr/reso/projections/needs"
)

// ReadModels are the queries the notifier asks of the read models;
// *readmodels.Engine is one.
type ReadModels interface {
	// WaitingNeedsForwardedBetween returns the needs still waiting for a
	// referent whose first forward happened in (after, until].
	WaitingNeedsForwardedBetween(ctx context.Context, after, until time.Time) ([]uuid.UUID, error)
	// ReferentsWithPending returns the active referents with a match still
	// quo on a need that is not abandoned.
	ReferentsWithPending(ctx context.Context) ([]uuid.UUID, error)
	// Inbox lists a referent's matches in a tab (the digest reads "quo").
	Inbox(ctx context.Context, referentID uuid.UUID, tab string, now time.Time, limit int, cursor string) (needs.MatchPage, error)
	// UserByEmail returns the user registered with email (any case), or
	// an error wrapping projections.ErrNotFound.
	UserByEmail(ctx context.Context, email string) (directory.UserRow, error)
	// WaitFor blocks until the read models have folded the log up to pos,
	// or ctx ends.
	WaitFor(ctx context.Context, pos eventstore.Position) error
}

// Config is what a Notifier needs. Store, Keys, ReadModels and Sender are
// required, and one of Postgres and SQLitePath.
type Config struct {
	Store      eventstore.Store
	Keys       *keys.Keyring
	ReadModels ReadModels
	Sender     mail.Sender
	// From is the sender of every mail (default "Réso
	// <ne-pas-repondre@localhost>").
	From mail.Address
	// BaseURL is the console's address; links are {BaseURL}/besoins/{id}
	// and {BaseURL}/connexion/lien?jeton=... (default http://localhost:8080).
	BaseURL string
	// Postgres holds River's tables and the notifier's, in the pool's
	// schema (the database's, on PostgreSQL).
	Postgres *pgxpool.Pool
	// SQLitePath is the SQLite file holding River's tables and the
	// notifier's, on the embedded default (the data directory's notify.db).
	SQLitePath string
	Geography  *domain.Geography // nil: domain.DefaultGeography()
	// Thresholds are the reminder days (zero: domain.DefaultThresholds()).
	Thresholds domain.Thresholds
	// Location is where the digest's Tuesday 09:00 is (nil: Europe/Paris).
	Location *time.Location
	// Now is the clock of reminders, digests and sign-in links (nil:
	// time.Now). Tests move it.
	Now func() time.Time
	// ScanInterval is how often the periodic job looks for reminders and
	// digests due (default 5 min).
	ScanInterval time.Duration
	// RetryBase is the wait before the second attempt of a failed delivery;
	// each later one doubles it, up to RetryMax (defaults 30 s and 1 h).
	RetryBase, RetryMax time.Duration
	// MaxAttempts bounds the attempts of a delivery (default 12: about 5
	// hours with the default waits) before it waits for an admin's retry.
	MaxAttempts int
	// JobTimeout bounds one attempt (default 1 min); a job still running
	// RescueAfter after it started (its process died) runs again
	// (default 10 min, more than JobTimeout).
	JobTimeout, RescueAfter time.Duration
	// Workers is how many deliveries run at once in this process (default 8).
	Workers int
	// MaxEventAge: an event recorded longer than this after it happened
	// is imported history, and notifies nobody (default 24 h).
	MaxEventAge time.Duration
	// StandbyRetry is how often a standby replica tries to take the
	// follower over (default 2 s); RetryDelay the pause after a failure
	// (default 1 s).
	StandbyRetry, RetryDelay time.Duration
	// PollInterval is how often River looks for new jobs when no
	// notification wakes it (default 1 s on PostgreSQL, 100 ms on SQLite,
	// whose driver has no LISTEN).
	PollInterval time.Duration
	Logger       *slog.Logger
}

func (c *Config) defaults() error {
	if c.Store == nil || c.Keys == nil || c.ReadModels == nil || c.Sender == nil {
		return errors.New("notify: Store, Keys, ReadModels and Sender are required")
	}
	if (c.Postgres == nil) == (c.SQLitePath == "") {
		return errors.New("notify: give exactly one of Postgres and SQLitePath")
	}
	if c.From.Email == "" {
		c.From = mail.Address{Name: "Réso", Email: "ne-pas-repondre@localhost"}
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://localhost:8080"
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("notify: base URL %q must be an http(s) URL", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Geography == nil {
		c.Geography = domain.DefaultGeography()
	}
	if c.Thresholds == (domain.Thresholds{}) {
		c.Thresholds = domain.DefaultThresholds()
	}
	if err := c.Thresholds.Validate(); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if c.Location == nil {
		if c.Location, err = time.LoadLocation("Europe/Paris"); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.ScanInterval, 5*time.Minute)
	def(&c.RetryBase, 30*time.Second)
	def(&c.RetryMax, time.Hour)
	def(&c.JobTimeout, time.Minute)
	def(&c.RescueAfter, 10*time.Minute)
	def(&c.MaxEventAge, 24*time.Hour)
	def(&c.StandbyRetry, 2*time.Second)
	def(&c.RetryDelay, time.Second)
	if c.Postgres != nil {
		def(&c.PollInterval, time.Second)
	} else {
		def(&c.PollInterval, 100*time.Millisecond)
	}
	if c.RescueAfter <= c.JobTimeout {
		return fmt.Errorf("notify: rescue delay %s must exceed the job timeout %s", c.RescueAfter, c.JobTimeout)
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 12
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Notifier follows the log and sends mails. Create it with New, run it
// with Start, stop it with Stop.
type Notifier struct {
	cfg Config
	log *slog.Logger
	q   queue
	db  *sql.DB // the SQLite file, when the notifier opened one

	people peopleCache

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	started bool

	metrics *metrics
}

// queueName is River's queue of the notifier's jobs.
const queueName = "notify"

// New migrates the queue's database (River's schema and the notifier's
// tables) and returns a Notifier that has not started yet. It returns an
// error for an incomplete configuration and the database's error.
func New(ctx context.Context, cfg Config) (*Notifier, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	n := &Notifier{cfg: cfg, log: cfg.Logger.With("component", "notify"), metrics: newMetrics()}
	n.people.store = cfg.Store
	rc := n.riverConfig()
	if cfg.Postgres != nil {
		if err := MigratePostgres(ctx, cfg.Postgres, n.log); err != nil {
			return nil, err
		}
		q, err := newPostgresQueue(cfg.Postgres, rc)
		if err != nil {
			return nil, err
		}
		n.q = q
		return n, nil
	}
	file, err := OpenSQLite(cfg.SQLitePath)
	if err != nil {
		return nil, err
	}
	if err := MigrateSQLite(ctx, file, n.log); err != nil {
		file.Close()
		return nil, err
	}
	db := file.SQL()
	if err := requeueOrphans(ctx, db, n.log); err != nil {
		db.Close()
		return nil, err
	}
	q, err := newSQLiteQueue(db, rc)
	if err != nil {
		db.Close()
		return nil, err
	}
	n.q, n.db = q, db
	return n, nil
}

// requeueOrphans makes the notifier's jobs left running in the SQLite file
// available again. One process serves a data directory, so a job running
// when it starts belonged to a process that died (SIGKILL, a crash): River
// would rescue it only RescueAfter later, plus its rescuer's half minute.
// The job's first step (is its NotificationSent recorded?) keeps a mail the
// dead process did send from going twice. On PostgreSQL other replicas may
// be running those jobs: River's rescuer decides there.
func requeueOrphans(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	res, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running' AND queue = $1`, queueName)
	if err != nil {
		return fmt.Errorf("notify: requeue jobs of a dead process: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		log.Info("requeued jobs a dead process left running", "jobs", n)
	}
	return nil
}

// SQLiteFile is the name of the notifier's SQLite file in a data directory.
const SQLiteFile = "notify.db"

// SQLitePath is the notifier's SQLite file in the data directory dir.
func SQLitePath(dir string) string { return filepath.Join(dir, SQLiteFile) }

// OpenSQLite opens the notifier's SQLite file (WAL, like the store's) with
// one connection: River's driver wants one, as SQLite takes one writer at
// a time and River's maintenance runs in parallel. It returns the driver's
// error.
func OpenSQLite(path string) (*sqlite.DB, error) {
	db, err := sqlite.OpenDB(path)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	db.SQL().SetMaxOpenConns(1)
	db.SQL().SetMaxIdleConns(1)
	return db, nil
}

// riverConfig is River's configuration of the notifier's jobs.
func (n *Notifier) riverConfig() *river.Config {
	workers := river.NewWorkers()
	river.AddWorker(workers, &deliverWorker{n: n})
	river.AddWorker(workers, &scanWorker{n: n})
	return &river.Config{
		Queues:  map[string]river.QueueConfig{queueName: {MaxWorkers: n.cfg.Workers}},
		Workers: workers,
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(n.cfg.ScanInterval),
			func() (river.JobArgs, *river.InsertOpts) { return scanArgs{}, nil },
			&river.PeriodicJobOpts{ID: "notify_scan", RunOnStart: true})},
		RetryPolicy:          retryPolicy{base: n.cfg.RetryBase, max: n.cfg.RetryMax},
		MaxAttempts:          n.cfg.MaxAttempts,
		JobTimeout:           n.cfg.JobTimeout,
		RescueStuckJobsAfter: n.cfg.RescueAfter,
		FetchPollInterval:    n.cfg.PollInterval,
		// River fetches at most Workers jobs per fetch, and fetches at
		// most once per cooldown: its default 100 ms capped a burst at
		// 80 mails a second with 8 workers (docs/benchmarks.md).
		FetchCooldown:               10 * time.Millisecond,
		CompletedJobRetentionPeriod: 7 * 24 * time.Hour,
		// Failed deliveries wait for an admin: keep them long.
		DiscardedJobRetentionPeriod: 90 * 24 * time.Hour,
		CancelledJobRetentionPeriod: 90 * 24 * time.Hour,
		Logger:                      n.log.With("component", "river"),
	}
}

// Start enables the notifier, starts River (deliveries, periodic scans)
// and the log follower. It returns River's or the database's error.
func (n *Notifier) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started {
		return errors.New("notify: started twice")
	}
	if err := n.Enable(ctx); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if err := n.q.start(runCtx); err != nil {
		cancel()
		return fmt.Errorf("notify: start river: %w", err)
	}
	n.cancel, n.done, n.started = cancel, make(chan struct{}), true
	go func() {
		defer close(n.done)
		n.follow(runCtx)
	}()
	n.log.Info("notifier started", "transport", n.cfg.Sender.Transport(), "queue", n.q.dialect(), "base_url", n.cfg.BaseURL)
	return nil
}

// Stop stops the follower, lets running deliveries finish (until ctx ends,
// then cancels them) and closes what New opened. It is safe to call on a
// notifier that never started.
func (n *Notifier) Stop(ctx context.Context) error {
	n.mu.Lock()
	cancel, done, started := n.cancel, n.done, n.started
	n.started = false
	n.mu.Unlock()
	var errs []error
	if started {
		cancel()
		select {
		case <-done:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("notify: follower stop: %w", ctx.Err()))
		}
		if err := n.q.stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
			// Deliveries still running (a mail server that hangs): cancel
			// them rather than leave them running past the storage; they
			// run again at the next start.
			hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = n.q.stopAndCancel(hard)
			cancel()
			errs = append(errs, fmt.Errorf("notify: stop river: %w", err))
		}
	}
	if err := n.cfg.Sender.Close(); err != nil {
		errs = append(errs, err)
	}
	if n.db != nil {
		if err := n.db.Close(); err != nil {
			errs = append(errs, err)
		}
		n.db = nil
	}
	return errors.Join(errs...)
}

// Names of the notifier's cursors in notify_state.
const (
	stateLog       = "log"
	stateReminders = "reminders"
	stateDigest    = "digest"
)

func nowMicros() int64 { return time.Now().UnixMicro() }

func formatMicros(t time.Time) string { return fmt.Sprint(t.UnixMicro()) }

func parseMicros(s string) (time.Time, error) {
	var us int64
	if _, err := fmt.Sscan(s, &us); err != nil {
		return time.Time{}, fmt.Errorf("instant %q: %w", s, err)
	}
	return time.UnixMicro(us).UTC(), nil
}

// errMoved means a cursor no longer had the value a transaction expected:
// another runner moved it. The caller reads it again.
var errMoved = errors.New("notify: cursor moved meanwhile")

// readState reads a cursor in t.
func readState(ctx context.Context, t txn, name string) (string, error) {
	var v string
	if err := t.queryRow(ctx, `SELECT value FROM notify_state WHERE name = $1`, name).Scan(&v); err != nil {
		return "", fmt.Errorf("notify: cursor %s: %w", name, err)
	}
	return v, nil
}

// state reads a cursor in a transaction of its own.
func (n *Notifier) state(ctx context.Context, name string) (string, error) {
	var v string
	err := n.q.inTx(ctx, func(t txn) error {
		var err error
		v, err = readState(ctx, t, name)
		return err
	})
	return v, err
}

// moveState sets a cursor from old to v in t, or returns errMoved.
func moveState(ctx context.Context, t txn, name, old, v string) error {
	n, err := t.exec(ctx, `UPDATE notify_state SET value = $1, updated_at = $2 WHERE name = $3 AND value = $4`,
		v, nowMicros(), name, old)
	if err != nil {
		return fmt.Errorf("notify: move cursor %s: %w", name, err)
	}
	if n == 0 {
		return errMoved
	}
	return nil
}
