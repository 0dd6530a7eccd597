package projections

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/sqldb"
)

// Options configure an Engine. The zero value is usable.
type Options struct {
	// Projections limits the engine to these read models (nil: all it
	// knows).
	Projections []string
	// BatchSize is the most events a runner folds per transaction
	// (default 1000). A rebuild reads RebuildBatch events at a time
	// (default 10000) and keeps what it folds in memory, writing it every
	// RebuildFlush events (default 200000) in one transaction.
	BatchSize    int
	RebuildBatch int
	RebuildFlush int
	// RetryDelay is the pause before a failed projection restarts (default
	// 1 s); StandbyRetry how often a standby process tries to take a
	// projection over (default 2 s).
	RetryDelay   time.Duration
	StandbyRetry time.Duration
	// BeforeCommit, when set, runs inside each runner batch's transaction
	// just before it commits; an error makes the batch fail and roll back.
	// Tests use it to inject failures.
	BeforeCommit func(projection string, events []eventstore.Event) error
	// Logger (nil: slog.Default()).
	Logger *slog.Logger
}

func (o *Options) defaults(names []string) error {
	if o.Projections == nil {
		o.Projections = names
	}
	for _, n := range o.Projections {
		if !slices.Contains(names, n) {
			return fmt.Errorf("projection %q: %w", n, ErrUnknownProjection)
		}
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.RebuildBatch <= 0 {
		o.RebuildBatch = 10000
	}
	if o.RebuildFlush <= 0 {
		o.RebuildFlush = 200000
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	if o.StandbyRetry <= 0 {
		o.StandbyRetry = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

// States of a projection in Status.
const (
	StateRunning    = "running"
	StateStopped    = "stopped"
	StateFailed     = "failed"
	StateRebuilding = "rebuilding"
	StateStandby    = "standby"
)

// Status describes one projection.
type Status struct {
	Name       string  `json:"name"`
	Position   string  `json:"position"`
	LagEvents  int64   `json:"lag_events"`
	LagSeconds float64 `json:"lag_seconds"`
	State      string  `json:"state"`
	LastError  string  `json:"last_error,omitempty"`
}

// Engine runs the projections of one read-model database. It is safe for
// concurrent use.
type Engine struct {
	db      sqldb.DB
	dialect sqldb.Dialect // db's
	store   eventstore.Store
	models  []ReadModel // in the order they run
	opts    Options
	log     *slog.Logger

	mu      sync.Mutex
	states  map[string]*runState
	advance chan struct{} // closed and replaced when a checkpoint moves

	// rebuilding holds a token while a rebuild runs: one at a time.
	rebuilding chan struct{}
}

type runState struct {
	state      string
	lastErr    string
	rebuilding bool
}

// New returns an engine on db (SQLite or PostgreSQL) following store,
// maintaining models. It writes only through db (Exec, WriteTx, relays),
// so that on SQLite its writers take turns with the file's others. Call
// Migrate before Run or any query. It returns an error for an unknown
// dialect, a read model without a name or declared twice, or an unknown
// name in opts.Projections.
func New(db sqldb.DB, store eventstore.Store, models []ReadModel, opts Options) (*Engine, error) {
	dialect := db.Dialect()
	if dialect != sqldb.SQLite && dialect != sqldb.Postgres {
		return nil, fmt.Errorf("projections: unknown dialect %q", dialect)
	}
	names := make([]string, 0, len(models))
	for _, m := range models {
		if m.Name == "" || m.New == nil || m.Version < 1 || slices.Contains(names, m.Name) {
			return nil, fmt.Errorf("projections: read model %q declared without a name, fold or version, or twice", m.Name)
		}
		names = append(names, m.Name)
	}
	if err := opts.defaults(names); err != nil {
		return nil, err
	}
	e := &Engine{db: db, dialect: dialect, store: store, models: slices.Clone(models), opts: opts,
		log: opts.Logger.With("component", "projections"), states: make(map[string]*runState),
		advance: make(chan struct{}), rebuilding: make(chan struct{}, 1)}
	for _, n := range opts.Projections {
		e.states[n] = &runState{state: StateStopped}
	}
	return e, nil
}

// Names returns the name of every read model the engine knows, in the
// order they run (Options.Projections may run fewer).
func (e *Engine) Names() []string {
	out := make([]string, len(e.models))
	for i, m := range e.models {
		out[i] = m.Name
	}
	return out
}

// model returns the read model called name, or ErrUnknownProjection.
func (e *Engine) model(name string) (ReadModel, error) {
	for _, m := range e.models {
		if m.Name == name {
			return m, nil
		}
	}
	return ReadModel{}, fmt.Errorf("projection %q: %w", name, ErrUnknownProjection)
}

// start builds a fresh projection of the read model called name.
func (e *Engine) start(name string, fresh bool) (running, error) {
	m, err := e.model(name)
	if err != nil {
		return running{}, err
	}
	return running{ReadModel: m, p: m.New(fresh)}, nil
}

// running is a projection with the read model it folds into.
type running struct {
	ReadModel
	p Projection
}

// Migrate creates the read-model tables and checkpoints when missing. It is
// idempotent; it returns the database error, wrapped.
func (e *Engine) Migrate(ctx context.Context) error {
	return migrate(ctx, e.db, e.models)
}

func (e *Engine) setState(name, state, lastErr string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.states[name]
	st.state = state
	if lastErr != "" {
		st.lastErr = lastErr
	}
}

// moved wakes WaitFor callers.
func (e *Engine) moved() {
	e.mu.Lock()
	close(e.advance)
	e.advance = make(chan struct{})
	e.mu.Unlock()
}

func (e *Engine) advanced() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.advance
}

// Run runs every projection of the engine until ctx ends, then returns nil.
// A projection that fails (an event it cannot apply, a database error) is
// marked failed with its error, which Status shows, and restarts from its
// checkpoint after Options.RetryDelay; the event is never skipped.
//
// Read models whose tables an older schema version built are first
// rebuilt beside them and swapped in (see upgrade.go); the others run at
// once.
func (e *Engine) Run(ctx context.Context) error {
	tail := newLogTail(ctx, e.store, tailKeep, e.log)
	var wg sync.WaitGroup
	start := func(n string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.runLoop(ctx, n, tail)
		}()
	}
	outdated := e.outdated(ctx)
	for _, n := range e.opts.Projections {
		if !slices.Contains(outdated, n) {
			start(n)
		}
	}
	if len(outdated) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.upgradeTogether(ctx, outdated)
			for _, n := range outdated {
				start(n)
			}
		}()
	}
	wg.Wait()
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (e *Engine) runLoop(ctx context.Context, name string, tail *logTail) {
	defer e.setState(name, StateStopped, "")
	failed := false // the last run failed: the next one commits page by page
	for ctx.Err() == nil {
		release, held, err := e.lock(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			e.fail(ctx, name, fmt.Errorf("lock: %w", err))
			sleepCtx(ctx, e.opts.RetryDelay)
			continue
		}
		if !held {
			e.setState(name, StateStandby, "")
			sleepCtx(ctx, e.opts.StandbyRetry)
			continue
		}
		err = e.upgrade(ctx, name)
		if err == nil {
			err = e.follow(ctx, name, failed, tail)
		}
		release()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errSwapped):
			failed = false
			continue
		}
		failed = true
		e.fail(ctx, name, err)
		sleepCtx(ctx, e.opts.RetryDelay)
	}
}

