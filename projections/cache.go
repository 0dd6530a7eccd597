package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// maxCached bounds the states a projection keeps in memory; past it the
// cache is dropped and states are read back from the tables.
const maxCached = 2_000_000

// stateCache holds need states between batches. It is only valid while its
// projection's transactions commit: the runner resets it after a failure.
// complete means every need of the tables is in memory (the projection
// started from an empty table), so a miss means "no such need" without a
// query.
type stateCache struct {
	m        map[uuid.UUID]*needState
	complete bool
}

func newStateCache(complete bool) *stateCache {
	return &stateCache{m: make(map[uuid.UUID]*needState), complete: complete}
}

// load reads into the cache the states of ids it misses, from the state
// column of table.
func (c *stateCache) load(ctx context.Context, tx *sql.Tx, table string, ids []uuid.UUID) error {
	if len(c.m) > maxCached {
		c.m, c.complete = make(map[uuid.UUID]*needState), false
	}
	if c.complete {
		return nil
	}
	var missing []any
	seen := make(map[uuid.UUID]bool)
	for _, id := range ids {
		if _, ok := c.m[id]; !ok && !seen[id] {
			seen[id] = true
			missing = append(missing, id.String())
		}
	}
	for len(missing) > 0 {
		n := chunk(len(missing), 256)
		var b strings.Builder
		fmt.Fprintf(&b, "SELECT state FROM %s WHERE id IN ", table)
		placeholders(&b, 0, n)
		rows, err := tx.QueryContext(ctx, b.String(), missing[:n]...)
		if err != nil {
			return fmt.Errorf("load states from %s: %w", table, err)
		}
		for rows.Next() {
			var raw string
			if err := rows.Scan(&raw); err != nil {
				rows.Close()
				return fmt.Errorf("load states from %s: %w", table, err)
			}
			s := new(needState)
			if err := json.Unmarshal([]byte(raw), s); err != nil {
				rows.Close()
				return fmt.Errorf("decode state from %s: %w", table, err)
			}
			c.m[s.ID] = s
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("load states from %s: %w", table, err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("load states from %s: %w", table, err)
		}
		missing = missing[n:]
	}
	return nil
}
