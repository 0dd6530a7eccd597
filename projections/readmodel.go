package projections

import (
	"context"
	"fmt"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
)

// ReadModel declares a read model to the engine: its name (its
// checkpoint's too), its tables, and how to fold events into them. The
// read models live in packages of their own (projections/needs, stats,
// directory), which depend on this one; projections/readmodels registers
// them with an engine.
type ReadModel struct {
	Name string
	// Version is the schema version of Tables: raise it whenever their
	// columns, keys or indexes, or what a row holds, change. The engine
	// then rebuilds the read model beside its live tables at its next
	// start and swaps the new ones in (serving the old ones meanwhile),
	// instead of altering tables in place. Starts at 1.
	Version int
	Tables  []Table
	// Replaces names tables that earlier versions of the read model had
	// and this one has not: the swap that brings this version in drops
	// them.
	Replaces []string
	// New returns a projection with nothing in memory. fresh says its
	// tables are empty (a rebuild's, or a runner's starting from the
	// beginning of the log), so that it needs not look rows up.
	New func(fresh bool) Projection
}

// Projection folds events into a read model's tables. The engine builds a
// new one (ReadModel.New) whenever a transaction it wrote to may not have
// committed: its in-memory state is only valid while they do.
type Projection interface {
	// Apply folds evs into the tables whose names end with suffix ("" for
	// the live ones, or a rebuild's), reading through tx, or into memory
	// until Flush writes them (in the same or a later transaction).
	Apply(ctx context.Context, tx Txn, suffix string, evs []Decoded) error
	// Flush writes what Apply kept in memory.
	Flush(ctx context.Context, tx Txn, suffix string) error
	// Idle reports that Flush has nothing to write: what was applied
	// since the last Flush changes none of the read model's rows.
	Idle() bool
}

// Holder is a projection that can keep rows in memory across flushes
// (Hold(true)) and write them all at the first flush after Hold(false).
// A rebuild holds while it loads its fresh tables, so that a row changed
// by many flushes (statistics cells, a need in progress) is written once,
// not rewritten at each flush (which also left PostgreSQL a dead version
// per rewrite).
type Holder interface{ Hold(on bool) }

// Decoded is an event of the log with its domain value.
type Decoded struct {
	Stored eventstore.Event
	Event  domain.Event
}

// decodeBatch decodes events with the domain codec. An event the domain
// cannot read stops the projection: it is never skipped.
func decodeBatch(evs []eventstore.Event) ([]Decoded, error) {
	out := make([]Decoded, len(evs))
	for i, ev := range evs {
		e, err := domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data)
		if err != nil {
			return nil, fmt.Errorf("event %s (%s v%d of %s at %s): %w", ev.ID, ev.Type, ev.Version, ev.StreamID, ev.Position, err)
		}
		out[i] = Decoded{Stored: ev, Event: e}
	}
	return out, nil
}
