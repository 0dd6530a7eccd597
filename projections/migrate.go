package projections

import (
	"context"
	"fmt"

	"github.com/reso-fr/reso/sqldb"
)

// Times are stored as microseconds since the Unix epoch (UTC) in BIGINT
// columns, 0 when unset, and booleans as 0/1 INTEGER: both dialects then
// share every statement and compare the same way.
const checkpointDDL = `CREATE TABLE IF NOT EXISTS projection_checkpoints (
	name       TEXT PRIMARY KEY,
	position   TEXT NOT NULL,
	generation BIGINT NOT NULL DEFAULT 0,
	updated_at BIGINT NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
)`

// migrate creates the checkpoint table and every read model's live tables
// with their indexes, and a checkpoint row per read model. It is idempotent.
func migrate(ctx context.Context, handle sqldb.DB, projs []ReadModel) error {
	db, d := handle.SQL(), handle.Dialect()
	if err := upgradeStatsLayout(ctx, db, d); err != nil {
		return err
	}
	if err := upgradeNeedsLayout(ctx, db, d); err != nil {
		return err
	}
	if err := upgradeStatsState(ctx, db, d); err != nil {
		return err
	}
	if err := upgradeIDColumns(ctx, db, d); err != nil {
		return err
	}
	exec := func(stmts ...string) error {
		for _, s := range stmts {
			if _, err := handle.Exec(ctx, s); err != nil {
				return fmt.Errorf("migrate read models: %w", err)
			}
		}
		return nil
	}
	if err := exec(checkpointDDL); err != nil {
		return err
	}
	for _, p := range projs {
		for _, t := range p.Tables {
			if err := exec(t.create(t.Name, d)); err != nil {
				return err
			}
			if d == sqldb.SQLite {
				// A process that died between a swap and dropOld left the
				// replaced table, which holds index names the next rebuild
				// needs.
				if err := exec(`DROP TABLE IF EXISTS ` + t.Name + oldSuffix); err != nil {
					return err
				}
			}
			indexes, err := liveIndexDDL(ctx, db, d, t)
			if err != nil {
				return fmt.Errorf("migrate read models: %w", err)
			}
			if err := exec(indexes...); err != nil {
				return err
			}
		}
	}
	for _, p := range projs {
		if _, err := handle.Exec(ctx,
			`INSERT INTO projection_checkpoints (name, position) VALUES ($1, '') ON CONFLICT (name) DO NOTHING`,
			p.Name); err != nil {
			return fmt.Errorf("migrate checkpoint of %s: %w", p.Name, err)
		}
	}
	return nil
}
