package projections

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/sqldb"
)

// Progress reports a rebuild's advance to its caller.
type Progress struct {
	Projections  []string      `json:"projections"`
	Phase        string        `json:"phase"` // "fold", "swap", "done"
	Events       int64         `json:"events"`
	Total        int64         `json:"total"` // estimated events in the log
	Position     string        `json:"position"`
	EventsPerSec float64       `json:"events_per_sec"`
	Elapsed      time.Duration `json:"elapsed"`
	ETA          time.Duration `json:"eta"`
}

// Rebuild folds the whole log into new tables of projection name beside the
// live ones, catches up, and swaps them in one transaction with the
// checkpoint; queries read the old tables until the swap. progress (may be
// nil) is called after each batch. It returns ErrUnknownProjection,
// ErrRebuildRunning, an event the projection cannot apply, or the database
// or store error.
func (e *Engine) Rebuild(ctx context.Context, name string, progress func(Progress)) error {
	if _, err := e.model(name); err != nil {
		return fmt.Errorf("rebuild %q: %w", name, ErrUnknownProjection)
	}
	return e.rebuild(ctx, []string{name}, progress)
}

// RebuildAll rebuilds every projection of the engine in one pass over the
// log (see Rebuild).
func (e *Engine) RebuildAll(ctx context.Context, progress func(Progress)) error {
	return e.rebuild(ctx, e.opts.Projections, progress)
}

// StartRebuild runs Rebuild(name) in a goroutine of its own. It returns at
// once: ErrUnknownProjection, or ErrRebuildRunning when another rebuild of
// any projection holds the engine (it runs one at a time), or a channel
// that receives the rebuild's outcome. The projection's status reads
// StateRebuilding from the moment it returns.
func (e *Engine) StartRebuild(ctx context.Context, name string, progress func(Progress)) (<-chan error, error) {
	if _, err := e.model(name); err != nil {
		return nil, fmt.Errorf("rebuild %q: %w", name, ErrUnknownProjection)
	}
	if !e.tryRebuild() {
		return nil, ErrRebuildRunning
	}
	names := []string{name}
	e.markRebuilding(names, true)
	done := make(chan error, 1)
	go func() {
		defer e.rebuilt()
		defer e.markRebuilding(names, false)
		done <- e.rebuildLocked(ctx, names, progress)
	}()
	return done, nil
}

func (e *Engine) markRebuilding(names []string, on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range names {
		if st := e.states[n]; st != nil {
			st.rebuilding = on
		}
	}
}

func (e *Engine) rebuild(ctx context.Context, names []string, progress func(Progress)) error {
	if !e.tryRebuild() {
		return ErrRebuildRunning
	}
	defer e.rebuilt()
	e.markRebuilding(names, true)
	defer e.markRebuilding(names, false)
	return e.rebuildLocked(ctx, names, progress)
}

// tryRebuild takes the engine's one rebuild token, unless a rebuild holds
// it; rebuilt gives it back.
func (e *Engine) tryRebuild() bool {
	select {
	case e.rebuilding <- struct{}{}:
		return true
	default:
		return false
	}
}

func (e *Engine) rebuilt() { <-e.rebuilding }

