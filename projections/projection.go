package projections

import (
	"context"
	"fmt"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
)

// Names of the projections.
const (
	Directory = "directory"
	Needs     = "needs"
	Stats     = "stats"
)

// Names returns the name of every projection, in the order they run.
func Names() []string { return []string{Directory, Needs, Stats} }

// decoded is an event of the log with its domain value.
type decoded struct {
	ev eventstore.Event
	e  domain.Event
}

// decodeBatch decodes events with the domain codec. An event the domain
// cannot read stops the projection: it is never skipped.
func decodeBatch(evs []eventstore.Event) ([]decoded, error) {
	out := make([]decoded, len(evs))
	for i, ev := range evs {
		e, err := domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data)
		if err != nil {
			return nil, fmt.Errorf("event %s (%s v%d of %s at %s): %w", ev.ID, ev.Type, ev.Version, ev.StreamID, ev.Position, err)
		}
		out[i] = decoded{ev: ev, e: e}
	}
	return out, nil
}

// projection folds events into its tables.
type projection interface {
	name() string
	tables() []table
	// apply folds evs into the tables whose names end with suffix ("" for
	// the live ones), inside tx, or into memory until flush writes them (in
	// the same or a later transaction). Its in-memory state is only valid
	// if those transactions commit: after a failure the caller builds a new
	// projection.
	apply(ctx context.Context, tx txn, suffix string, evs []decoded) error
	flush(ctx context.Context, tx txn, suffix string) error
	// idle reports that flush has nothing to write: what was applied
	// since the last flush changes none of the projection's rows.
	idle() bool
}

// newProjection builds a fresh instance of a projection. fresh says its
// tables are empty, so that it needs not look rows up.
func newProjection(name string, opts *Options, fresh bool) (projection, error) {
	switch name {
	case Directory:
		return &directoryProjection{}, nil
	case Needs:
		return &needsProjection{geo: opts.Geography, cache: newStateCache(fresh, false, readNeedRows)}, nil
	case Stats:
		return &statsProjection{opts: opts, cache: newStateCache(fresh, true, readStatsStates)}, nil
	}
	return nil, fmt.Errorf("projection %q: %w", name, ErrUnknownProjection)
}