// fail makes a projection's error visible (in memory and in its checkpoint
// row, for other processes) before the runner may restart it.
func (e *Engine) fail(ctx context.Context, name string, err error) {
	msg := err.Error()
	e.log.Error("projection failed", "projection", name, "err", msg)
	e.setState(name, StateFailed, msg)
	if _, dbErr := e.db.Exec(ctx, `UPDATE projection_checkpoints SET last_error=$1 WHERE name=$2`, msg, name); dbErr != nil {
		e.log.Error("record projection failure", "projection", name, "err", dbErr)
	}
}

// follow subscribes from the projection's checkpoint and folds batches until
// an error or the end of ctx.
//
// Live, each batch is what has arrived (BatchSize at most) and is committed
// at once. Behind the log, pages come back full: the runner then reads
// pages of RebuildBatch events, decoded in parallel while it folds and
// writes, and keeps folding the pages already read into memory, up to
// RebuildFlush events, before it commits them in one transaction, so that a
// catch-up costs a few large writes instead of thousands of small ones. A
// runner starting from the beginning of the log (empty tables) loads its
// new rows with COPY, as a rebuild does. Behind, the runner reads the log
// itself; live, it reads what tail, shared by the engine's runners, has
// read (see logTail).
//
// careful (after a failure) commits every page on its own, so that the
// checkpoint of a projection stuck on an event stops just before the batch
// holding it.
func (e *Engine) follow(ctx context.Context, name string, careful bool, tail *logTail) error {
	cp, err := e.readCheckpoint(ctx, name)
	if err != nil {
		return err
	}
	p, err := e.start(name, cp.pos.IsZero())
	if err != nil {
		return err
	}
	// A runner starting from the beginning of the log has empty tables: it
	// loads them with COPY and without their secondary indexes, which it
	// builds once it has caught up (as a rebuild does after its load). Any
	// other start makes sure they exist, in case a process died between.
	var bulk *bulkSet
	indexes := p.Tables
	if cp.pos.IsZero() {
		bulk = newBulkSet()
		if err := e.execEach(ctx, indexes, Table.dropIndexes); err != nil {
			return fmt.Errorf("projection %s: %w", name, err)
		}
	} else if err := e.ensureIndexes(ctx, indexes); err != nil {
		return fmt.Errorf("projection %s: %w", name, err)
	}
	sub := tail.subscribe(cp.pos)
	defer sub.Close()
	big := max(e.opts.BatchSize, e.opts.RebuildBatch)
	if careful {
		big = e.opts.BatchSize
	}
	pf := newPrefetcher(ctx, sub.Next, e.opts.BatchSize, big, followAhead, false)
	defer pf.stop()
	e.setState(name, StateRunning, "")
	// The batch's events are kept only for Options.BeforeCommit: a
	// catch-up transaction spans up to RebuildFlush of them.
	var batch []eventstore.Event
	var last eventstore.Position
	pending := 0
	for {
		pg, ok := pf.next(ctx)
		if !ok {
			return fmt.Errorf("read log for %s: %w", name, cmp.Or(ctx.Err(), errReaderStopped))
		}
		if pg.err != nil {
			return fmt.Errorf("read log for %s: %w", name, pg.err)
		}
		if len(pg.evs) == 0 {
			continue
		}
		// The fold happens in memory before the transaction begins: on
		// PostgreSQL a writing transaction holds back the log's visibility
		// horizon for every reader, so it must stay short.
		if err := p.p.Apply(ctx, Txn{d: e.dialect, db: e.db.SQL()}, "", pg.ds); err != nil {
			return fmt.Errorf("projection %s: %w", p.Name, err)
		}
		if e.opts.BeforeCommit != nil {
			batch = append(batch, pg.evs...)
		}
		last, pending = pg.evs[len(pg.evs)-1].Position, pending+len(pg.evs)
		if !careful && pg.full && pf.ready() && pending < e.opts.RebuildFlush {
			continue // behind, and the next page is read: fold it into the same transaction
		}
		if err := e.commitBatch(ctx, p, cp.generation, bulk, last, batch); err != nil {
			return err
		}
		batch, pending = batch[:0], 0
		e.moved()
		if !pg.full {
			careful = false // caught up: past whatever made the last run fail
			if cp.pos.IsZero() && indexes != nil {
				if err := e.ensureIndexes(ctx, indexes); err != nil {
					return fmt.Errorf("projection %s: %w", name, err)
				}
				if err := e.tidy(ctx, indexes); err != nil {
					return fmt.Errorf("projection %s: %w", name, err)
				}
				indexes = nil
			}
		}
	}
}

