package projections

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"

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
//
// A cache that started complete and outgrew maxCached keeps, in written, a
// hash of every need it has flushed: a need it never flushed is not in the
// table either, so a projection catching up from an empty table only reads
// back the needs it has written, not every new one.
type stateCache struct {
	m        map[uuid.UUID]*needState
	complete bool
	dirty    []*needState
	taken    []*needState // the part of dirty the flush under way writes (take)
	// settling makes take leave needs in progress out: set by the
	// projections' hold during a rebuild's load.
	settling    bool
	trackBefore bool
	before      map[uuid.UUID]*needState
	read        stateReader
	written     map[uint64]struct{} // nil unless the cache started complete
}

// stateReader reads the states of ids from table into the cache (those
// it finds).
type stateReader func(ctx context.Context, tx txn, table string, ids []any, into map[uuid.UUID]*needState) error

func newStateCache(complete, trackBefore bool, read stateReader) *stateCache {
	c := &stateCache{m: make(map[uuid.UUID]*needState), complete: complete, trackBefore: trackBefore,
		before: make(map[uuid.UUID]*needState), read: read}
	if complete {
		c.written = make(map[uint64]struct{})
	}
	return c
}

// idHash folds a need id into the key of written; a collision only costs
// a query that finds nothing.
func idHash(id uuid.UUID) uint64 {
	return binary.LittleEndian.Uint64(id[:8]) ^ binary.LittleEndian.Uint64(id[8:])
}

// take returns the dirty needs a flush writes, in id order: written in
// their primary key's order, rows land in neighbouring pages of the B-trees
// instead of all over a large table. flushed then forgets them.
//
// While settling, needs still in progress (see needState.settled) are
// left out and stay dirty, their before kept, for a later flush. A
// rebuild's flushes before the swap are read by no one, so it writes a
// need once it has come to rest, or at its last flush, instead of writing
// it at every flush its life spans: in a chronological log a need's events
// spread over weeks, and each rewrite of a row costs an upsert where a new
// row costs a COPY. Past maxCached states every need is written, so that
// the cache can be dropped after the flush.
func (c *stateCache) take() []*needState {
	slices.SortFunc(c.dirty, func(a, b *needState) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	c.taken = c.dirty
	if c.settling && len(c.m) <= maxCached {
		c.taken = make([]*needState, 0, len(c.dirty))
		for _, s := range c.dirty {
			if s.settled() {
				c.taken = append(c.taken, s)
			}
		}
	}
	return c.taken
}

// flushed forgets the needs take returned once they are written; those it
// left out stay dirty.
func (c *stateCache) flushed() {
	if c.written != nil {
		for _, s := range c.taken {
			c.written[idHash(s.ID)] = struct{}{}
		}
	}
	for _, s := range c.taken {
		s.dirty = false
	}
	if len(c.taken) == len(c.dirty) {
		c.dirty = nil
		clear(c.before)
	} else {
		for _, s := range c.taken {
			delete(c.before, s.ID)
		}
		c.dirty = slices.DeleteFunc(c.dirty, func(s *needState) bool { return !s.dirty })
	}
	c.taken = nil
}

// load reads into the cache the states of ids it misses, from table.
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
		if _, ok := c.m[id]; ok || seen[id] {
			continue
		}
		seen[id] = true
		if c.written != nil {
			if _, ok := c.written[idHash(id)]; !ok {
				continue // never flushed, so not in the table
			}
		}
		missing = append(missing, id.String())
	}
	for len(missing) > 0 {
		n := chunk(len(missing), 256)
		if err := c.read(ctx, tx, table, missing[:n], c.m); err != nil {
			return err
		}
		missing = missing[n:]
	}
	return nil
}
