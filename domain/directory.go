package domain

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// organisationKinds lists the kinds with their French labels.
var organisationKinds = []struct {
	kind  OrganisationKind
	label string
}{
	{KindCCI, "CCI"},
	{KindCMA, "CMA"},
	{KindDREETS, "DREETS"},
	{KindRegion, "Région"},
	{KindFranceTravail, "France Travail"},
	{KindURSSAF, "URSSAF"},
	{KindBpifrance, "Bpifrance"},
	{KindChambreAgriculture, "Chambre d'agriculture"},
	{KindOther, "Autre"},
}

// OrganisationKinds returns every organisation kind.
func OrganisationKinds() []OrganisationKind {
	out := make([]OrganisationKind, len(organisationKinds))
	for i, k := range organisationKinds {
		out[i] = k.kind
	}
	return out
}

// Label is the kind's French label ("Chambre d'agriculture").
func (k OrganisationKind) Label() string {
	for _, o := range organisationKinds {
		if o.kind == k {
			return o.label
		}
	}
	return string(k)
}

// ParseOrganisationKind reads a kind from its code ("france_travail") or its
// label ("France Travail"), ignoring case. It returns a *ValidationError
// (field "kind") otherwise.
func ParseOrganisationKind(s string) (OrganisationKind, error) {
	t := strings.TrimSpace(s)
	for _, o := range organisationKinds {
		if strings.EqualFold(t, string(o.kind)) || strings.EqualFold(t, o.label) {
			return o.kind, nil
		}
	}
	return "", invalid("kind", "unknown organisation kind %q", s)
}

func (k OrganisationKind) valid() bool {
	for _, o := range organisationKinds {
		if o.kind == k {
			return true
		}
	}
	return false
}

// ValidRole reports whether r is a role a user can have (system is not).
func ValidRole(r Role) bool {
	switch r {
	case RoleAdvisor, RoleReferent, RoleAnimateur, RoleFunder, RoleAdmin:
		return true
	}
	return false
}

const maxNameLen = 300

func requiredID(field string, id uuid.UUID) error {
	if id == uuid.Nil {
		return invalid(field, "is required")
	}
	return nil
}

// checkEmail is a shape check only: something@something.tld, no space.
func checkEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid("email", "is required")
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.ContainsAny(s, " \t\r\n") || strings.Contains(domain, "@") {
		return "", invalid("email", "%q is not an email address", s)
	}
	return s, nil
}

// NewOrganisation validates an organisation (id, name trimmed and required,
// kind) and returns its creation event. It returns a *ValidationError.
func NewOrganisation(id uuid.UUID, name string, kind OrganisationKind, by Actor, at time.Time) (OrganisationCreated, error) {
	if err := requiredID("organisation_id", id); err != nil {
		return OrganisationCreated{}, err
	}
	name, err := requiredText("name", name, maxNameLen)
	if err != nil {
		return OrganisationCreated{}, err
	}
	if !kind.valid() {
		return OrganisationCreated{}, invalid("kind", "unknown organisation kind %q", kind)
	}
	if err := checkAt(at); err != nil {
		return OrganisationCreated{}, err
	}
	return OrganisationCreated{Meta: newMeta(by, at), OrganisationID: id, Name: name, Kind: kind}, nil
}

// NewAntenne validates a local branch of organisation organisationID (ids,
// name, zone known in geo; nil geo is DefaultGeography) and returns its
// creation event. It returns a *ValidationError.
func NewAntenne(organisationID, antenneID uuid.UUID, name string, zone Zone, geo *Geography, by Actor, at time.Time) (AntenneCreated, error) {
	if err := requiredID("organisation_id", organisationID); err != nil {
		return AntenneCreated{}, err
	}
	if err := requiredID("antenne_id", antenneID); err != nil {
		return AntenneCreated{}, err
	}
	name, err := requiredText("name", name, maxNameLen)
	if err != nil {
		return AntenneCreated{}, err
	}
	if geo == nil {
		geo = DefaultGeography()
	}
	if err := geo.ValidZone(zone); err != nil {
		return AntenneCreated{}, err
	}
	if err := checkAt(at); err != nil {
		return AntenneCreated{}, err
	}
	return AntenneCreated{Meta: newMeta(by, at), OrganisationID: organisationID, AntenneID: antenneID, Name: name, Zone: zone}, nil
}