// waitRebuild takes the rebuild token, waiting for the rebuild that holds
// it; it returns ctx's error when ctx ends first.
func (e *Engine) waitRebuild(ctx context.Context) error {
	select {
	case e.rebuilding <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rebuildLocked is rebuild, the token held and names marked rebuilding.
func (e *Engine) rebuildLocked(ctx context.Context, names []string, progress func(Progress)) error {
	if progress == nil {
		progress = func(Progress) {}
	}

	projs := make([]running, len(names))
	for i, n := range names {
		p, err := e.start(n, true)
		if err != nil {
			return err
		}
		projs[i] = p
		if h, ok := p.p.(Holder); ok {
			h.Hold(true)
		}
		for _, t := range p.Tables {
			// A process that died after a swap on SQLite may have left the
			// old table, whose index names the new table needs.
			for _, q := range []string{`DROP TABLE IF EXISTS ` + t.Name + rebuildSuffix, `DROP TABLE IF EXISTS ` + t.Name + oldSuffix,
				t.create(t.Name+rebuildSuffix, e.dialect)} {
				if err := e.exec(ctx, q); err != nil {
					return fmt.Errorf("rebuild %s: prepare %s: %w", n, t.Name, err)
				}
			}
		}
	}
	head, err := e.store.Head(ctx)
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	pr := Progress{Projections: names, Phase: "fold", Total: int64(head.Minor)}
	start := time.Now()
	report := func(pos eventstore.Position) {
		pr.Position = pos.String()
		pr.Elapsed = time.Since(start)
		if s := pr.Elapsed.Seconds(); s > 0 {
			pr.EventsPerSec = float64(pr.Events) / s
		}
		pr.Total = max(pr.Total, pr.Events)
		if pr.EventsPerSec > 0 {
			pr.ETA = time.Duration(float64(pr.Total-pr.Events) / pr.EventsPerSec * float64(time.Second))
		}
		progress(pr)
	}

	// Each projection folds into memory and writes every RebuildFlush
	// events in a goroutine of its own (they share no state and no table),
	// while the prefetcher reads and decodes the next pages once for all:
	// reading, decoding, folding and each projection's writes overlap. The
	// fold stops after a short read: the rest is folded inside the swap.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// On SQLite the projections' flushes take turns. The DB's gate alone
	// would order their relays' slices, but each relay waits for the gate
	// holding a connection: with one relay at a time, the gate's holder
	// still finds one of the pool's few free (see sqldb.Relay and
	// eventstore/sqlite's relay).
	var writeMu sync.Mutex
	workers := make([]*rebuildWorker, len(projs))
	for i, p := range projs {
		w := &rebuildWorker{p: p, bulk: newBulkSet(), in: make(chan []Decoded, workerAhead), done: make(chan error, 1), start: start}
		workers[i] = w
		go func() { w.done <- e.runRebuildWorker(runCtx, cancel, w, &writeMu) }()
	}
	pos := eventstore.Start
	pf := newPrefetcher(runCtx, func(ctx context.Context, size int) ([]eventstore.Event, error) {
		evs, err := e.store.ReadAll(ctx, pos, size)
		if err == nil && len(evs) > 0 {
			pos = evs[len(evs)-1].Position // only the reader goroutine moves pos until it stops
		}
		return evs, err
	}, e.opts.RebuildBatch, e.opts.RebuildBatch, rebuildAhead, true)
	defer pf.stop()
	var readErr error
dispatch:
	for {
		pg, ok := pf.next(runCtx)
		if !ok {
			break
		}
		if pg.err != nil {
			readErr = fmt.Errorf("rebuild: %w", pg.err)
			cancel()
			break
		}
		for _, w := range workers {
			select {
			case w.in <- pg.ds:
			case <-runCtx.Done():
				break dispatch
			}
		}
		pr.Events += int64(len(pg.evs))
		if len(pg.evs) > 0 {
			report(pg.evs[len(pg.evs)-1].Position)
		}
	}
	for _, w := range workers {
		close(w.in)
	}
	// The first real error, not the cancellations it caused.
	errs := []error{readErr}
	for _, w := range workers {
		errs = append(errs, <-w.done)
	}
	pf.stop() // the reader has stopped: pos is the last position read
	if err := firstCause(ctx, errs); err != nil {
		return err
	}
	pr.Phase = "swap"
	report(pos)
	swapStart := time.Now()
	if err := e.swap(ctx, workers, pos, &pr); err != nil {
		return err
	}
	e.logStep(ctx, "all", "swap", start, swapStart)
	dropStart := time.Now()
	e.dropOld(ctx, projs)
	e.logStep(ctx, "all", "drop old tables", start, dropStart)
	pr.Phase = "done"
	report(eventstore.Position{})
	e.moved()
	return nil
}

// firstCause picks, among the errors of a rebuild's goroutines, one that
// is not the cancellation another one's failure caused.
func firstCause(ctx context.Context, errs []error) error {
	var canceled error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled) && ctx.Err() == nil:
			canceled = cmp.Or(canceled, err)
		default:
			return err
		}
	}
	return cmp.Or(canceled, ctx.Err())
}

