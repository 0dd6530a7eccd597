package projections

import "errors"

var (
	// ErrNotFound means the row asked for does not exist in the read model.
	ErrNotFound = errors.New("projections: not found")
	// ErrUnknownProjection means no projection has that name.
	ErrUnknownProjection = errors.New("projections: unknown projection")
	// ErrInvalidQuery means a query's filter, grouping or cursor was refused.
	ErrInvalidQuery = errors.New("projections: invalid query")
	// ErrRebuildRunning means another rebuild runs in this process.
	ErrRebuildRunning = errors.New("projections: a rebuild is already running")
	// errSwapped means the live tables were swapped under a runner: it
	// restarts from the new checkpoint.
	errSwapped = errors.New("projections: tables swapped by a rebuild")
)
