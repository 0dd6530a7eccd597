package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// Named is an id with its name.
type Named struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// ZoneView is a territory with its name ("Nord").
type ZoneView struct {
	Level domain.ZoneLevel `json:"level"`
	Code  string           `json:"code"`
	Name  string           `json:"name"`
}

// MeView is who the caller is and what their role lets them reach.
type MeView struct {
	ID           uuid.UUID   `json:"id"`
	Name         string      `json:"name"`
	Role         domain.Role `json:"role"`
	Organisation *Named      `json:"organisation"`
	ReferentID   *uuid.UUID  `json:"referent_id"`
	Territories  []ZoneView  `json:"territories"`
}

// Me returns the caller's own account: a referent finds their referent id
// there, an animateur their territories. It returns a *ForbiddenError for
// a principal without a role.
func (s *Service) Me(ctx context.Context, p Principal) (MeView, error) {
	if err := s.Authorize(p, ActionMe); err != nil {
		return MeView{}, err
	}
	v := MeView{ID: p.UserID, Name: p.Name, Role: p.Role, Territories: []ZoneView{}}
	if p.OrganisationID != uuid.Nil {
		v.Organisation = &Named{ID: p.OrganisationID, Name: s.nameOf(ctx, p.OrganisationID)}
	}
	if p.ReferentID != uuid.Nil {
		id := p.ReferentID
		v.ReferentID = &id
	}
	for _, z := range p.Territories {
		v.Territories = append(v.Territories, ZoneView{Level: z.Level, Code: z.Code, Name: s.geo.ZoneName(z)})
	}
	return v, nil
}
