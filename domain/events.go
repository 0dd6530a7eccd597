package domain

import (
	"time"

	"github.com/google/uuid"
)

// Event is a fact of the domain. Every event says when it happened (given by
// the caller, so that history can be imported or simulated; the store adds
// its own recorded time) and who did it.
type Event interface {
	// EventType is the stable name under which the event is stored.
	EventType() string
	// SchemaVersion is the version of the event's JSON shape.
	SchemaVersion() int
	// OccurredAt is the instant the event happened.
	OccurredAt() time.Time
	// Actor is who caused it.
	Actor() Actor
}

// Role is what a user does in the network.
type Role string

// The roles of the network.
const (
	RoleAdvisor   Role = "advisor"
	RoleReferent  Role = "referent"
	RoleAnimateur Role = "animateur"
	RoleFunder    Role = "funder"
	RoleAdmin     Role = "admin"
	RoleSystem    Role = "system" // automatic actions (auto-abandon, imports)
)

// Actor is who caused an event.
type Actor struct {
	ID   uuid.UUID `json:"id"`
	Role Role      `json:"role"`
}

// Meta is embedded in every event: when and by whom.
type Meta struct {
	At time.Time `json:"at"`
	By Actor     `json:"by"`
}

// OccurredAt implements Event.
func (m Meta) OccurredAt() time.Time { return m.At }

// Actor implements Event.
func (m Meta) Actor() Actor { return m.By }

// SealedContact is a company contact's personal data (name, email, phone)
// encrypted under a key per data subject. The domain treats it as opaque: the
// application layer seals and opens it, and erasing the key erases the data.
type SealedContact struct {
	KeyID      string `json:"key_id"`
	Ciphertext []byte `json:"ciphertext"`
}

// MatchStatus is the status of one referent on one need.
type MatchStatus string

// Match statuses, as in the field's production system.
const (
	MatchQuo              MatchStatus = "quo"
	MatchTakingCare       MatchStatus = "taking_care"
	MatchDone             MatchStatus = "done"
	MatchDoneNoHelp       MatchStatus = "done_no_help"
	MatchDoneNotReachable MatchStatus = "done_not_reachable"
	MatchNotForMe         MatchStatus = "not_for_me"
)

// NeedStatus is derived from the statuses of a need's matches.
type NeedStatus string

// Need statuses: the match statuses plus captured and abandoned.
const (
	NeedCapturedStatus   NeedStatus = "captured"
	NeedQuo              NeedStatus = "quo"
	NeedTakingCare       NeedStatus = "taking_care"
	NeedDone             NeedStatus = "done"
	NeedDoneNoHelp       NeedStatus = "done_no_help"
	NeedDoneNotReachable NeedStatus = "done_not_reachable"
	NeedNotForMe         NeedStatus = "not_for_me"
	NeedAbandonedStatus  NeedStatus = "abandoned"
)

// ReminderKind is a reminder an animateur sends.
type ReminderKind string

// Reminder kinds; Basket also uses "abandon" and "none".
const (
	ReminderPoke       ReminderKind = "poke"
	ReminderLastChance ReminderKind = "last_chance"
)

// --- Need events (stream NeedStream(id)) -----------------------------------

// NeedCaptured: an advisor captured a company's need.
//
// Version 2 added NAFCode; version 1 events read with "" (upcast.go).
type NeedCaptured struct {
	Meta
	NeedID      uuid.UUID `json:"need_id"`
	SIRET       string    `json:"siret"`
	CompanyName string    `json:"company_name"`
	// NAFCode is the company's activity code (code APE, NAF rév. 2,
	// "10.71C"), "" when the advisor did not give it.
	NAFCode     string        `json:"naf_code"`
	Commune     string        `json:"commune"` // INSEE code
	Subject     string        `json:"subject"` // subject code
	Description string        `json:"description"`
	Contact     SealedContact `json:"contact"`
	AdvisorID   uuid.UUID     `json:"advisor_id"`
}

// MatchRef names a referent a need is forwarded to, with the organisation it
// belonged to at that moment (so statistics never depend on later moves).
type MatchRef struct {
	ReferentID     uuid.UUID `json:"referent_id"`
	OrganisationID uuid.UUID `json:"organisation_id"`
}