// rebuildAhead is how many pages a rebuild reads ahead of its fold, and
// workerAhead how many decoded pages wait for each projection: while one
// writes (statistics take longest), the others and the reader go on. The
// pages are shared, so memory is bounded by the slowest projection's lag:
// 12 pages of 10,000 events at most.
const (
	rebuildAhead = 4
	workerAhead  = 8
)

// rebuildWorker is one projection being rebuilt, with the keys it has
// written to its tables (for COPY).
type rebuildWorker struct {
	p     running
	bulk  *bulkSet
	in    chan []Decoded
	done  chan error
	start time.Time // of the rebuild, for the step logs
}

// logStep logs at debug level how long one step of a rebuild took and
// when it ended: where a rebuild spends its time.
func (e *Engine) logStep(ctx context.Context, proj, step string, rebuildStart, stepStart time.Time) {
	now := time.Now()
	e.log.DebugContext(ctx, "rebuild step", "projection", proj, "step", step,
		"took", now.Sub(stepStart).Round(time.Millisecond), "at", now.Sub(rebuildStart).Round(time.Millisecond))
}

// runRebuildWorker folds the pages of w.in, writes every RebuildFlush
// events and at the end, then builds the indexes of its tables. After an
// error it cancels the rebuild and drains w.in.
func (e *Engine) runRebuildWorker(ctx context.Context, cancel context.CancelFunc, w *rebuildWorker, writeMu *sync.Mutex) error {
	var err error
	pending := 0
	foldStart := w.start
	for ds := range w.in {
		if err != nil {
			continue
		}
		if err = w.p.p.Apply(ctx, Txn{d: e.dialect, db: e.db.SQL()}, rebuildSuffix, ds); err != nil {
			err = fmt.Errorf("rebuild %s: %w", w.p.Name, err)
			cancel()
			continue
		}
		if pending += len(ds); pending >= e.opts.RebuildFlush {
			e.logStep(ctx, w.p.Name, "fold", w.start, foldStart)
			flushStart := time.Now()
			if err = e.flushRebuild(ctx, w, writeMu); err != nil {
				cancel()
			}
			e.logStep(ctx, w.p.Name, "flush", w.start, flushStart)
			pending, foldStart = 0, time.Now()
		}
	}
	if err != nil {
		return err
	}
	e.logStep(ctx, w.p.Name, "fold", w.start, foldStart)
	if h, ok := w.p.p.(Holder); ok {
		h.Hold(false) // this flush writes what it held
	}
	step := time.Now()
	if err := e.flushRebuild(ctx, w, writeMu); err != nil {
		cancel()
		return err
	}
	e.logStep(ctx, w.p.Name, "last flush", w.start, step)
	step = time.Now()
	if err := e.buildIndexes(ctx, w.p); err != nil {
		cancel()
		return err
	}
	e.logStep(ctx, w.p.Name, "indexes", w.start, step)
	return nil
}

// foldPage folds decoded events into projs (in memory, reading through tx
// when it is not nil).
func (e *Engine) foldPage(ctx context.Context, tx *sql.Tx, projs []running, ds []Decoded) error {
	for _, p := range projs {
		if err := p.p.Apply(ctx, Txn{tx: tx, d: e.dialect, db: e.db.SQL()}, rebuildSuffix, ds); err != nil {
			return fmt.Errorf("rebuild %s: %w", p.Name, err)
		}
	}
	return nil
}

