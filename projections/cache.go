package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// maxCached bounds the states a projection keeps in memory; past it the
// cache is dropped and states are read back from the tables.
const maxCached = 500_000

// stateCache holds need states between batches. It is only valid while its
// projection's transactions commit: the runner resets it after a failure.
// complete means every need of the tables is in memory (the projection
// started from an empty table), so a miss means "no such need" without a
// query.
//
// Needs changed since the last flush are dirty, in first-change order; when
// trackBefore is set, before holds a copy of each as it was at the last
// flush (nil for a need captured since), so that statistics can move its
// contribution.
type stateCache struct {
	m           map[uuid.UUID]*needState
	complete    bool
	dirty       []*needState
	isDirty     map[uuid.UUID]bool
	trackBefore bool
	before      map[uuid.UUID]*needState
}

func newStateCache(complete, trackBefore bool) *stateCache {
	return &stateCache{m: make(map[uuid.UUID]*needState), complete: complete, trackBefore: trackBefore,
		isDirty: make(map[uuid.UUID]bool), before: make(map[uuid.UUID]*needState)}
}

// sortedDirty returns the dirty needs in id order: written in their
// primary key's order, rows land in neighbouring pages of the B-trees
// instead of all over a large table.
func (c *stateCache) sortedDirty() []*needState {
	slices.SortFunc(c.dirty, func(a, b *needState) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return c.dirty
}

// flushed forgets the dirty set once it is written.
func (c *stateCache) flushed() {
	c.dirty = nil
	clear(c.isDirty)
	clear(c.before)
}

// load reads into the cache the states of ids it misses, from the state
// column of table.
func (c *stateCache) load(ctx context.Context, tx txn, table string, ids []uuid.UUID) error {
	if len(c.m) > maxCached && len(c.dirty) == 0 {
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
		tx.d.placeholders(&b, 0, n)
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
