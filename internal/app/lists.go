package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/projections/needs"
)

// NeedStatuses are the values of a need list's status filter.
func NeedStatuses() []string {
	return []string{"captured", "quo", "taking_care", "done", "done_no_help", "done_not_reachable", "not_for_me", "abandoned"}
}

// Baskets are the reminder baskets of a need list's basket filter.
func Baskets() []string { return []string{"poke", "last_chance", "abandon"} }

// InboxTabs are the tabs of a referent's inbox, in the order shown.
func InboxTabs() []string {
	return []string{needs.TabQuo, needs.TabTakingCare, needs.TabDone, needs.TabNotForMe, needs.TabExpired}
}

// Page sizes of lists.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// NeedQuery selects needs for ListNeeds. Empty fields do not filter.
type NeedQuery struct {
	Status, Basket                              string
	Region, Departement, EPCI, Commune, Subject string
	Referent, Advisor                           uuid.UUID
	Organisation                                uuid.UUID // needs forwarded to one of its referents
	CapturedFrom, CapturedTo                    time.Time // [from, to)
	Limit                                       int       // 0: DefaultLimit
	Cursor                                      string    // NextCursor of the previous page
	// SFAlert keeps the needs of companies on the Signaux Faibles list
	// that applies: "F1", "F2" or "any" (SFAlertFilters). Only roles that
	// may see alerts (ActionSFFlags) may filter; their rows carry the flag.
	SFAlert string
	// MinPosition, when set, is a position a command returned: the list
	// waits until the read models have applied it (see WaitForPosition).
	MinPosition eventstore.Position

	scopeZones                  []domain.Zone
	scopeAdvisor, scopeReferent uuid.UUID
}

// oneOf checks an optional enumerated value.
func oneOf(field, v string, values []string) error {
	if v != "" && !slices.Contains(values, v) {
		return &domain.ValidationError{Field: field, Message: "one of " + strings.Join(values, ", ")}
	}
	return nil
}

// knownSubject checks an optional subject code.
func knownSubject(code string) error {
	if code == "" {
		return nil
	}
	if _, ok := domain.SubjectByCode(code); !ok {
		return &domain.ValidationError{Field: "subject", Message: "unknown subject"}
	}
	return nil
}

// limit checks and defaults a page size.
func limit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultLimit, nil
	case n < 1 || n > MaxLimit:
		return 0, &domain.ValidationError{Field: "limit", Message: fmt.Sprintf("an integer from 1 to %d", MaxLimit)}
	}
	return n, nil
}

// scope restricts q to what p may list: an advisor the needs they
// captured, a referent those forwarded to them, an animateur those of their
// territories (none without territories), an admin everything. It returns
// a *ForbiddenError for a referent user without a referent.
func (q *NeedQuery) scope(p Principal) error {
	switch p.Role {
	case domain.RoleAdmin:
	case domain.RoleAdvisor:
		q.scopeAdvisor = p.UserID
	case domain.RoleReferent:
		if p.ReferentID == uuid.Nil {
			return forbid(p, ActionListNeeds, "this referent account is linked to no referent")
		}
		q.scopeReferent = p.ReferentID
	case domain.RoleAnimateur:
		// A non-nil slice restricts, even empty: no territory, no need.
		q.scopeZones = append([]domain.Zone{}, p.Territories...)
	default:
		return forbid(p, ActionListNeeds, "role %s may not list needs", roleName(p.Role))
	}
	return nil
}