var errReaderStopped = errors.New("log reader stopped")

// ensureIndexes creates the secondary indexes of tables that are missing,
// under the DDL lock (another server's Migrate may be creating them). It
// returns the database error.
func (e *Engine) ensureIndexes(ctx context.Context, tables []Table) error {
	unlock, err := lockDDL(ctx, e.db)
	if err != nil {
		return err
	}
	defer unlock()
	for _, t := range tables {
		stmts, err := liveIndexDDL(ctx, e.db.SQL(), e.dialect, t)
		if err != nil {
			return err
		}
		for _, q := range stmts {
			if err := e.exec(ctx, q); err != nil {
				return fmt.Errorf("table %s: %w", t.Name, err)
			}
		}
	}
	return nil
}

// tidy vacuums and analyzes, on PostgreSQL, tables a runner has just
// filled from empty (after a bulk load of the log): the rows its
// successive catch-up transactions rewrote (statistics cells, needs
// spanning two batches) leave dead versions, and the planner has no
// statistics of tables that were empty. Autovacuum would do both in time,
// where it runs; queries should not wait for it.
func (e *Engine) tidy(ctx context.Context, tables []Table) error {
	if e.dialect != sqldb.Postgres {
		return nil
	}
	return e.execEach(ctx, tables, func(t Table) []string { return []string{"VACUUM (ANALYZE) " + t.Name} })
}

