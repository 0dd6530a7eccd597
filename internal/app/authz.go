package app

import (
	"fmt"
	"slices"
	"sort"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// Action names an operation of the service. Every operation the API or the
// console offers requires exactly one; the role matrix below is the one
// place that says which roles may attempt it. Scope (which needs, which
// territories) is decided by the operation itself, on the data.
type Action string

// The actions. Their values appear in refusals and in the route table.
const (
	// ActionPublic needs no principal (health, readiness, metrics, the
	// OpenAPI document). It is the only action without a matrix row.
	ActionPublic Action = "public"

	ActionCaptureNeed    Action = "needs.capture"     // POST /api/needs
	ActionListNeeds      Action = "needs.list"        // list of needs, within the principal's scope
	ActionReadNeed       Action = "needs.read"        // one need, its history, as of a past instant
	ActionSuggestions    Action = "needs.suggestions" // referents routing suggests for a need
	ActionForwardNeed    Action = "needs.forward"
	ActionChangeMatch    Action = "needs.position" // a referent's position on their match
	ActionComment        Action = "needs.comment"
	ActionRemind         Action = "needs.remind"
	ActionAbandon        Action = "needs.abandon"
	ActionInbox          Action = "inbox" // a referent's inbox
	ActionStats          Action = "stats" // statistics and their exports
	ActionSubjects       Action = "subjects"
	ActionCommunes       Action = "communes"       // the geography's commune search
	ActionMe             Action = "me"             // who the caller is
	ActionTokens         Action = "tokens"         // one's own API tokens; an admin's, anyone's
	ActionReadDirectory  Action = "directory.read" // organisations and referents lists
	ActionEvents         Action = "events"         // the raw log
	ActionProjections    Action = "projections"    // projection status
	ActionRebuild        Action = "projections.rebuild"
	ActionCreateUser     Action = "users.create"
	ActionCreateOrg      Action = "organisations.create"
	ActionCreateReferent Action = "referents.create"
	ActionErase          Action = "erasures"
	ActionNotifications  Action = "notifications"   // mail deliveries: list, retry
	ActionReadUsers      Action = "users.read"      // the users of the directory
	ActionDashboard      Action = "needs.dashboard" // reminder baskets of a territory

	ActionImportDirectory Action = "directory.import" // a directory file, dry run or not
	ActionExportDirectory Action = "directory.export" // the directory as a file (command line)
	ActionOpenTerritory   Action = "territories.open" // the service opens in a région or département
	ActionReadTerritories Action = "territories.read" // which territories opened, and when

	// Signaux Faibles (issue 16): admins import the lists; animateurs and
	// admins see the alerts (on needs, and the companies to visit); the
	// other roles never see a company's alert.
	ActionImportSF    Action = "signaux_faibles.import"
	ActionSFCompanies Action = "signaux_faibles.companies"
	ActionSFFlags     Action = "signaux_faibles.flags" // the alerts on needs, and the filter by alert

	// ActionOutbox reads the mails a server without a mail server wrote to
	// its outbox (issue 15): they hold contacts' names and addresses.
	ActionOutbox Action = "notifications.outbox"
)

// ActionCreateOrganisation and ActionRegisterReferent are the earlier names
// of ActionCreateOrg and ActionCreateReferent.
const (
	ActionCreateOrganisation = ActionCreateOrg
	ActionRegisterReferent   = ActionCreateReferent
)

// rule is one row of the role matrix: who may attempt an action, and the
// words a refusal uses ("role funder may not <what>").
type rule struct {
	roles []domain.Role
	what  string
}

var (
	everyone = []domain.Role{domain.RoleAdmin, domain.RoleAdvisor, domain.RoleReferent, domain.RoleAnimateur, domain.RoleFunder}
	onNeeds  = []domain.Role{domain.RoleAdmin, domain.RoleAdvisor, domain.RoleReferent, domain.RoleAnimateur}
	admins   = []domain.Role{domain.RoleAdmin}
)

// matrix is the role matrix. An action missing here is refused to every
// role, admins included: deny by default.
var matrix = map[Action]rule{
	ActionCaptureNeed:    {[]domain.Role{domain.RoleAdmin, domain.RoleAdvisor}, "capture needs"},
	ActionListNeeds:      {onNeeds, "list needs"},
	ActionReadNeed:       {onNeeds, "read needs"},
	ActionSuggestions:    {[]domain.Role{domain.RoleAdmin, domain.RoleAdvisor, domain.RoleAnimateur}, "ask for the referents of a need"},
	ActionForwardNeed:    {[]domain.Role{domain.RoleAdmin, domain.RoleAdvisor, domain.RoleAnimateur}, "forward needs"},
	ActionChangeMatch:    {[]domain.Role{domain.RoleAdmin, domain.RoleReferent}, "position on needs"},
	ActionComment:        {onNeeds, "comment on needs"},
	ActionRemind:         {[]domain.Role{domain.RoleAdmin, domain.RoleAnimateur}, "remind referents"},
	ActionAbandon:        {[]domain.Role{domain.RoleAdmin, domain.RoleAnimateur}, "abandon needs"},
	ActionInbox:          {[]domain.Role{domain.RoleAdmin, domain.RoleReferent}, "read an inbox"},
	ActionStats:          {[]domain.Role{domain.RoleAdmin, domain.RoleFunder, domain.RoleAnimateur}, "read statistics"},
	ActionSubjects:       {everyone, "read the subjects"},
	ActionCommunes:       {everyone, "search communes"},
	ActionMe:             {everyone, "read their own account"},
	ActionTokens:         {everyone, "manage API tokens"},
	ActionReadDirectory:  {onNeeds, "read the directory"},
	ActionEvents:         {admins, "read the event log"},
	ActionProjections:    {admins, "read the projections' status"},
	ActionRebuild:        {admins, "rebuild projections"},
	ActionCreateUser:     {admins, "create users"},
	ActionCreateOrg:      {admins, "create organisations"},
	ActionCreateReferent: {admins, "register referents"},
	ActionErase:          {admins, "erase personal data"},
	ActionNotifications:  {admins, "read or retry mail deliveries"},
	ActionReadUsers:      {admins, "read the users"},
	ActionDashboard:      {[]domain.Role{domain.RoleAdmin, domain.RoleAnimateur}, "read a territory's dashboard"},

	ActionImportDirectory: {admins, "import the directory"},
	ActionExportDirectory: {admins, "export the directory"},
	ActionOpenTerritory:   {admins, "open territories"},
	ActionReadTerritories: {everyone, "read the territories' openings"},

	ActionImportSF:    {admins, "import Signaux Faibles lists"},
	ActionSFCompanies: {[]domain.Role{domain.RoleAdmin, domain.RoleAnimateur}, "list the companies on Signaux Faibles lists"},
	ActionSFFlags:     {[]domain.Role{domain.RoleAdmin, domain.RoleAnimateur}, "see Signaux Faibles alerts"},

	ActionOutbox: {admins, "read the mails of the outbox"},
}

// Actions lists every action of the matrix, sorted (ActionPublic is not
// one: it needs no principal).
func Actions() []Action {
	out := make([]Action, 0, len(matrix))
	for a := range matrix {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Known reports whether action is ActionPublic or has a row in the matrix:
// what a route must declare.
func Known(action Action) bool {
	_, ok := matrix[action]
	return ok || action == ActionPublic
}

// Allowed reports whether role may attempt action. It is the matrix's
// answer alone: scope is decided on the data by each operation.
func Allowed(role domain.Role, action Action) bool {
	if action == ActionPublic {
		return true
	}
	r, ok := matrix[action]
	return ok && slices.Contains(r.roles, role)
}

// ForbiddenError is a refusal that says what was refused and why. It
// matches ErrForbidden with errors.Is.
type ForbiddenError struct {
	Role   domain.Role
	Action Action
	Reason string
}

func (e *ForbiddenError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrForbidden) hold.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// forbid builds a refusal of action with a reason of its own.
func forbid(p Principal, action Action, format string, args ...any) error {
	return &ForbiddenError{Role: p.Role, Action: action, Reason: fmt.Sprintf(format, args...)}
}

// Authorize checks that p's role may attempt action. It returns a
// *ForbiddenError ("role funder may not list needs") when not, and for an
// action without a matrix row.
func (s *Service) Authorize(p Principal, action Action) error {
	if Allowed(p.Role, action) {
		return nil
	}
	if r, ok := matrix[action]; ok {
		return forbid(p, action, "role %s may not %s", roleName(p.Role), r.what)
	}
	return forbid(p, action, "action %q is not allowed to anyone", string(action))
}

// Can reports whether p's role allows action.
func (s *Service) Can(p Principal, action Action) bool { return Allowed(p.Role, action) }

func roleName(r domain.Role) string {
	if r == "" {
		return "(none)"
	}
	return string(r)
}

// mayOnNeed decides whether p may reach n at all. A principal who may not
// gets ErrNotFound, the answer of a need that does not exist: a refusal must
// not tell that a need outside one's scope exists. What p may do on a need
// it reaches is the role matrix's answer, checked before the need is loaded.
func (s *Service) mayOnNeed(p Principal, n *domain.Need) error {
	if !s.readsNeed(p, n) {
		return ErrNotFound
	}
	return nil
}

// readsNeed reports whether n lies in p's scope: the advisor who captured
// it, a referent it was forwarded to, an animateur of its territory, an
// admin.
func (s *Service) readsNeed(p Principal, n *domain.Need) bool {
	switch p.Role {
	case domain.RoleAdmin:
		return true
	case domain.RoleAdvisor:
		return n.Captured().AdvisorID == p.UserID
	case domain.RoleReferent:
		if p.ReferentID == uuid.Nil {
			return false
		}
		_, ok := n.Match(p.ReferentID)
		return ok
	case domain.RoleAnimateur:
		return s.inScope(p, n.Captured().Commune)
	}
	return false
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
