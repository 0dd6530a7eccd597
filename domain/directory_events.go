package domain

import "github.com/google/uuid"

// The events of a territory's roll-out (issue 17): a referent's details and
// reactivation, the audit record of a directory import, the opening of a
// territory. docs/domain.md ("Rolling out") says why these are new types
// rather than new versions of ReferentRegistered.

// ReferentDetailsChanged (stream ReferentStream(id)) sets a referent's
// name, phone, function ("Fonction") and antenne, all four at once: an
// empty phone or function means none, uuid.Nil no antenne. A registration
// that comes with a phone or a function is followed by one in the same
// append.
type ReferentDetailsChanged struct {
	Meta
	ReferentID uuid.UUID `json:"referent_id"`
	AntenneID  uuid.UUID `json:"antenne_id"` // uuid.Nil when none
	Name       string    `json:"name"`
	Phone      string    `json:"phone"`
	Function   string    `json:"function"`
}

// ReferentReactivated (stream ReferentStream(id)): a deactivated referent
// receives needs again.
type ReferentReactivated struct {
	Meta
	ReferentID uuid.UUID `json:"referent_id"`
}

// DirectoryImported (stream ImportStream(id)) records who imported which
// file, and when (its Meta). Every change the import made carries the
// import id as its metadata's correlation id, so any directory event leads
// back to the file it came from.
type DirectoryImported struct {
	Meta
	ImportID   uuid.UUID `json:"import_id"`
	FileName   string    `json:"file_name"`
	FileSHA256 string    `json:"file_sha256"`
	Format     string    `json:"format"`  // "csv" or "xlsx"
	Headers    string    `json:"headers"` // "reso" or "production"
	ByName     string    `json:"by_name"` // the importer's name as they were known then
}

// TerritoryOpened (stream TerritoriesStream()): the service opens in a
// région or a département on a date. A later opening of the same zone
// replaces its date.
type TerritoryOpened struct {
	Meta
	Zone     Zone   `json:"zone"`
	OpenedOn string `json:"opened_on"` // a civil date, YYYY-MM-DD
}

// Stable names of the roll-out's event types. Never rename one.
const (
	TypeReferentDetailsChanged = "ReferentDetailsChanged"
	TypeReferentReactivated    = "ReferentReactivated"
	TypeDirectoryImported      = "DirectoryImported"
	TypeTerritoryOpened        = "TerritoryOpened"
)

// EventType implements Event.
func (ReferentDetailsChanged) EventType() string { return TypeReferentDetailsChanged }

// SchemaVersion implements Event.
func (ReferentDetailsChanged) SchemaVersion() int { return 1 }

// EventType implements Event.
func (ReferentReactivated) EventType() string { return TypeReferentReactivated }

// SchemaVersion implements Event.
func (ReferentReactivated) SchemaVersion() int { return 1 }

// EventType implements Event.
func (DirectoryImported) EventType() string { return TypeDirectoryImported }

// SchemaVersion implements Event.
func (DirectoryImported) SchemaVersion() int { return 1 }

// EventType implements Event.
func (TerritoryOpened) EventType() string { return TypeTerritoryOpened }

// SchemaVersion implements Event.
func (TerritoryOpened) SchemaVersion() int { return 1 }