// ListNeeds returns a page of the needs q selects within p's scope, newest
// capture first, as the read models have them. It returns a
// *ForbiddenError, a *domain.ValidationError for a bad filter or cursor, and
// the read models' errors.
func (s *Service) ListNeeds(ctx context.Context, p Principal, q NeedQuery) (NeedPage, error) {
	if err := s.Authorize(p, ActionListNeeds); err != nil {
		return NeedPage{}, err
	}
	if err := q.scope(p); err != nil {
		return NeedPage{}, err
	}
	var err error
	if err = oneOf("status", q.Status, NeedStatuses()); err != nil {
		return NeedPage{}, err
	}
	if err = oneOf("basket", q.Basket, Baskets()); err != nil {
		return NeedPage{}, err
	}
	if err = knownSubject(q.Subject); err != nil {
		return NeedPage{}, err
	}
	if err = s.checkSFFilter(p, q.SFAlert); err != nil {
		return NeedPage{}, err
	}
	if q.Limit, err = limit(q.Limit); err != nil {
		return NeedPage{}, err
	}
	rm, err := s.readModels()
	if err != nil {
		return NeedPage{}, err
	}
	if err := s.WaitForPosition(ctx, q.MinPosition); err != nil {
		return NeedPage{}, err
	}
	sf, none, err := s.sfJoin(ctx, p, rm, q.SFAlert)
	if err != nil || none {
		return NeedPage{Items: []NeedRow{}}, err
	}
	page, err := rm.ListNeeds(ctx, needs.NeedFilter{
		Status: q.Status, Region: q.Region, Departement: q.Departement, EPCI: q.EPCI, Commune: q.Commune,
		Subject: q.Subject, Referent: q.Referent, Advisor: q.Advisor, Organisation: q.Organisation, Basket: q.Basket,
		CapturedFrom: q.CapturedFrom, CapturedTo: q.CapturedTo,
		Now: s.now(), Limit: q.Limit, Cursor: q.Cursor,
		ScopeZones: q.scopeZones, ScopeReferent: q.scopeReferent, ScopeAdvisor: q.scopeAdvisor, SF: sf,
	})
	if err != nil {
		return NeedPage{}, fromReadModel(err, q.Cursor)
	}
	if page.Items == nil {
		page.Items = []NeedRow{}
	}
	return page, nil
}

// InboxQuery selects a page of a referent's inbox.
type InboxQuery struct {
	// Referent is the inbox's referent: a referent's own (Nil or theirs);
	// an admin must name one.
	Referent uuid.UUID
	Tab      string // one of InboxTabs(); "" is the new needs (quo)
	Limit    int    // 0: DefaultLimit
	Cursor   string
	// MinPosition: as NeedQuery's.
	MinPosition eventstore.Position
}

// Inbox returns a page of a referent's matches in one tab, the latest sent
// first. A referent reads their own inbox; an admin names the referent. It
// returns a *ForbiddenError, a *domain.ValidationError for a bad tab,
// referent or cursor, and the read models' errors.
func (s *Service) Inbox(ctx context.Context, p Principal, q InboxQuery) (MatchPage, error) {
	if err := s.Authorize(p, ActionInbox); err != nil {
		return MatchPage{}, err
	}
	var err error
	if q.Referent, err = inboxReferent(p, q.Referent); err != nil {
		return MatchPage{}, err
	}
	if q.Tab == "" {
		q.Tab = needs.TabQuo
	}
	if err = oneOf("tab", q.Tab, InboxTabs()); err != nil {
		return MatchPage{}, err
	}
	if q.Limit, err = limit(q.Limit); err != nil {
		return MatchPage{}, err
	}
	rm, err := s.readModels()
	if err != nil {
		return MatchPage{}, err
	}
	if err := s.WaitForPosition(ctx, q.MinPosition); err != nil {
		return MatchPage{}, err
	}
	page, err := rm.Inbox(ctx, q.Referent, q.Tab, s.now(), q.Limit, q.Cursor)
	if err != nil {
		return MatchPage{}, fromReadModel(err, q.Cursor)
	}
	if page.Items == nil {
		page.Items = []MatchRow{}
	}
	return page, nil
}

// inboxReferent is the referent whose inbox p reads when asking for
// referent: a referent's own, the one an admin names. It returns a
// *ForbiddenError and a *domain.ValidationError.
func inboxReferent(p Principal, referent uuid.UUID) (uuid.UUID, error) {
	switch {
	case p.Role == domain.RoleReferent && p.ReferentID == uuid.Nil:
		return uuid.Nil, forbid(p, ActionInbox, "this referent account is linked to no referent")
	case p.Role == domain.RoleReferent && referent != uuid.Nil && referent != p.ReferentID:
		return uuid.Nil, forbid(p, ActionInbox, "a referent may only read their own inbox")
	case p.Role == domain.RoleReferent:
		return p.ReferentID, nil
	case referent == uuid.Nil:
		return uuid.Nil, &domain.ValidationError{Field: "referent", Message: "an admin names the referent whose inbox to read"}
	}
	return referent, nil
}
