package app

import (
	"slices"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// Actions of Can: the endpoints that do not concern one need. Need commands
// and reads check their scope themselves.
const (
	ActionStats              = "stats"               // statistics and their exports
	ActionListNeeds          = "needs.list"          // list of needs, within the principal's scope
	ActionCaptureNeed        = "needs.capture"       // POST /api/needs
	ActionInbox              = "inbox"               // a referent's inbox
	ActionSubjects           = "subjects"            // the taxonomy
	ActionEvents             = "events"              // the raw log
	ActionProjections        = "projections"         // projection status
	ActionRebuild            = "projections.rebuild" // rebuild a projection
	ActionCreateUser         = "users.create"
	ActionCreateOrganisation = "organisations.create"
	ActionRegisterReferent   = "referents.create"
	ActionErase              = "erasures"
	ActionReadDirectory      = "directory.read" // organisations and referents lists
)

var allowed = map[string][]domain.Role{
	ActionStats:              {domain.RoleFunder, domain.RoleAnimateur},
	ActionListNeeds:          {domain.RoleAdvisor, domain.RoleReferent, domain.RoleAnimateur},
	ActionCaptureNeed:        {domain.RoleAdvisor},
	ActionInbox:              {domain.RoleReferent},
	ActionSubjects:           {domain.RoleAdvisor, domain.RoleReferent, domain.RoleAnimateur, domain.RoleFunder},
	ActionReadDirectory:      {domain.RoleAdvisor, domain.RoleReferent, domain.RoleAnimateur},
	ActionEvents:             {},
	ActionProjections:        {},
	ActionRebuild:            {},
	ActionCreateUser:         {},
	ActionCreateOrganisation: {},
	ActionRegisterReferent:   {},
	ActionErase:              {},
}

// Can reports whether p's role allows action (one of the Action constants).
// An admin can do everything; an unknown action is refused to everyone else.
// Scope (which needs, which territories) is applied by the caller's query.
func (s *Service) Can(p Principal, action string) bool {
	if p.Role == domain.RoleAdmin {
		return true
	}
	return slices.Contains(allowed[action], p.Role)
}

// needAccess is what a principal may do on one need.
type needAccess int

const (
	accessRead needAccess = iota
	accessComment
	accessForward
	accessRemind // also abandon
	accessMatch  // change a match: the referent's own, checked apart
)

// mayOnNeed decides whether p may act on n. It returns ErrForbidden.
func (s *Service) mayOnNeed(p Principal, n *domain.Need, a needAccess) error {
	switch p.Role {
	case domain.RoleAdmin:
		return nil
	case domain.RoleAdvisor:
		if n.Captured().AdvisorID != p.UserID {
			return ErrForbidden
		}
		if a == accessRead || a == accessComment || a == accessForward {
			return nil
		}
	case domain.RoleReferent:
		if p.ReferentID == uuid.Nil {
			return ErrForbidden
		}
		if _, ok := n.Match(p.ReferentID); !ok {
			return ErrForbidden
		}
		if a == accessRead || a == accessComment || a == accessMatch {
			return nil
		}
	case domain.RoleAnimateur:
		if !s.inScope(p, n.Captured().Commune) {
			return ErrForbidden
		}
		if a != accessMatch {
			return nil
		}
	}
	return ErrForbidden
}

// inScope reports whether commune lies in one of an animateur's territories.
func (s *Service) inScope(p Principal, commune string) bool {
	for _, z := range p.Territories {
		if s.geo.Contains(z, commune) {
			return true
		}
	}
	return false
}

// mayTouchNeeds is the role-level gate before a need is even loaded, so that
// a funder learns nothing, not even whether an id exists.
func mayTouchNeeds(p Principal) error {
	switch p.Role {
	case domain.RoleAdmin, domain.RoleAdvisor, domain.RoleReferent, domain.RoleAnimateur:
		return nil
	}
	return ErrForbidden
}