// NeedForwarded: the need was sent to referents; each gets a match in quo.
type NeedForwarded struct {
	Meta
	NeedID    uuid.UUID  `json:"need_id"`
	Referents []MatchRef `json:"referents"`
}

// MatchStatusChanged: a referent took charge, declined, closed or reopened.
// From and To always follow the transition table of DESIGN.md.
type MatchStatusChanged struct {
	Meta
	NeedID     uuid.UUID   `json:"need_id"`
	ReferentID uuid.UUID   `json:"referent_id"`
	From       MatchStatus `json:"from"`
	To         MatchStatus `json:"to"`
	Comment    string      `json:"comment,omitempty"` // the reason, when declining
}

// CommentAdded: someone commented the need.
type CommentAdded struct {
	Meta
	NeedID uuid.UUID `json:"need_id"`
	Text   string    `json:"text"`
}

// ReminderSent: an animateur reminded the referents of a need.
type ReminderSent struct {
	Meta
	NeedID uuid.UUID    `json:"need_id"`
	Kind   ReminderKind `json:"kind"`
}

// NeedAbandoned: the need was given up while nobody had taken it in charge.
type NeedAbandoned struct {
	Meta
	NeedID uuid.UUID `json:"need_id"`
	Reason string    `json:"reason"`
}

// ContactErased: the contact's key was deleted; the sealed data is now
// unreadable forever, and read models drop what they kept of it.
type ContactErased struct {
	Meta
	NeedID uuid.UUID `json:"need_id"`
	KeyID  string    `json:"key_id"`
}

// --- Directory events --------------------------------------------------------

// OrganisationKind is the family of a public organisation.
type OrganisationKind string

// Organisation kinds of the network.
const (
	KindCCI                OrganisationKind = "cci"
	KindCMA                OrganisationKind = "cma"
	KindDREETS             OrganisationKind = "dreets"
	KindRegion             OrganisationKind = "region"
	KindFranceTravail      OrganisationKind = "france_travail"
	KindURSSAF             OrganisationKind = "urssaf"
	KindBpifrance          OrganisationKind = "bpifrance"
	KindChambreAgriculture OrganisationKind = "chambre_agriculture"
	KindOther              OrganisationKind = "other"
)

// OrganisationCreated (stream OrganisationStream(id)).
type OrganisationCreated struct {
	Meta
	OrganisationID uuid.UUID        `json:"organisation_id"`
	Name           string           `json:"name"`
	Kind           OrganisationKind `json:"kind"`
}

// AntenneCreated: a local branch of an organisation (stream
// OrganisationStream(organisation id)).
type AntenneCreated struct {
	Meta
	OrganisationID uuid.UUID `json:"organisation_id"`
	AntenneID      uuid.UUID `json:"antenne_id"`
	Name           string    `json:"name"`
	Zone           Zone      `json:"zone"`
}

// ZoneLevel is the level of a territory.
type ZoneLevel string

// Territory levels, from the smallest.
const (
	LevelCommune     ZoneLevel = "commune"
	LevelEPCI        ZoneLevel = "epci"
	LevelDepartement ZoneLevel = "departement"
	LevelRegion      ZoneLevel = "region"
	LevelNational    ZoneLevel = "national"
)

// Zone is a territory a referent covers. Code is empty for national.
type Zone struct {
	Level ZoneLevel `json:"level"`
	Code  string    `json:"code,omitempty"`
}

// ReferentRegistered (stream ReferentStream(id)).
type ReferentRegistered struct {
	Meta
	ReferentID     uuid.UUID `json:"referent_id"`
	OrganisationID uuid.UUID `json:"organisation_id"`
	AntenneID      uuid.UUID `json:"antenne_id,omitempty"` // uuid.Nil when none
	Name           string    `json:"name"`
	Email          string    `json:"email"`
	Subjects       []string  `json:"subjects"`
	Zones          []Zone    `json:"zones"`
}

// ReferentCoverageChanged replaces a referent's subjects and zones.
type ReferentCoverageChanged struct {
	Meta
	ReferentID uuid.UUID `json:"referent_id"`
	Subjects   []string  `json:"subjects"`
	Zones      []Zone    `json:"zones"`
}