// ReferentRegistration is the input of RegisterReferent.
type ReferentRegistration struct {
	ReferentID     uuid.UUID
	OrganisationID uuid.UUID
	AntenneID      uuid.UUID // optional
	Name           string
	Email          string
	Subjects       []string
	Zones          []Zone
}

// RegisterReferent validates a referent (ids, name, email, at least one
// subject of the taxonomy and one zone known in geo; nil geo is
// DefaultGeography) and returns its registration event. Duplicate subjects
// and zones are dropped, keeping the first. It returns a *ValidationError.
func RegisterReferent(r ReferentRegistration, geo *Geography, by Actor, at time.Time) (ReferentRegistered, error) {
	if err := requiredID("referent_id", r.ReferentID); err != nil {
		return ReferentRegistered{}, err
	}
	if err := requiredID("organisation_id", r.OrganisationID); err != nil {
		return ReferentRegistered{}, err
	}
	name, err := requiredText("name", r.Name, maxNameLen)
	if err != nil {
		return ReferentRegistered{}, err
	}
	email, err := checkEmail(r.Email)
	if err != nil {
		return ReferentRegistered{}, err
	}
	subjects, zones, err := coverage(r.Subjects, r.Zones, geo)
	if err != nil {
		return ReferentRegistered{}, err
	}
	if err := checkAt(at); err != nil {
		return ReferentRegistered{}, err
	}
	return ReferentRegistered{
		Meta:           newMeta(by, at),
		ReferentID:     r.ReferentID,
		OrganisationID: r.OrganisationID,
		AntenneID:      r.AntenneID,
		Name:           name,
		Email:          email,
		Subjects:       subjects,
		Zones:          zones,
	}, nil
}

// ChangeCoverage validates a referent's new subjects and zones like
// RegisterReferent and returns the event that replaces them. It returns a
// *ValidationError.
func ChangeCoverage(referentID uuid.UUID, subjects []string, zones []Zone, geo *Geography, by Actor, at time.Time) (ReferentCoverageChanged, error) {
	if err := requiredID("referent_id", referentID); err != nil {
		return ReferentCoverageChanged{}, err
	}
	subjects, zones, err := coverage(subjects, zones, geo)
	if err != nil {
		return ReferentCoverageChanged{}, err
	}
	if err := checkAt(at); err != nil {
		return ReferentCoverageChanged{}, err
	}
	return ReferentCoverageChanged{Meta: newMeta(by, at), ReferentID: referentID, Subjects: subjects, Zones: zones}, nil
}

// DeactivateReferent returns the event that stops routing needs to a
// referent. It returns a *ValidationError for a nil id or a zero instant.
func DeactivateReferent(referentID uuid.UUID, by Actor, at time.Time) (ReferentDeactivated, error) {
	if err := requiredID("referent_id", referentID); err != nil {
		return ReferentDeactivated{}, err
	}
	if err := checkAt(at); err != nil {
		return ReferentDeactivated{}, err
	}
	return ReferentDeactivated{Meta: newMeta(by, at), ReferentID: referentID}, nil
}

func coverage(subjects []string, zones []Zone, geo *Geography) ([]string, []Zone, error) {
	if geo == nil {
		geo = DefaultGeography()
	}
	if len(subjects) == 0 {
		return nil, nil, invalid("subjects", "at least one subject is required")
	}
	outS := make([]string, 0, len(subjects))
	for _, s := range subjects {
		if _, ok := SubjectByCode(s); !ok {
			return nil, nil, invalid("subjects", "unknown subject %q", s)
		}
		if !slices.Contains(outS, s) {
			outS = append(outS, s)
		}
	}
	outZ, err := checkZones("zones", zones, geo)
	if err != nil {
		return nil, nil, err
	}
	if len(outZ) == 0 {
		return nil, nil, invalid("zones", "at least one zone is required")
	}
	return outS, outZ, nil
}

func checkZones(field string, zones []Zone, geo *Geography) ([]Zone, error) {
	out := make([]Zone, 0, len(zones))
	for _, z := range zones {
		if err := geo.ValidZone(z); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				return nil, invalid(field, "%s", ve.Message)
			}
			return nil, err
		}
		if !slices.Contains(out, z) {
			out = append(out, z)
		}
	}
	return out, nil
}

