package projections

import (
	"context"
	"fmt"
	"time"
)

// A read model whose Version is above the schema version recorded with its
// checkpoint (0 for tables built before versions existed) is rebuilt
// beside its live tables and swapped in, as Rebuild does, instead of being
// altered in place: its runner does not start before, and queries read
// the old tables until the swap. Run upgrades every outdated read model
// it can take in one pass over the log, then starts their runners; a
// runner that finds its read model outdated when it takes over (another
// process held it at start) upgrades it alone. A read model built by a
// newer version is not touched: its runner fails with an error saying so.

// outdated returns the read models of the engine built by an older schema
// version. One whose version cannot be read is left to its runner, which
// reports the error.
func (e *Engine) outdated(ctx context.Context) []string {
	var out []string
	for _, n := range e.opts.Projections {
		m, err := e.model(n)
		if err != nil {
			continue
		}
		if v, found, err := schemaVersion(ctx, e.db, n); err == nil && found && v < m.Version {
			out = append(out, n)
		}
	}
	return out
}

// upgradeTogether upgrades, in one rebuild, those of names whose runner's
// lock it takes (on PostgreSQL, others may be held by another process,
// whose runner then upgrades them). A failure is logged: each runner then
// tries again alone, and shows the error in its status.
func (e *Engine) upgradeTogether(ctx context.Context, names []string) {
	var held []string
	for _, n := range names {
		release, ok, err := e.lock(ctx, n)
		if err != nil || !ok {
			continue
		}
		defer release()
		held = append(held, n)
	}
	if len(held) == 0 || e.waitRebuild(ctx) != nil {
		return
	}
	defer e.rebuilt()
	if err := e.upgradeLocked(ctx, held); err != nil && ctx.Err() == nil {
		e.log.Error("upgrade read models", "projections", held, "err", err)
	}
}

// upgrade makes the live tables of name those of its current version
// before its runner follows the log: it rebuilds them when an older
// version built them, and returns an error when a newer one did. The
// runner holds the read model's lock.
func (e *Engine) upgrade(ctx context.Context, name string) error {
	m, err := e.model(name)
	if err != nil {
		return err
	}
	v, found, err := schemaVersion(ctx, e.db, name)
	if err != nil || !found || v == m.Version {
		return err // without a checkpoint, follow says to run Migrate
	}
	if v > m.Version {
		return fmt.Errorf("read model %s: its tables were built by schema version %d, newer than this program's %d: run the newer program",
			name, v, m.Version)
	}
	if err := e.waitRebuild(ctx); err != nil {
		return err
	}
	defer e.rebuilt()
	return e.upgradeLocked(ctx, []string{name})
}

// upgradeLocked rebuilds those of names still outdated (another process
// may have upgraded them meanwhile), the rebuild token held.
func (e *Engine) upgradeLocked(ctx context.Context, names []string) error {
	var stale []string
	for _, n := range names {
		m, err := e.model(n)
		if err != nil {
			return err
		}
		v, found, err := schemaVersion(ctx, e.db, n)
		if err != nil {
			return err
		}
		if found && v < m.Version {
			stale = append(stale, n)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	e.log.InfoContext(ctx, "read model schema changed: rebuilding beside the live tables, which serve meanwhile", "projections", stale)
	e.markRebuilding(stale, true)
	defer e.markRebuilding(stale, false)
	if err := e.rebuildLocked(ctx, stale, e.progressLog(ctx, stale)); err != nil {
		return fmt.Errorf("upgrade %v: %w", stale, err)
	}
	return nil
}

// progressLog logs a rebuild's progress at most every progressEvery, and
// its end.
func (e *Engine) progressLog(ctx context.Context, names []string) func(Progress) {
	var last time.Time
	return func(p Progress) {
		if p.Phase != "done" && time.Since(last) < progressEvery {
			return
		}
		last = time.Now()
		e.log.InfoContext(ctx, "rebuild", "projections", names, "phase", p.Phase, "events", p.Events, "total", p.Total,
			"elapsed", p.Elapsed.Round(time.Millisecond).String(), "eta", p.ETA.Round(time.Second).String())
	}
}

// progressEvery is how often an upgrade logs its progress.
const progressEvery = 10 * time.Second