// ReferentDeactivated: the referent no longer receives needs.
type ReferentDeactivated struct {
	Meta
	ReferentID uuid.UUID `json:"referent_id"`
}

// UserRegistered (stream UserStream(id)): a person who can act in Réso. Its
// credentials are kept outside the log.
type UserRegistered struct {
	Meta
	UserID         uuid.UUID `json:"user_id"`
	Name           string    `json:"name"`
	Email          string    `json:"email"`
	Role           Role      `json:"role"`
	OrganisationID uuid.UUID `json:"organisation_id,omitempty"`
	ReferentID     uuid.UUID `json:"referent_id,omitempty"`
	Territories    []Zone    `json:"territories,omitempty"` // animateur scope
}

// Stable event type names. Renaming one breaks every stored log: never do.
const (
	TypeNeedCaptured            = "NeedCaptured"
	TypeNeedForwarded           = "NeedForwarded"
	TypeMatchStatusChanged      = "MatchStatusChanged"
	TypeCommentAdded            = "CommentAdded"
	TypeReminderSent            = "ReminderSent"
	TypeNeedAbandoned           = "NeedAbandoned"
	TypeContactErased           = "ContactErased"
	TypeOrganisationCreated     = "OrganisationCreated"
	TypeAntenneCreated          = "AntenneCreated"
	TypeReferentRegistered      = "ReferentRegistered"
	TypeReferentCoverageChanged = "ReferentCoverageChanged"
	TypeReferentDeactivated     = "ReferentDeactivated"
	TypeUserRegistered          = "UserRegistered"
)

// EventType implements Event.
func (NeedCaptured) EventType() string { return TypeNeedCaptured }

// SchemaVersion implements Event.
func (NeedCaptured) SchemaVersion() int { return 2 }

// EventType implements Event.
func (NeedForwarded) EventType() string { return TypeNeedForwarded }

// SchemaVersion implements Event.
func (NeedForwarded) SchemaVersion() int { return 1 }

// EventType implements Event.
func (MatchStatusChanged) EventType() string { return TypeMatchStatusChanged }

// SchemaVersion implements Event.
func (MatchStatusChanged) SchemaVersion() int { return 1 }

// EventType implements Event.
func (CommentAdded) EventType() string { return TypeCommentAdded }

// SchemaVersion implements Event.
func (CommentAdded) SchemaVersion() int { return 1 }

// EventType implements Event.
func (ReminderSent) EventType() string { return TypeReminderSent }

// SchemaVersion implements Event.
func (ReminderSent) SchemaVersion() int { return 1 }

// EventType implements Event.
func (NeedAbandoned) EventType() string { return TypeNeedAbandoned }

// SchemaVersion implements Event.
func (NeedAbandoned) SchemaVersion() int { return 1 }

// EventType implements Event.
func (ContactErased) EventType() string { return TypeContactErased }

// SchemaVersion implements Event.
func (ContactErased) SchemaVersion() int { return 1 }

// EventType implements Event.
func (OrganisationCreated) EventType() string { return TypeOrganisationCreated }

// SchemaVersion implements Event.
func (OrganisationCreated) SchemaVersion() int { return 1 }

// EventType implements Event.
func (AntenneCreated) EventType() string { return TypeAntenneCreated }

// SchemaVersion implements Event.
func (AntenneCreated) SchemaVersion() int { return 1 }

// EventType implements Event.
func (ReferentRegistered) EventType() string { return TypeReferentRegistered }

// SchemaVersion implements Event.
func (ReferentRegistered) SchemaVersion() int { return 1 }

// EventType implements Event.
func (ReferentCoverageChanged) EventType() string { return TypeReferentCoverageChanged }

// SchemaVersion implements Event.
func (ReferentCoverageChanged) SchemaVersion() int { return 1 }

// EventType implements Event.
func (ReferentDeactivated) EventType() string { return TypeReferentDeactivated }

// SchemaVersion implements Event.
func (ReferentDeactivated) SchemaVersion() int { return 1 }

// EventType implements Event.
func (UserRegistered) EventType() string { return TypeUserRegistered }

// SchemaVersion implements Event.
func (UserRegistered) SchemaVersion() int { return 1 }
