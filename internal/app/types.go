package app

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
)

// Principal is an authenticated user and what their role lets them reach.
type Principal struct {
	UserID         uuid.UUID
	Name           string
	Role           domain.Role
	OrganisationID uuid.UUID
	ReferentID     uuid.UUID     // set for referents
	Territories    []domain.Zone // animateur scope
	// TokenID names the API token the principal authenticated with ("" for
	// a console session).
	TokenID string
}

// CommandMeta travels with a command into every event's metadata.
type CommandMeta struct {
	IdempotencyKey, CorrelationID, CausationID string
}

// Contact is a company contact's personal data, in plaintext. It lives only
// in memory: the log holds it sealed.
type Contact struct {
	Name, Email, Phone string
}

// ContactView is the contact as a client sees it: opened, or marked erased
// with every field empty, or marked unavailable (its key is wrapped under a
// master key the server was not given, or does not decrypt) with every
// field empty.
type ContactView struct {
	Name        string `json:"name"`
	Email       string `json:"email"`
	Phone       string `json:"phone"`
	Erased      bool   `json:"erased"`
	Unavailable bool   `json:"unavailable,omitempty"`
}

// MatchView is one referent on one need.
type MatchView struct {
	ReferentID       uuid.UUID          `json:"referent_id"`
	ReferentName     string             `json:"referent_name"`
	OrganisationID   uuid.UUID          `json:"organisation_id"`
	OrganisationName string             `json:"organisation_name"`
	Status           domain.MatchStatus `json:"status"`
	SentAt           time.Time          `json:"sent_at"`
	TakenCareOfAt    *time.Time         `json:"taken_care_of_at"`
	ClosedAt         *time.Time         `json:"closed_at"`
}

// NeedView is a need as it stands (or stood), folded from its stream.
type NeedView struct {
	ID                uuid.UUID         `json:"id"`
	Version           int64             `json:"version"`
	Status            domain.NeedStatus `json:"status"`
	SIRET             string            `json:"siret"`
	CompanyName       string            `json:"company_name"`
	NAFCode           string            `json:"naf_code"`
	Commune           string            `json:"commune"`
	Subject           string            `json:"subject"`
	Description       string            `json:"description"`
	Contact           *ContactView      `json:"contact"`
	CapturedAt        time.Time         `json:"captured_at"`
	AdvisorID         uuid.UUID         `json:"advisor_id"`
	Matches           []MatchView       `json:"matches"`
	ForwardedAt       *time.Time        `json:"forwarded_at"`
	FirstTakeChargeAt *time.Time        `json:"first_take_charge_at"`
	AbandonedAt       *time.Time        `json:"abandoned_at"`
	// SignauxFaibles is the company's Signaux Faibles alert, shown only to
	// those who may see it (ActionSFFlags) and only when the list names
	// it: absent otherwise.
	SignauxFaibles *SFView `json:"signaux_faibles,omitempty"`
}

// SFView is a company's flag on a Signaux Faibles list: alert, score, the
// list's label and period. NeedRow carries it as SignauxFaibles too.
type SFView = domain.SFFlag

// ActorView names who did something.
type ActorView struct {
	ID   uuid.UUID   `json:"id"`
	Name string      `json:"name"`
	Role domain.Role `json:"role"`
}

// HistoryEvent is one step of a need's history. Data is the event's JSON
// with the sealed contact replaced by the opened ContactView (or the erased
// marker): clients never see ciphertext.
type HistoryEvent struct {
	Version    int64           `json:"version"`
	Position   string          `json:"position"`
	Type       string          `json:"type"`
	OccurredAt time.Time       `json:"occurred_at"`
	RecordedAt time.Time       `json:"recorded_at"`
	Actor      ActorView       `json:"actor"`
	Data       json.RawMessage `json:"data"`
}

// Result is what a need command returns: the need after the command and the
// global position of its last event (the Reso-Position header).
type Result struct {
	Need     NeedView
	Position eventstore.Position
}

// CaptureInput is what an advisor enters for a new need. The place is the
// commune's INSEE code, or a postal code that serves one commune only, or
// both when they agree. NAFCode is optional.
type CaptureInput struct {
	SIRET, CompanyName, NAFCode, Commune, PostalCode, Subject, Description string
	Contact                                                                Contact
}

// ReferentInput registers a referent.
type ReferentInput struct {
	OrganisationID uuid.UUID
	Name, Email    string
	Subjects       []string
	Zones          []domain.Zone
}

// UserInput registers a user.
type UserInput struct {
	Name, Email    string
	Role           domain.Role
	OrganisationID uuid.UUID
	ReferentID     uuid.UUID
	Territories    []domain.Zone
}

// EraseInput names the data subjects to erase: by contact email, or every
// contact of a SIRET.
type EraseInput struct {
	ContactEmail, SIRET string
}

// EraseResult counts what an erasure did.
type EraseResult struct {
	Keys  int `json:"keys"`
	Needs int `json:"needs"`
}
