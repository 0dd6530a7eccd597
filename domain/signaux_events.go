package domain

import "github.com/google/uuid"

// --- Signaux Faibles list events (stream SFListStream(list id)) ------------

// SignauxFaiblesListImported: an admin imported a Signaux Faibles list, the
// first event of the import: which list (its period and label), how many
// lines with an alert, how many of each level, the SHA-256 of the content
// and the number of SignauxFaiblesLinesRecorded parts that follow it in the
// same append. Who and when are its Meta.
type SignauxFaiblesListImported struct {
	Meta
	ListID   uuid.UUID `json:"list_id"`
	ImportID uuid.UUID `json:"import_id"`
	Label    string    `json:"label"`
	Period   string    `json:"period"` // YYYY-MM
	Lines    int       `json:"lines"`
	F1       int       `json:"f1"`
	F2       int       `json:"f2"`
	Parts    int       `json:"parts"`
	Digest   string    `json:"digest"`
}

// SignauxFaiblesLinesRecorded: part Part (from 1) of an import's lines,
// sorted by SIREN. The content is confidential: it lives in the log and
// the read models, never in logs or metrics.
type SignauxFaiblesLinesRecorded struct {
	Meta
	ListID   uuid.UUID `json:"list_id"`
	ImportID uuid.UUID `json:"import_id"`
	Part     int       `json:"part"`
	Lines    []SFLine  `json:"lines"`
}

// Stable names of the Signaux Faibles events (see events.go: never rename).
const (
	TypeSignauxFaiblesListImported  = "SignauxFaiblesListImported"
	TypeSignauxFaiblesLinesRecorded = "SignauxFaiblesLinesRecorded"
)

// EventType implements Event.
func (SignauxFaiblesListImported) EventType() string { return TypeSignauxFaiblesListImported }

// SchemaVersion implements Event.
func (SignauxFaiblesListImported) SchemaVersion() int { return 1 }

// EventType implements Event.
func (SignauxFaiblesLinesRecorded) EventType() string { return TypeSignauxFaiblesLinesRecorded }

// SchemaVersion implements Event.
func (SignauxFaiblesLinesRecorded) SchemaVersion() int { return 1 }
