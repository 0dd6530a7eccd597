package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/needs"
	"github.com/reso-fr/reso/projections/signaux"
	"github.com/reso-fr/reso/projections/stats"
)

// ReadModels is what the service asks of the read models: the projection
// engine is the one implementation; the interface keeps the service's
// dependency to the calls it makes.
type ReadModels interface {
	Suggester
	ConsoleReadModels
	// DirectoryIDs lists the ids of every organisation and referent the
	// directory read model holds.
	DirectoryIDs(ctx context.Context) (organisations, referents []uuid.UUID, err error)
	ListNeeds(ctx context.Context, f needs.NeedFilter) (needs.NeedPage, error)
	Inbox(ctx context.Context, referentID uuid.UUID, tab string, now time.Time, limit int, cursor string) (needs.MatchPage, error)
	Stats(ctx context.Context, q stats.StatsQuery) ([]stats.StatsRow, error)
	Status(ctx context.Context) ([]projections.Status, error)
	StartRebuild(ctx context.Context, name string, progress func(projections.Progress)) (<-chan error, error)
	WaitFor(ctx context.Context, pos eventstore.Position) error
	SFApplying(ctx context.Context, at time.Time) (signaux.Import, bool, error)
	SFFlagAt(ctx context.Context, siren string, at time.Time) (domain.SFFlag, bool, error)
	SFCompanies(ctx context.Context, f signaux.CompanyFilter) (signaux.CompanyPage, error)
}

// The read models' rows, as the service returns them. They are the
// projections' own types: the service adds scope, not a copy.
type (
	NeedRow          = needs.NeedRow
	NeedPage         = needs.NeedPage
	MatchRow         = needs.MatchRow
	MatchPage        = needs.MatchPage
	StatsRow         = stats.StatsRow
	SFList           = signaux.Import
	SFCompanyRow     = signaux.CompanyRow
	ProjectionStatus = projections.Status
	RebuildProgress  = projections.Progress
)

// errNoReadModels is returned by read-model operations of a service built
// without them (some unit tests).
var errNoReadModels = errors.New("app: no read models configured")

// readModels returns the configured read models, or errNoReadModels.
func (s *Service) readModels() (ReadModels, error) {
	if s.reads == nil {
		return nil, errNoReadModels
	}
	return s.reads, nil
}

// fromReadModel translates the read models' errors into the service's, so
// that callers know one set of errors. cursor is the query's cursor: once
// the service has checked the other inputs, a query the read models refuse
// is refused for its cursor, when it has one.
func fromReadModel(err error, cursor string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, projections.ErrInvalidQuery) && cursor != "":
		return &domain.ValidationError{Field: "cursor", Message: "not a cursor this API returned"}
	case errors.Is(err, projections.ErrInvalidQuery):
		return fmt.Errorf("%w: %v", domain.ErrValidation, err)
	case errors.Is(err, projections.ErrNotFound), errors.Is(err, projections.ErrUnknownProjection):
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	case errors.Is(err, projections.ErrRebuildRunning):
		return fmt.Errorf("%w: %v", ErrRebuildRunning, err)
	}
	return err
}

// Ready reports whether the log answers. It returns the store's error.
func (s *Service) Ready(ctx context.Context) error {
	if _, err := s.store.Head(ctx); err != nil {
		return fmt.Errorf("event store: %w", err)
	}
	return nil
}

// maxWait bounds how long a read waits for the read models to reach a
// position a client asked for.
const maxWait = 5 * time.Second

// WaitForPosition blocks until every read model has applied pos (a
// position a command returned), so that a client reads its own writes. The
// zero position returns at once. Past 5 s it returns ErrLagging: answering
// with a view that misses the client's write would break the promise
// silently.
func (s *Service) WaitForPosition(ctx context.Context, pos eventstore.Position) error {
	if pos.IsZero() {
		return nil
	}
	rm, err := s.readModels()
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, maxWait)
	defer cancel()
	if err := rm.WaitFor(wctx, pos); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return fmt.Errorf("%w: position %s not reached within %s", ErrLagging, pos, maxWait)
		}
		return err
	}
	return nil
}
