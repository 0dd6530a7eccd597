// Package directory is the directory read model: organisations, antennes,
// referents with the subjects and zones they cover, and users, folded from
// the log by the projections engine, and the queries on them (referents,
// organisations, routing suggestions, actors' names). It depends on the
// projections runtime; projections/readmodels registers it.
package directory

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections"
)

// Name is the read model's name, and its checkpoint's; Version the
// schema version of its tables (projections.ReadModel.Version: raise it
// when they change, and the engine rebuilds them).
const (
	Version = 1
	Name    = "directory"
)

// ReadModel declares the directory read model to the engine.
func ReadModel() projections.ReadModel {
	return projections.ReadModel{Name: Name, Version: Version, Tables: tables, New: func(bool) projections.Projection {
		return &projection{}
	}}
}

// projection maintains the directory: organisations, antennes, referents
// with their name, antenne, subjects, zones and activity, users with name
// and role. Directory events are few, so it writes row by row, but for
// runs of registrations (an import's).
type projection struct {
	pending []projections.Decoded // applied, not yet written
}

func idOrEmpty(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	return id.String()
}

func jsonText(v any) string {
	b, _ := json.Marshal(v) // slices of strings and zones always encode
	return string(b)
}

func (p *projection) Idle() bool { return len(p.pending) == 0 }

func (p *projection) Apply(_ context.Context, _ projections.Txn, _ string, evs []projections.Decoded) error {
	for _, d := range evs {
		if isDirectoryEvent(d.Event) {
			p.pending = append(p.pending, d)
		}
	}
	return nil
}

// isDirectoryEvent tells the directory's events from those of needs.
func isDirectoryEvent(e domain.Event) bool {
	switch e.(type) {
	case domain.OrganisationCreated, domain.AntenneCreated, domain.ReferentRegistered,
		domain.ReferentCoverageChanged, domain.ReferentDeactivated, domain.UserRegistered,
		domain.ReferentDetailsChanged, domain.ReferentReactivated:
		return true
	}
	return false
}

func (p *projection) Flush(ctx context.Context, tx projections.Txn, suffix string) error {
	// A directory import registers thousands of referents in a row: they
	// are written together, one statement per few hundred rows.
	var registered [][]any
	writeRegistered := func() error {
		if len(registered) == 0 {
			return nil
		}
		err := projections.Upsert(ctx, tx, "dir_referents"+suffix, referentCols, referentCols[:1],
			projections.ReplaceAll(referentCols, referentCols[:1]), registered)
		registered = registered[:0]
		if err != nil {
			return fmt.Errorf("referents: %w", err)
		}
		return nil
	}
	for _, d := range p.pending {
		if e, ok := d.Event.(domain.ReferentRegistered); ok {
			registered = append(registered, referentRow(e))
			continue
		}
		if err := writeRegistered(); err != nil {
			return err
		}
		if err := applyOne(ctx, tx, suffix, d.Event); err != nil {
			return fmt.Errorf("event %s (%s of %s): %w", d.Stored.ID, d.Stored.Type, d.Stored.StreamID, err)
		}
	}
	if err := writeRegistered(); err != nil {
		return err
	}
	p.pending = nil
	return nil
}

var referentCols = []string{"id", "organisation_id", "antenne_id", "name", "email", "subjects", "zones", "active"}

func referentRow(e domain.ReferentRegistered) []any {
	return []any{e.ReferentID.String(), e.OrganisationID.String(), idOrEmpty(e.AntenneID), e.Name, e.Email,
		jsonText(nonNil(e.Subjects)), jsonText(nonNilZones(e.Zones)), 1}
}

func applyOne(ctx context.Context, tx projections.Txn, suffix string, e domain.Event) error {
	switch e := e.(type) {
	case domain.OrganisationCreated:
		return projections.Upsert(ctx, tx, "dir_organisations"+suffix, []string{"id", "name", "kind", "created_at"}, []string{"id"},
			"name=excluded.name,kind=excluded.kind,created_at=excluded.created_at",
			[][]any{{e.OrganisationID.String(), e.Name, string(e.Kind), projections.Micros(e.At)}})
	case domain.AntenneCreated:
		return projections.Upsert(ctx, tx, "dir_antennes"+suffix, []string{"id", "organisation_id", "name", "zone_level", "zone_code"}, []string{"id"},
			"organisation_id=excluded.organisation_id,name=excluded.name,zone_level=excluded.zone_level,zone_code=excluded.zone_code",
			[][]any{{e.AntenneID.String(), e.OrganisationID.String(), e.Name, string(e.Zone.Level), e.Zone.Code}})
	case domain.ReferentRegistered:
		return projections.Upsert(ctx, tx, "dir_referents"+suffix, referentCols, referentCols[:1],
			projections.ReplaceAll(referentCols, referentCols[:1]), [][]any{referentRow(e)})
	case domain.ReferentCoverageChanged:
		return updateOne(ctx, tx, "UPDATE dir_referents"+suffix+" SET subjects=$1, zones=$2 WHERE id=$3",
			"referent "+e.ReferentID.String(), jsonText(nonNil(e.Subjects)), jsonText(nonNilZones(e.Zones)), e.ReferentID.String())
	case domain.ReferentDeactivated:
		return updateOne(ctx, tx, "UPDATE dir_referents"+suffix+" SET active=0 WHERE id=$1",
			"referent "+e.ReferentID.String(), e.ReferentID.String())
	case domain.ReferentReactivated:
		return updateOne(ctx, tx, "UPDATE dir_referents"+suffix+" SET active=1 WHERE id=$1",
			"referent "+e.ReferentID.String(), e.ReferentID.String())
	case domain.ReferentDetailsChanged:
		// The phone and the function stay in the log: the directory's
		// exports and its past states are folded from there (app).
		return updateOne(ctx, tx, "UPDATE dir_referents"+suffix+" SET name=$1, antenne_id=$2 WHERE id=$3",
			"referent "+e.ReferentID.String(), e.Name, idOrEmpty(e.AntenneID), e.ReferentID.String())
	case domain.UserRegistered:
		cols := []string{"id", "name", "email", "role", "organisation_id", "referent_id", "territories"}
		return projections.Upsert(ctx, tx, "dir_users"+suffix, cols, cols[:1], projections.ReplaceAll(cols, cols[:1]),
			[][]any{{e.UserID.String(), e.Name, e.Email, string(e.Role), idOrEmpty(e.OrganisationID),
				idOrEmpty(e.ReferentID), jsonText(nonNilZones(e.Territories))}})
	}
	return nil
}

func updateOne(ctx context.Context, tx projections.Txn, q, what string, args ...any) error {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("update %s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return projections.Unfit("%s was never registered", what)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilZones(z []domain.Zone) []domain.Zone {
	if z == nil {
		return []domain.Zone{}
	}
	return z
}
