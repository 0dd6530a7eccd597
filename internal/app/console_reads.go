package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/auth"
	"github.com/reso-fr/reso/projections/directory"
	"github.com/reso-fr/reso/projections/needs"
)

// ConsoleReadModels is what the web console's pages ask of the read models
// besides the API's queries: the directory's lists, an inbox's tab counts
// and an animateur's dashboard.
type ConsoleReadModels interface {
	Organisations(ctx context.Context) ([]directory.OrganisationRow, error)
	Referents(ctx context.Context) ([]directory.ReferentRow, error)
	Users(ctx context.Context) ([]directory.UserRow, error)
	UserByEmail(ctx context.Context, email string) (directory.UserRow, error)
	InboxCounts(ctx context.Context, referentID uuid.UUID, now time.Time) (map[string]int, error)
	Dashboard(ctx context.Context, q needs.DashboardQuery) (needs.Dashboard, error)
}

// The directory's and the dashboard's rows, as the service returns them.
type (
	OrganisationRow = directory.OrganisationRow
	ReferentRow     = directory.ReferentRow
	UserRow         = directory.UserRow
	Dashboard       = needs.Dashboard
	BasketCount     = needs.BasketCount
)

// Organisations returns every organisation of the directory with its
// antennes, by name. It returns a *ForbiddenError and the read models'
// errors.
func (s *Service) Organisations(ctx context.Context, p Principal) ([]OrganisationRow, error) {
	if err := s.Authorize(p, ActionReadDirectory); err != nil {
		return nil, err
	}
	return s.organisations(ctx)
}

// StatsOrganisations returns the organisations statistics can be filtered
// and grouped by: those who read statistics name them without reading the
// directory. It returns a *ForbiddenError and the read models' errors.
func (s *Service) StatsOrganisations(ctx context.Context, p Principal) ([]OrganisationRow, error) {
	if err := s.Authorize(p, ActionStats); err != nil {
		return nil, err
	}
	return s.organisations(ctx)
}

func (s *Service) organisations(ctx context.Context) ([]OrganisationRow, error) {
	rm, err := s.readModels()
	if err != nil {
		return nil, err
	}
	orgs, err := rm.Organisations(ctx)
	if err != nil {
		return nil, fromReadModel(err, "")
	}
	return orgs, nil
}

// Referents returns every referent of the directory (active or not) with
// their organisation's name, subjects and zones, by name. It returns a
// *ForbiddenError and the read models' errors.
func (s *Service) Referents(ctx context.Context, p Principal) ([]ReferentRow, error) {
	if err := s.Authorize(p, ActionReadDirectory); err != nil {
		return nil, err
	}
	rm, err := s.readModels()
	if err != nil {
		return nil, err
	}
	refs, err := rm.Referents(ctx)
	if err != nil {
		return nil, fromReadModel(err, "")
	}
	return refs, nil
}

// Users returns every user with their role, organisation and territories,
// by name (admins only). It returns a *ForbiddenError and the read models'
// errors.
func (s *Service) Users(ctx context.Context, p Principal) ([]UserRow, error) {
	if err := s.Authorize(p, ActionReadUsers); err != nil {
		return nil, err
	}
	rm, err := s.readModels()
	if err != nil {
		return nil, err
	}
	us, err := rm.Users(ctx)
	if err != nil {
		return nil, fromReadModel(err, "")
	}
	return us, nil
}

// InboxCounts returns how many matches each tab of a referent's inbox
// holds (every tab of InboxTabs, zero included). The referent is chosen as
// Inbox's: a referent's own, one an admin names. It returns a
// *ForbiddenError, a *domain.ValidationError and the read models' errors.
func (s *Service) InboxCounts(ctx context.Context, p Principal, referent uuid.UUID) (map[string]int, error) {
	if err := s.Authorize(p, ActionInbox); err != nil {
		return nil, err
	}
	referent, err := inboxReferent(p, referent)
	if err != nil {
		return nil, err
	}
	rm, err := s.readModels()
	if err != nil {
		return nil, err
	}
	counts, err := rm.InboxCounts(ctx, referent, s.now())
	if err != nil {
		return nil, fromReadModel(err, "")
	}
	out := make(map[string]int, len(InboxTabs()))
	for _, t := range InboxTabs() {
		out[t] = counts[t]
	}
	return out, nil
}

// Dashboard returns the reminder baskets of p's territories (an admin's:
// the whole network): how many needs wait in each, by subject and by
// organisation. It returns a *ForbiddenError (also for an animateur without
// territory) and the read models' errors.
func (s *Service) Dashboard(ctx context.Context, p Principal) (Dashboard, error) {
	if err := s.Authorize(p, ActionDashboard); err != nil {
		return Dashboard{}, err
	}
	var zones []domain.Zone
	if p.Role == domain.RoleAnimateur {
		if len(p.Territories) == 0 {
			return Dashboard{}, forbid(p, ActionDashboard, "this animateur has no territory")
		}
		zones = p.Territories
	}
	rm, err := s.readModels()
	if err != nil {
		return Dashboard{}, err
	}
	d, err := rm.Dashboard(ctx, needs.DashboardQuery{ScopeZones: zones, Now: s.now()})
	if err != nil {
		return Dashboard{}, fromReadModel(err, "")
	}
	return d, nil
}

// PrincipalOfUser returns the principal of a user, read from the user's
// stream (never stale): what a browser session is opened with once the
// user proved who they are (a one-time link, the demo's sign-in). It
// returns ErrUnauthenticated when no such user exists, and the store's
// errors.
func (s *Service) PrincipalOfUser(ctx context.Context, userID uuid.UUID) (Principal, error) {
	raw, err := s.store.ReadStream(ctx, domain.UserStream(userID), 1, 1)
	if errors.Is(err, eventstore.ErrNotFound) || (err == nil && len(raw) == 0) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("read user %s: %w", userID, err)
	}
	e, err := domain.Unmarshal(raw[0].Type, raw[0].SchemaVersion, raw[0].Data)
	if err != nil {
		return Principal{}, fmt.Errorf("read user %s: %w", userID, err)
	}
	ur, ok := e.(domain.UserRegistered)
	if !ok {
		return Principal{}, fmt.Errorf("read user %s: first event is %s", userID, raw[0].Type)
	}
	return principalOf(auth.UserFromEvent(ur)), nil
}

// UserByEmail finds the user an email belongs to (case does not matter),
// in the directory's read model: who a one-time sign-in link is issued
// for. It returns ErrNotFound, a *domain.ValidationError for an empty
// email, and the read models' errors.
func (s *Service) UserByEmail(ctx context.Context, email string) (UserRow, error) {
	if strings.TrimSpace(email) == "" {
		return UserRow{}, &domain.ValidationError{Field: "email", Message: "is required"}
	}
	rm, err := s.readModels()
	if err != nil {
		return UserRow{}, err
	}
	u, err := rm.UserByEmail(ctx, email)
	if err != nil {
		return UserRow{}, fromReadModel(err, "")
	}
	return u, nil
}

func principalOf(u auth.User) Principal {
	return Principal{
		UserID: u.ID, Name: u.Name, Role: u.Role, OrganisationID: u.OrganisationID,
		ReferentID: u.ReferentID, Territories: u.Territories, TokenID: u.TokenID,
	}
}