// foldInto reads up to limit events after pos and folds them into projs
// (in memory, reading through tx when it is not nil). It returns how many
// events it folded and the new position.
func (e *Engine) foldInto(ctx context.Context, tx *sql.Tx, projs []running, pos eventstore.Position, limit int) (int, eventstore.Position, error) {
	evs, err := e.store.ReadAll(ctx, pos, limit)
	if err != nil {
		return 0, pos, fmt.Errorf("rebuild: read log: %w", err)
	}
	if len(evs) == 0 {
		return 0, pos, nil
	}
	ds, err := decodeBatch(evs)
	if err != nil {
		return 0, pos, fmt.Errorf("rebuild: %w", err)
	}
	if err := e.foldPage(ctx, tx, projs, ds); err != nil {
		return 0, pos, err
	}
	return len(evs), evs[len(evs)-1].Position, nil
}

// asyncCommit makes, on PostgreSQL, tx's commit not wait for the WAL
// flush (synchronous_commit off): a crash may lose the last transactions
// of the read models, but never part of one nor one without those before
// it, so the checkpoints written with the rows go back with them and the
// events are folded again. The log itself stays durable. It returns the
// database error.
func (e *Engine) asyncCommit(ctx context.Context, tx *sqldb.Tx) error {
	if e.dialect != sqldb.Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`)
	return err
}

// flushRebuild writes what w's projection folded in memory: on PostgreSQL
// in one transaction, on SQLite through a relay (see sqldb.Relay), the
// projections' flushes taking turns.
func (e *Engine) flushRebuild(ctx context.Context, w *rebuildWorker, writeMu *sync.Mutex) error {
	if rl, ok := e.db.(sqldb.Relayer); ok {
		writeMu.Lock()
		defer writeMu.Unlock()
		return e.flushRelayed(ctx, rl, w)
	}
	return e.writeTx(ctx, "rebuild "+w.p.Name, func(tx *sqldb.Tx) error {
		if err := e.asyncCommit(ctx, tx); err != nil {
			return fmt.Errorf("rebuild %s: begin: %w", w.p.Name, err)
		}
		if err := w.p.p.Flush(ctx, Txn{tx: tx.Tx, d: e.dialect, db: e.db.SQL(), conn: tx.Conn, bulk: w.bulk}, rebuildSuffix); err != nil {
			return fmt.Errorf("rebuild %s: %w", w.p.Name, err)
		}
		return nil
	})
}

// flushRelayed is flushRebuild through a relay: a run of short
// transactions that let the application's writers in between.
func (e *Engine) flushRelayed(ctx context.Context, rl sqldb.Relayer, w *rebuildWorker) (err error) {
	r, err := rl.Relay(ctx)
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", w.p.Name, err)
	}
	defer func() { r.Close(err != nil) }()
	tx := Txn{d: e.dialect, db: e.db.SQL(), conn: r.Conn(), bulk: w.bulk, relay: r}
	if err := w.p.p.Flush(ctx, tx, rebuildSuffix); err != nil {
		return fmt.Errorf("rebuild %s: %w", w.p.Name, err)
	}
	if err := r.Pause(ctx); err != nil {
		return fmt.Errorf("rebuild %s: %w", w.p.Name, err)
	}
	return nil
}

// buildIndexes creates the secondary indexes of p's loaded rebuild tables
// before the swap, so that the swap transaction, which live runners (and,
// on SQLite, every writer) wait for, stays short.
//
// On PostgreSQL it builds a few at a time on connections of their own,
// under temporary names the swap renames. It first analyzes the tables:
// their planner statistics go with them through the swap, so that the
// first queries on the new tables are planned from their contents rather
// than from defaults (which autovacuum, when it runs at all, corrects only
// later).
//
// On SQLite, which has one writer and cannot rename an index, it builds
// them one statement at a time, each in its turn among the file's writers
// (db.Exec), under the set of
// names the live table does not use (see altIndexSuffix).
func (e *Engine) buildIndexes(ctx context.Context, p running) error {
	if e.dialect == sqldb.SQLite {
		for _, t := range p.Tables {
			alt, err := sqliteAltIndexes(ctx, e.db.SQL(), t)
			if err != nil {
				return fmt.Errorf("rebuild %s: %w", p.Name, err)
			}
			for _, q := range t.indexDDLOn(t.Name+rebuildSuffix, !alt) {
				if err := e.exec(ctx, q); err != nil {
					return fmt.Errorf("rebuild %s: build index: %w", p.Name, err)
				}
			}
		}
		return nil
	}
	var stmts []string
	for _, t := range p.Tables {
		stmts = append(stmts, "ANALYZE "+t.Name+rebuildSuffix)
	}
	for _, t := range p.Tables {
		create, _ := t.rebuildIndexes()
		stmts = append(stmts, create...)
	}
	work := make(chan string)
	errs := make(chan error, indexBuilders)
	for range indexBuilders {
		go func() {
			var first error
			for q := range work {
				if first != nil {
					continue
				}
				if _, err := e.db.Exec(ctx, q); err != nil {
					first = fmt.Errorf("rebuild %s: build index: %w", p.Name, err)
				}
			}
			errs <- first
		}()
	}
	for _, q := range stmts {
		work <- q
	}
	close(work)
	var err error
	for range indexBuilders {
		err = cmp.Or(err, <-errs)
	}
	return err
}

// indexBuilders is how many indexes a rebuild builds at once.
const indexBuilders = 2

// oldSuffix names, on SQLite, a live table a swap has replaced, until
// dropOld drops it.
const oldSuffix = "_old"

// dropOld drops, on SQLite, the tables a swap set aside: first each
// index, then the table, each in its own statement and its own turn among
// the file's writers (db.Exec), so that the application's writes wait for
// one of them at most. A failure
// is logged: the rebuild is done, and the next one drops what is left.
func (e *Engine) dropOld(ctx context.Context, projs []running) {
	if e.dialect != sqldb.SQLite {
		return
	}
	for _, p := range projs {
		for _, t := range p.Tables {
			if err := e.dropSQLiteTable(ctx, t.Name+oldSuffix); err != nil {
				e.log.WarnContext(ctx, "rebuild: drop a replaced table", "table", t.Name+oldSuffix, "err", err)
			}
		}
	}
}

// dropSQLiteTable drops table's indexes one by one, then the table.
func (e *Engine) dropSQLiteTable(ctx context.Context, table string) error {
	rows, err := e.db.SQL().QueryContext(ctx,
		`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL`, table)
	if err != nil {
		return err
	}
	var indexes []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		indexes = append(indexes, n)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, n := range indexes {
		if err := e.exec(ctx, `DROP INDEX IF EXISTS `+n); err != nil {
			return err
		}
	}
	return e.exec(ctx, `DROP TABLE IF EXISTS `+table)
}

// exec runs one statement that writes, in a transaction of its own (on
// SQLite, in its turn among the file's writers). It returns the database
// error.
func (e *Engine) exec(ctx context.Context, q string) error {
	_, err := e.db.Exec(ctx, q)
	return err
}

// swap locks the checkpoints of projs (runners wait for it, and restart
// afterwards since the generation moves), folds what arrived meanwhile, then
// replaces the live tables with the rebuilt ones and sets the checkpoints,
// all in one transaction.
func (e *Engine) swap(ctx context.Context, workers []*rebuildWorker, pos eventstore.Position, pr *Progress) error {
	projs := make([]running, len(workers))
	for i, w := range workers {
		projs[i] = w.p
	}
	return e.writeTx(ctx, "rebuild: swap", func(tx *sqldb.Tx) error {
		if err := e.asyncCommit(ctx, tx); err != nil {
			return fmt.Errorf("rebuild: begin swap: %w", err)
		}
		return e.swapIn(ctx, tx, workers, projs, pos, pr)
	})
}

// swapIn is swap's transaction.
func (e *Engine) swapIn(ctx context.Context, tx *sqldb.Tx, workers []*rebuildWorker, projs []running, pos eventstore.Position, pr *Progress) error {
	for _, p := range projs {
		if _, err := tx.ExecContext(ctx,
			`UPDATE projection_checkpoints SET generation=generation+1 WHERE name=$1`, p.Name); err != nil {
			return fmt.Errorf("rebuild %s: lock checkpoint: %w", p.Name, err)
		}
	}
	for {
		n, next, err := e.foldInto(ctx, tx.Tx, projs, pos, e.opts.RebuildBatch)
		if err != nil {
			return err
		}
		pr.Events += int64(n)
		pos = next
		if n == 0 {
			break
		}
	}
	for _, w := range workers {
		if err := w.p.p.Flush(ctx, Txn{tx: tx.Tx, d: e.dialect, db: e.db.SQL(), conn: tx.Conn, bulk: w.bulk}, rebuildSuffix); err != nil {
			return fmt.Errorf("rebuild %s: %w", w.p.Name, err)
		}
	}
	for _, p := range projs {
		for _, t := range p.Tables {
			var stmts []string
			if e.dialect == sqldb.Postgres {
				// PostgreSQL names the primary key's index after the table it
				// was created for; give it the live name so that the next
				// rebuild can create its table again.
				_, rename := t.rebuildIndexes()
				stmts = append([]string{
					`DROP TABLE IF EXISTS ` + t.Name,
					`ALTER TABLE ` + t.Name + rebuildSuffix + ` RENAME TO ` + t.Name,
					`ALTER INDEX IF EXISTS ` + t.Name + rebuildSuffix + `_pkey RENAME TO ` + t.Name + `_pkey`,
				}, rename...)
			} else {
				// Dropping a large table takes SQLite long (it frees every
				// page): the old one is set aside, and dropped after the
				// swap (dropOld). Its indexes go with it, the new table's
				// with the new one. A table new in this version has no
				// live one to set aside.
				var live int
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1`,
					t.Name).Scan(&live); err != nil {
					return fmt.Errorf("rebuild %s: swap %s: %w", p.Name, t.Name, err)
				}
				if live > 0 {
					stmts = append(stmts, `ALTER TABLE `+t.Name+` RENAME TO `+t.Name+oldSuffix)
				}
				stmts = append(stmts, `ALTER TABLE `+t.Name+rebuildSuffix+` RENAME TO `+t.Name)
			}
			for _, q := range stmts {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("rebuild %s: swap %s: %w", p.Name, t.Name, err)
				}
			}
		}
		for _, old := range p.Replaces {
			if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+old); err != nil {
				return fmt.Errorf("rebuild %s: drop replaced %s: %w", p.Name, old, err)
			}
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE projection_checkpoints SET position=$1, updated_at=$2, last_error='', schema_version=$3 WHERE name=$4`,
			pos.String(), time.Now().UnixMicro(), p.Version, p.Name); err != nil {
			return fmt.Errorf("rebuild %s: set checkpoint: %w", p.Name, err)
		}
	}
	return nil
}

// Reset empties the read models of the engine's projections and moves
// their checkpoints back to the start of the log, bumping their
// generations so that running runners restart: they then refold the whole
// log, as a new deployment's runners do. Rebuild is how to refold while
// serving; Reset is for measuring a runner's catch-up. It returns the
// database error.
func (e *Engine) Reset(ctx context.Context) error {
	err := e.writeTx(ctx, "reset", func(tx *sqldb.Tx) error {
		for _, n := range e.opts.Projections {
			// The checkpoint first, as runners and the swap lock it first.
			if _, err := tx.ExecContext(ctx,
				`UPDATE projection_checkpoints SET position='', generation=generation+1, last_error='' WHERE name=$1`, n); err != nil {
				return fmt.Errorf("reset %s: %w", n, err)
			}
			m, err := e.model(n)
			if err != nil {
				return err
			}
			for _, t := range m.Tables {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+t.Name); err != nil {
					return fmt.Errorf("reset %s: %w", t.Name, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.moved()
	return nil
}
