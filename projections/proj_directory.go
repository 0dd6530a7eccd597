package projections

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// directoryProjection maintains the directory: organisations, antennes,
// referents with their subjects and zones, users with name and role.
// Directory events are few, so it writes row by row.
type directoryProjection struct {
	pending []decoded // applied, not yet written
}

func (p *directoryProjection) name() string    { return Directory }
func (p *directoryProjection) tables() []table { return directoryTables }

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

func (p *directoryProjection) idle() bool { return len(p.pending) == 0 }

func (p *directoryProjection) apply(_ context.Context, _ txn, _ string, evs []decoded) error {
	for _, d := range evs {
		if _, isNeed := needIDOf(d.e); !isNeed {
			p.pending = append(p.pending, d)
		}
	}
	return nil
}

func (p *directoryProjection) flush(ctx context.Context, tx txn, suffix string) error {
	for _, d := range p.pending {
		if err := p.applyOne(ctx, tx, suffix, d.e); err != nil {
			return fmt.Errorf("event %s (%s of %s): %w", d.ev.ID, d.ev.Type, d.ev.StreamID, err)
		}
	}
	p.pending = nil
	return nil
}

func (p *directoryProjection) applyOne(ctx context.Context, tx txn, suffix string, e domain.Event) error {
	switch e := e.(type) {
	case domain.OrganisationCreated:
		return upsert(ctx, tx, "dir_organisations"+suffix, []string{"id", "name", "kind", "created_at"}, []string{"id"},
			"name=excluded.name,kind=excluded.kind,created_at=excluded.created_at",
			[][]any{{e.OrganisationID.String(), e.Name, string(e.Kind), micros(e.At)}})
	case domain.AntenneCreated:
		return upsert(ctx, tx, "dir_antennes"+suffix, []string{"id", "organisation_id", "name", "zone_level", "zone_code"}, []string{"id"},
			"organisation_id=excluded.organisation_id,name=excluded.name,zone_level=excluded.zone_level,zone_code=excluded.zone_code",
			[][]any{{e.AntenneID.String(), e.OrganisationID.String(), e.Name, string(e.Zone.Level), e.Zone.Code}})
	case domain.ReferentRegistered:
		cols := []string{"id", "organisation_id", "antenne_id", "name", "email", "subjects", "zones", "active"}
		return upsert(ctx, tx, "dir_referents"+suffix, cols, cols[:1], replaceAll(cols, cols[:1]),
			[][]any{{e.ReferentID.String(), e.OrganisationID.String(), idOrEmpty(e.AntenneID), e.Name, e.Email,
				jsonText(nonNil(e.Subjects)), jsonText(nonNilZones(e.Zones)), 1}})
	case domain.ReferentCoverageChanged:
		return updateOne(ctx, tx, "UPDATE dir_referents"+suffix+" SET subjects=$1, zones=$2 WHERE id=$3",
			"referent "+e.ReferentID.String(), jsonText(nonNil(e.Subjects)), jsonText(nonNilZones(e.Zones)), e.ReferentID.String())
	case domain.ReferentDeactivated:
		return updateOne(ctx, tx, "UPDATE dir_referents"+suffix+" SET active=0 WHERE id=$1",
			"referent "+e.ReferentID.String(), e.ReferentID.String())
	case domain.UserRegistered:
		cols := []string{"id", "name", "email", "role", "organisation_id", "referent_id", "territories"}
		return upsert(ctx, tx, "dir_users"+suffix, cols, cols[:1], replaceAll(cols, cols[:1]),
			[][]any{{e.UserID.String(), e.Name, e.Email, string(e.Role), idOrEmpty(e.OrganisationID),
				idOrEmpty(e.ReferentID), jsonText(nonNilZones(e.Territories))}})
	}
	return nil // need events are not the directory's
}

func updateOne(ctx context.Context, tx txn, q, what string, args ...any) error {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("update %s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return errUnfit("%s was never registered", what)
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