// execEach runs the statements stmts gives for each of tables, each on its
// own (through the write gate on SQLite).
func (e *Engine) execEach(ctx context.Context, tables []Table, stmts func(Table) []string) error {
	for _, t := range tables {
		for _, q := range stmts(t) {
			if err := e.exec(ctx, q); err != nil {
				return fmt.Errorf("table %s: %w", t.Name, err)
			}
		}
	}
	return nil
}

// followAhead is how many pages a runner reads ahead of its fold.
const followAhead = 4

// commitBatch moves the checkpoint to last and writes what the projection
// folded up to there, in one transaction (evs are the batch's events when
// Options.BeforeCommit needs them). The checkpoint is
// updated first, so that a rebuild's swap (which locks the same row first)
// and a runner never wait for each other in a cycle; its generation guard
// makes a runner whose tables were swapped restart.
//
// Every statement is a round trip, and live each projection commits a
// few hundred batches a second: on PostgreSQL the checkpoint's UPDATE also
// turns the transaction's commit asynchronous (see beginWrite), and a batch
// that changes none of the projection's rows (the directory's, most of the
// time) is that UPDATE alone, in a transaction of its own.
func (e *Engine) commitBatch(ctx context.Context, p running, gen int64, bulk *bulkSet, last eventstore.Position, evs []eventstore.Event) error {
	if e.dialect == sqldb.Postgres && p.p.Idle() {
		if e.opts.BeforeCommit != nil {
			if err := e.opts.BeforeCommit(p.Name, evs); err != nil {
				return fmt.Errorf("projection %s: %w", p.Name, err)
			}
		}
		return e.moveCheckpoint(ctx, e.db.SQL(), p.Name, gen, last)
	}
	return e.writeTx(ctx, p.Name+" batch", func(tx *sqldb.Tx) error {
		if err := e.moveCheckpoint(ctx, tx, p.Name, gen, last); err != nil {
			return err
		}
		if err := p.p.Flush(ctx, Txn{tx: tx.Tx, d: e.dialect, db: e.db.SQL(), conn: tx.Conn, bulk: bulk}, ""); err != nil {
			return fmt.Errorf("projection %s: %w", p.Name, err)
		}
		if e.opts.BeforeCommit != nil {
			if err := e.opts.BeforeCommit(p.Name, evs); err != nil {
				return fmt.Errorf("projection %s: %w", p.Name, err)
			}
		}
		return nil
	})
}

// writeTx runs fn in a write transaction of the engine's database (see
// sqldb.DB.WriteTx: on SQLite it takes its turn among the file's writers,
// before a connection). fn's errors come back as they are, BEGIN's and
// COMMIT's wrapped with what.
func (e *Engine) writeTx(ctx context.Context, what string, fn func(tx *sqldb.Tx) error) error {
	var fnErr error
	err := e.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		fnErr = fn(tx)
		return fnErr
	})
	if err != nil && fnErr == nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return err
}

// moveCheckpoint sets the checkpoint of projection name to last, if its
// generation is still gen (errSwapped otherwise), through ex: a
// transaction, or the pool for a statement that is its own transaction.
// On PostgreSQL the same statement makes the transaction's commit
// asynchronous, as beginWrite's SET LOCAL does, without a round trip of
// its own: the row is only updated once set_config has run.
func (e *Engine) moveCheckpoint(ctx context.Context, ex interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, name string, gen int64, last eventstore.Position) error {
	q := `UPDATE projection_checkpoints SET position=$1, updated_at=$2 WHERE name=$3 AND generation=$4`
	if e.dialect == sqldb.Postgres {
		q += ` AND set_config('synchronous_commit', 'off', true) = 'off'`
	}
	res, err := ex.ExecContext(ctx, q, last.String(), time.Now().UnixMicro(), name, gen)
	if err != nil {
		return fmt.Errorf("move checkpoint of %s: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("move checkpoint of %s: %w", name, err)
	} else if n == 0 {
		return errSwapped
	}
	return nil
}
