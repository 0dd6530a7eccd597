package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
)

// paris is where a day begins for an opening given as an instant: the
// network's days are French.
var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC // the binary embeds tzdata (projections/readmodels): not reached
	}
	return loc
}()

// OpeningDate reads the date of an opening: a civil date ("2026-09-01"),
// or an RFC 3339 instant, taken on its day in Paris. It returns a
// *domain.ValidationError (field "at").
func OpeningDate(at string) (string, error) {
	at = strings.TrimSpace(at)
	if d, err := time.Parse(time.DateOnly, at); err == nil {
		return d.Format(time.DateOnly), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		return t.In(paris).Format(time.DateOnly), nil
	}
	return "", &domain.ValidationError{Field: "at", Message: fmt.Sprintf("%q is neither a date YYYY-MM-DD nor an RFC 3339 instant", at)}
}

// OpeningResult is what opening a territory did.
type OpeningResult struct {
	Opening domain.Opening `json:"opening"`
	// Changed is false when the territory had already opened on that
	// date: nothing was written.
	Changed bool `json:"changed"`
}

// OpenTerritory records that the service opens in zone (a région or a
// département) on the date at (see OpeningDate), as an event of the
// territories' stream (admin only). Opening again on another date corrects
// the date; on the same date it writes nothing. It returns a
// *ForbiddenError, a *domain.ValidationError, ErrConflict and the store's
// errors.
func (s *Service) OpenTerritory(ctx context.Context, p Principal, zone domain.Zone, at string, m CommandMeta) (OpeningResult, eventstore.Position, error) {
	if err := s.Authorize(p, ActionOpenTerritory); err != nil {
		return OpeningResult{}, eventstore.Position{}, err
	}
	on, err := OpeningDate(at)
	if err != nil {
		return OpeningResult{}, eventstore.Position{}, err
	}
	for attempt := 1; ; attempt++ {
		o, version, err := s.readOpenings(ctx)
		if err != nil {
			return OpeningResult{}, eventstore.Position{}, err
		}
		ev, changed, err := o.Open(zone, on, s.geo, actor(p), s.now().UTC())
		if err != nil {
			return OpeningResult{}, eventstore.Position{}, err
		}
		res := OpeningResult{Opening: domain.Opening{Zone: zone, OpenedOn: on}, Changed: changed}
		if !changed {
			return res, eventstore.Position{}, nil
		}
		ar, err := s.append(ctx, "open_territory", domain.TerritoriesStream(), eventstore.Exactly(version), p, m, []domain.Event{ev})
		switch {
		case err == nil:
			return res, ar.Position, nil
		case !errors.Is(err, eventstore.ErrConcurrency):
			return OpeningResult{}, eventstore.Position{}, err
		case attempt >= s.attempts:
			return OpeningResult{}, eventstore.Position{}, fmt.Errorf("%w: %v", ErrConflict, err)
		}
		s.conflicts.Inc()
	}
}

// Territories returns every territory that opened, with its date: régions
// first, then départements. It returns a *ForbiddenError and the store's
// errors.
func (s *Service) Territories(ctx context.Context, p Principal) ([]domain.Opening, error) {
	if err := s.Authorize(p, ActionReadTerritories); err != nil {
		return nil, err
	}
	o, _, err := s.readOpenings(ctx)
	if err != nil {
		return nil, err
	}
	return o.List(), nil
}