// UserRegistration is the input of RegisterUser.
type UserRegistration struct {
	UserID         uuid.UUID
	Name           string
	Email          string
	Role           Role
	OrganisationID uuid.UUID // the advisor's or referent's organisation
	ReferentID     uuid.UUID // required for the referent role
	Territories    []Zone    // required (one or more) for the animateur role
}

// RegisterUser validates a user and returns its registration event: id,
// name, email, a role other than system; a referent needs ReferentID; an
// animateur needs one or more territories, known in geo (nil geo is
// DefaultGeography). Other roles take no territory. It returns a
// *ValidationError.
func RegisterUser(u UserRegistration, geo *Geography, by Actor, at time.Time) (UserRegistered, error) {
	if err := requiredID("user_id", u.UserID); err != nil {
		return UserRegistered{}, err
	}
	name, err := requiredText("name", u.Name, maxNameLen)
	if err != nil {
		return UserRegistered{}, err
	}
	email, err := checkEmail(u.Email)
	if err != nil {
		return UserRegistered{}, err
	}
	if !ValidRole(u.Role) {
		return UserRegistered{}, invalid("role", "unknown role %q", u.Role)
	}
	if geo == nil {
		geo = DefaultGeography()
	}
	territories, err := checkZones("territories", u.Territories, geo)
	if err != nil {
		return UserRegistered{}, err
	}
	switch {
	case u.Role == RoleReferent && u.ReferentID == uuid.Nil:
		return UserRegistered{}, invalid("referent_id", "a referent user needs a referent id")
	case u.Role == RoleAnimateur && len(territories) == 0:
		return UserRegistered{}, invalid("territories", "an animateur needs at least one territory")
	case u.Role != RoleAnimateur && len(territories) > 0:
		return UserRegistered{}, invalid("territories", "only an animateur has territories")
	}
	if len(territories) == 0 {
		territories = nil
	}
	if err := checkAt(at); err != nil {
		return UserRegistered{}, err
	}
	return UserRegistered{
		Meta:           newMeta(by, at),
		UserID:         u.UserID,
		Name:           name,
		Email:          email,
		Role:           u.Role,
		OrganisationID: u.OrganisationID,
		ReferentID:     u.ReferentID,
		Territories:    territories,
	}, nil
}

// ReferentDetails are what ChangeReferentDetails sets.
type ReferentDetails struct {
	Name, Phone, Function string
	AntenneID             uuid.UUID // uuid.Nil: no antenne
}

// ChangeReferentDetails validates a referent's name (trimmed, required),
// phone (empty, or a French number) and function (at most 300 characters)
// and returns the event that sets them with the antenne. It returns a
// *ValidationError (fields "referent_id", "name", "phone", "function",
// "at").
func ChangeReferentDetails(referentID uuid.UUID, d ReferentDetails, by Actor, at time.Time) (ReferentDetailsChanged, error) {
	if err := requiredID("referent_id", referentID); err != nil {
		return ReferentDetailsChanged{}, err
	}
	name, err := requiredText("name", d.Name, maxNameLen)
	if err != nil {
		return ReferentDetailsChanged{}, err
	}
	phone := strings.TrimSpace(d.Phone)
	if phone != "" && !ValidFrenchPhone(phone) {
		return ReferentDetailsChanged{}, invalid("phone", "%q is not a French phone number (10 digits from 0, or +33 and 9 digits)", phone)
	}
	function := strings.TrimSpace(d.Function)
	if function != "" {
		if function, err = requiredText("function", function, maxNameLen); err != nil {
			return ReferentDetailsChanged{}, err
		}
	}
	if err := checkAt(at); err != nil {
		return ReferentDetailsChanged{}, err
	}
	return ReferentDetailsChanged{Meta: newMeta(by, at), ReferentID: referentID, AntenneID: d.AntenneID,
		Name: name, Phone: phone, Function: function}, nil
}

// ReactivateReferent returns the event that routes needs to a deactivated
// referent again. It returns a *ValidationError for a nil id or a zero
// instant.
func ReactivateReferent(referentID uuid.UUID, by Actor, at time.Time) (ReferentReactivated, error) {
	if err := requiredID("referent_id", referentID); err != nil {
		return ReferentReactivated{}, err
	}
	if err := checkAt(at); err != nil {
		return ReferentReactivated{}, err
	}
	return ReferentReactivated{Meta: newMeta(by, at), ReferentID: referentID}, nil
}
