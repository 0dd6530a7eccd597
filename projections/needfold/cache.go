package needfold

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/projections"
)

// maxCached bounds the states a projection keeps in memory; past it the
// cache is dropped and states are read back from the tables.
const maxCached = 500_000

// Cache holds need states between batches. It is only valid while its
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
type Cache struct {
	m        map[uuid.UUID]*State
	complete bool
	dirty    []*State
	taken    []*State // the part of dirty the flush under way writes (take)
	// settling makes Take leave needs in progress out: set by the
	// projections' Hold during a rebuild's load (Settle).
	settling    bool
	trackBefore bool
	before      map[uuid.UUID]*State
	read        Reader
	written     map[uint64]struct{} // nil unless the cache started complete

	// OnCapture, when set, completes the state of each need Fold creates
	// (statistics classify the company by the Signaux Faibles list that
	// applies at that point of the log).
	OnCapture func(*State)
}

// Reader reads the states of ids (as text) from table into the cache (those
// it finds): each read model keeps its own form of the state.
type Reader func(ctx context.Context, tx projections.Txn, table string, ids []any, into map[uuid.UUID]*State) error

// NewCache returns an empty cache reading missing states with read.
// complete says the table is empty (every need is then in memory: a miss
// means no such need); trackBefore keeps the state of each changed need as
// it was at the last flush (see Before).
func NewCache(complete, trackBefore bool, read Reader) *Cache {
	c := &Cache{m: make(map[uuid.UUID]*State), complete: complete, trackBefore: trackBefore,
		before: make(map[uuid.UUID]*State), read: read}
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

// Take returns the dirty needs a flush writes, in id order: written in
// their primary key's order, rows land in neighbouring pages of the B-trees
// instead of all over a large table. Flushed then forgets them.
//
// While settling, needs still in progress (see State.settled) are
// left out and stay dirty, their before kept, for a later flush. A
// rebuild's flushes before the swap are read by no one, so it writes a
// need once it has come to rest, or at its last flush, instead of writing
// it at every flush its life spans: in a chronological log a need's events
// spread over weeks, and each rewrite of a row costs an upsert where a new
// row costs a COPY. Past maxCached states every need is written, so that
// the cache can be dropped after the flush.
func (c *Cache) Take() []*State {
	slices.SortFunc(c.dirty, func(a, b *State) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	c.taken = c.dirty
	if c.settling && len(c.m) <= maxCached {
		c.taken = make([]*State, 0, len(c.dirty))
		for _, s := range c.dirty {
			if s.Settled() {
				c.taken = append(c.taken, s)
			}
		}
	}
	return c.taken
}

// Flushed forgets the needs Take returned once they are written; those it
// left out stay dirty.
func (c *Cache) Flushed() {
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
		c.dirty = slices.DeleteFunc(c.dirty, func(s *State) bool { return !s.dirty })
	}
	c.taken = nil
}

// load reads into the cache the states of ids it misses, from table.
func (c *Cache) load(ctx context.Context, tx projections.Txn, table string, ids []uuid.UUID) error {
	if len(c.m) > maxCached && len(c.dirty) == 0 {
		c.m, c.complete = make(map[uuid.UUID]*State), false
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
		n := projections.Chunk(len(missing), 256)
		if err := c.read(ctx, tx, table, missing[:n], c.m); err != nil {
			return err
		}
		missing = missing[n:]
	}
	return nil
}

// Idle reports that no need changed since the last flush.
func (c *Cache) Idle() bool { return len(c.dirty) == 0 }

// Settle makes Take leave needs still in progress for a later flush (on),
// or take every changed need again (off).
func (c *Cache) Settle(on bool) { c.settling = on }

// Before returns the state of need id as it was at the last flush, when it
// changed since and the cache tracks them; nil for a need captured since.
func (c *Cache) Before(id uuid.UUID) *State { return c.before[id] }
