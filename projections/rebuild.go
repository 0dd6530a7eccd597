package projections

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/reso-fr/reso/eventstore"
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
	if !slices.Contains(Names(), name) {
		return fmt.Errorf("rebuild %q: %w", name, ErrUnknownProjection)
	}
	return e.rebuild(ctx, []string{name}, progress)
}

// RebuildAll rebuilds every projection of the engine in one pass over the
// log (see Rebuild).
func (e *Engine) RebuildAll(ctx context.Context, progress func(Progress)) error {
	return e.rebuild(ctx, e.opts.Projections, progress)
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
	if !e.rebuildMu.TryLock() {
		return ErrRebuildRunning
	}
	defer e.rebuildMu.Unlock()
	e.markRebuilding(names, true)
	defer e.markRebuilding(names, false)
	if progress == nil {
		progress = func(Progress) {}
	}

	projs := make([]projection, len(names))
	for i, n := range names {
		p, err := newProjection(n, &e.opts, true)
		if err != nil {
			return err
		}
		projs[i] = p
		for _, t := range p.tables() {
			for _, q := range []string{`DROP TABLE IF EXISTS ` + t.name + rebuildSuffix, t.create(t.name + rebuildSuffix)} {
				if _, err := e.db.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("rebuild %s: prepare %s: %w", n, t.name, err)
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

	// Fold into memory while far behind, writing every RebuildFlush events
	// in one transaction; stop when a read comes back short: the rest is
	// folded inside the swap.
	pos := eventstore.Start
	pending := 0
	for {
		n, next, err := e.foldInto(ctx, nil, projs, pos, e.opts.RebuildBatch)
		if err != nil {
			return err
		}
		pr.Events += int64(n)
		pos = next
		pending += n
		short := n < e.opts.RebuildBatch
		if pending >= e.opts.RebuildFlush || short {
			if err := e.flushRebuild(ctx, projs); err != nil {
				return err
			}
			pending = 0
		}
		report(pos)
		if short {
			break
		}
	}
	pr.Phase = "swap"
	report(pos)
	if err := e.swap(ctx, projs, pos, &pr); err != nil {
		return err
	}
	pr.Phase = "done"
	report(eventstore.Position{})
	e.moved()
	return nil
}

// foldInto reads up to limit events after pos and folds them into projs
// (in memory, reading through tx when it is not nil). It returns how many
// events it folded and the new position.
func (e *Engine) foldInto(ctx context.Context, tx *sql.Tx, projs []projection, pos eventstore.Position, limit int) (int, eventstore.Position, error) {
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
	for _, p := range projs {
		if err := p.apply(ctx, txn{tx, e.dialect, e.db}, rebuildSuffix, ds); err != nil {
			return 0, pos, fmt.Errorf("rebuild %s: %w", p.name(), err)
		}
	}
	return len(evs), evs[len(evs)-1].Position, nil
}

// flushRebuild writes what projs folded in memory, in one transaction.
func (e *Engine) flushRebuild(ctx context.Context, projs []projection) error {
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rebuild: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := e.bigCache(ctx, tx, true); err != nil {
		return err
	}
	for _, p := range projs {
		if err := p.flush(ctx, txn{tx, e.dialect, e.db}, rebuildSuffix); err != nil {
			return fmt.Errorf("rebuild %s: %w", p.name(), err)
		}
	}
	if err := e.bigCache(ctx, tx, false); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rebuild: commit: %w", err)
	}
	return nil
}

// bigCache gives the SQLite connection of a rebuild's flush a page cache
// large enough for the tables it fills (on) and gives it back its usual
// size before the connection returns to the pool (off).
func (e *Engine) bigCache(ctx context.Context, tx *sql.Tx, on bool) error {
	if e.dialect != DialectSQLite {
		return nil
	}
	size := -16000 // sqlite.OpenDB's setting
	if on {
		size = -262144 // 256 MiB
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size=%d", size)); err != nil {
		return fmt.Errorf("rebuild: cache size: %w", err)
	}
	return nil
}

// swap locks the checkpoints of projs (runners wait for it, and restart
// afterwards since the generation moves), folds what arrived meanwhile, then
// replaces the live tables with the rebuilt ones and sets the checkpoints,
// all in one transaction.
func (e *Engine) swap(ctx context.Context, projs []projection, pos eventstore.Position, pr *Progress) error {
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rebuild: begin swap: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, p := range projs {
		if _, err := tx.ExecContext(ctx,
			`UPDATE projection_checkpoints SET generation=generation+1 WHERE name=$1`, p.name()); err != nil {
			return fmt.Errorf("rebuild %s: lock checkpoint: %w", p.name(), err)
		}
	}
	for {
		n, next, err := e.foldInto(ctx, tx, projs, pos, e.opts.RebuildBatch)
		if err != nil {
			return err
		}
		pr.Events += int64(n)
		pos = next
		if n == 0 {
			break
		}
	}
	for _, p := range projs {
		if err := p.flush(ctx, txn{tx, e.dialect, e.db}, rebuildSuffix); err != nil {
			return fmt.Errorf("rebuild %s: %w", p.name(), err)
		}
	}
	for _, p := range projs {
		for _, t := range p.tables() {
			stmts := []string{
				`DROP TABLE IF EXISTS ` + t.name,
				`ALTER TABLE ` + t.name + rebuildSuffix + ` RENAME TO ` + t.name,
			}
			if e.dialect == DialectPostgres {
				// PostgreSQL names the primary key's index after the table it
				// was created for; give it the live name so that the next
				// rebuild can create its table again.
				stmts = append(stmts, `ALTER INDEX IF EXISTS `+t.name+rebuildSuffix+`_pkey RENAME TO `+t.name+`_pkey`)
			}
			stmts = append(stmts, t.indexDDL()...)
			for _, q := range stmts {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("rebuild %s: swap %s: %w", p.name(), t.name, err)
				}
			}
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE projection_checkpoints SET position=$1, updated_at=$2, last_error='' WHERE name=$3`,
			pos.String(), time.Now().UnixMicro(), p.name()); err != nil {
			return fmt.Errorf("rebuild %s: set checkpoint: %w", p.name(), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rebuild: commit swap: %w", err)
	}
	return nil
}
