package app

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// ReferentQuery selects referents of the directory. Empty fields do not
// filter.
type ReferentQuery struct {
	Organisation uuid.UUID
	Subject      string // covers this subject
	Commune      string // covers a zone containing this commune (INSEE code)
	Name         string // part of the name, case and accents ignored
	Active       *bool
}

// FindReferents returns the referents q selects, by name, with their
// organisation's name, subjects and zones. It returns a *ForbiddenError,
// a *domain.ValidationError for an unknown subject or commune, and the read
// models' errors.
func (s *Service) FindReferents(ctx context.Context, p Principal, q ReferentQuery) ([]ReferentRow, error) {
	if err := s.Authorize(p, ActionReadDirectory); err != nil {
		return nil, err
	}
	if err := knownSubject(q.Subject); err != nil {
		return nil, err
	}
	if q.Commune != "" {
		if _, ok := s.geo.Commune(q.Commune); !ok {
			return nil, &domain.ValidationError{Field: "commune", Message: "unknown commune (an INSEE code)"}
		}
	}
	all, err := s.Referents(ctx, p)
	if err != nil {
		return nil, err
	}
	name := domain.FoldName(q.Name)
	out := make([]ReferentRow, 0, len(all))
	for _, r := range all {
		switch {
		case q.Organisation != uuid.Nil && r.OrganisationID != q.Organisation,
			q.Subject != "" && !slices.Contains(r.Subjects, q.Subject),
			q.Active != nil && r.Active != *q.Active,
			name != "" && !strings.Contains(domain.FoldName(r.Name), name),
			q.Commune != "" && !slices.ContainsFunc(r.Zones, func(z domain.Zone) bool { return s.geo.Contains(z, q.Commune) }):
			continue
		}
		out = append(out, r)
	}
	return out, nil
}
