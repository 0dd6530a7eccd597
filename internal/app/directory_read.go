package app

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// DirectoryView is the directory as it stood at an instant: every
// organisation with its antennes and referents (deactivated ones too).
type DirectoryView struct {
	AsOf          time.Time          `json:"as_of"`
	Organisations []OrganisationView `json:"organisations"`
}

// OrganisationView is an organisation of a DirectoryView.
type OrganisationView struct {
	ID        uuid.UUID      `json:"id"`
	Name      string         `json:"name"`
	Kind      string         `json:"kind"`
	CreatedAt time.Time      `json:"created_at"`
	Antennes  []AntenneView  `json:"antennes"`
	Referents []ReferentView `json:"referents"`
}

// AntenneView is a local branch of an organisation.
type AntenneView struct {
	ID   uuid.UUID   `json:"id"`
	Name string      `json:"name"`
	Zone domain.Zone `json:"zone"`
}

// ReferentView is a referent of a DirectoryView, with the last change
// made to it by then.
type ReferentView struct {
	ID           uuid.UUID     `json:"id"`
	AntenneID    *uuid.UUID    `json:"antenne_id"`
	Name         string        `json:"name"`
	Email        string        `json:"email"`
	Phone        string        `json:"phone"`
	Function     string        `json:"function"`
	Subjects     []string      `json:"subjects"`
	Zones        []domain.Zone `json:"zones"`
	Active       bool          `json:"active"`
	RegisteredAt time.Time     `json:"registered_at"`
	LastChange   ChangeView    `json:"last_change"`
}

// ChangeView says who changed a referent last, when, how, and from which
// import's file.
type ChangeView struct {
	Type       string      `json:"type"`
	At         time.Time   `json:"at"`
	RecordedAt time.Time   `json:"recorded_at"`
	ActorID    uuid.UUID   `json:"actor_id"`
	ActorRole  domain.Role `json:"actor_role"`
	Import     *ImportView `json:"import,omitempty"`
}

// ImportView is the record of the import a change came from: "imported by
// ByName from FileName at At".
type ImportView struct {
	ID         uuid.UUID `json:"id"`
	FileName   string    `json:"file_name"`
	FileSHA256 string    `json:"file_sha256"`
	ByName     string    `json:"by_name"`
	At         time.Time `json:"at"`
}

// Directory returns the directory as it stands or, with asOf, as it stood
// then, read from the log: organisations by name, with their antennes and
// referents by name, each referent with its last change (and the import it
// came from). It returns a *ForbiddenError and the store's errors.
func (s *Service) Directory(ctx context.Context, p Principal, asOf *time.Time) (DirectoryView, error) {
	if err := s.Authorize(p, ActionReadDirectory); err != nil {
		return DirectoryView{}, err
	}
	log, err := s.readDirectory(ctx)
	if err != nil {
		return DirectoryView{}, err
	}
	at := s.now().UTC()
	if asOf != nil {
		at = asOf.UTC()
	}
	d, err := log.fold(&at)
	if err != nil {
		return DirectoryView{}, err
	}
	last := map[uuid.UUID]dirEvent{}
	imports := map[uuid.UUID]bool{}
	for _, e := range log.events {
		if e.event.OccurredAt().After(at) {
			continue
		}
		if id, ok := referentOf(e.event); ok {
			last[id] = e
			if imp, ok := importOf(e.meta); ok {
				imports[imp] = true
			}
		}
	}
	records, err := s.readImports(ctx, imports)
	if err != nil {
		return DirectoryView{}, err
	}
	v := DirectoryView{AsOf: at, Organisations: []OrganisationView{}}
	byOrg := map[uuid.UUID]int{}
	for _, o := range d.Organisations() {
		ov := OrganisationView{ID: o.ID, Name: o.Name, Kind: string(o.Kind), CreatedAt: o.CreatedAt,
			Antennes: []AntenneView{}, Referents: []ReferentView{}}
		for _, a := range d.Antennes(o.ID) {
			ov.Antennes = append(ov.Antennes, AntenneView{ID: a.ID, Name: a.Name, Zone: a.Zone})
		}
		byOrg[o.ID] = len(v.Organisations)
		v.Organisations = append(v.Organisations, ov)
	}
	for _, r := range d.Referents() {
		i, ok := byOrg[r.OrganisationID]
		if !ok {
			continue
		}
		rv := ReferentView{ID: r.ID, Name: r.Name, Email: r.Email, Phone: r.Phone, Function: r.Function,
			Subjects: nonNilSlice(r.Subjects), Zones: nonNilSlice(r.Zones), Active: r.Active, RegisteredAt: r.RegisteredAt}
		if r.AntenneID != uuid.Nil {
			id := r.AntenneID
			rv.AntenneID = &id
		}
		if e, ok := last[r.ID]; ok {
			by := e.event.Actor()
			rv.LastChange = ChangeView{Type: e.event.EventType(), At: e.event.OccurredAt(), RecordedAt: e.recorded,
				ActorID: by.ID, ActorRole: by.Role}
			if imp, ok := importOf(e.meta); ok {
				if rec, ok := records[imp]; ok {
					rv.LastChange.Import = &ImportView{ID: imp, FileName: rec.FileName, FileSHA256: rec.FileSHA256, ByName: rec.ByName, At: rec.At}
				}
			}
		}
		v.Organisations[i].Referents = append(v.Organisations[i].Referents, rv)
	}
	return v, nil
}

// referentOf returns the referent a directory event changes.
func referentOf(e domain.Event) (uuid.UUID, bool) {
	switch e := e.(type) {
	case domain.ReferentRegistered:
		return e.ReferentID, true
	case domain.ReferentCoverageChanged:
		return e.ReferentID, true
	case domain.ReferentDeactivated:
		return e.ReferentID, true
	case domain.ReferentReactivated:
		return e.ReferentID, true
	case domain.ReferentDetailsChanged:
		return e.ReferentID, true
	}
	return uuid.Nil, false
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
