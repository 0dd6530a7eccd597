package directory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections"
)

// The lists the web console shows an admin: organisations with their
// antennes, users.

// UserRow is a user of the directory.
type UserRow struct {
	ID               uuid.UUID     `json:"id"`
	Name             string        `json:"name"`
	Email            string        `json:"email"`
	Role             domain.Role   `json:"role"`
	OrganisationID   uuid.UUID     `json:"organisation_id,omitempty"`
	OrganisationName string        `json:"organisation_name,omitempty"`
	ReferentID       uuid.UUID     `json:"referent_id,omitempty"`
	Territories      []domain.Zone `json:"territories"`
}

// Organisations returns every organisation with its antennes, by name. It
// returns the database error.
func (qs *Queries) Organisations(ctx context.Context) ([]OrganisationRow, error) {
	rows, err := qs.db.QueryContext(ctx, `SELECT id, name, kind FROM dir_organisations ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("organisations: %w", err)
	}
	out := []OrganisationRow{}
	idx := map[uuid.UUID]int{}
	for rows.Next() {
		var o OrganisationRow
		var id string
		if err := rows.Scan(&id, &o.Name, &o.Kind); err != nil {
			rows.Close()
			return nil, fmt.Errorf("organisations: %w", err)
		}
		o.ID, _ = uuid.Parse(id)
		o.Antennes = []AntenneRow{}
		idx[o.ID] = len(out)
		out = append(out, o)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("organisations: %w", err)
	}
	ants, err := qs.db.QueryContext(ctx, `SELECT id, organisation_id, name, zone_level, zone_code FROM dir_antennes ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("antennes: %w", err)
	}
	defer ants.Close()
	for ants.Next() {
		var a AntenneRow
		var id, org, level string
		if err := ants.Scan(&id, &org, &a.Name, &level, &a.Zone.Code); err != nil {
			return nil, fmt.Errorf("antennes: %w", err)
		}
		a.ID, _ = uuid.Parse(id)
		a.Zone.Level = domain.ZoneLevel(level)
		oid, _ := uuid.Parse(org)
		if i, ok := idx[oid]; ok {
			out[i].Antennes = append(out[i].Antennes, a)
		}
	}
	if err := ants.Err(); err != nil {
		return nil, fmt.Errorf("antennes: %w", err)
	}
	return out, nil
}

const userSelect = `SELECT u.id, u.name, u.email, u.role, u.organisation_id, COALESCE(o.name, ''), u.referent_id,
	u.territories FROM dir_users u LEFT JOIN dir_organisations o ON o.id = u.organisation_id`

func scanUser(sc interface{ Scan(...any) error }) (UserRow, error) {
	var u UserRow
	var id, role, org, ref, terr string
	if err := sc.Scan(&id, &u.Name, &u.Email, &role, &org, &u.OrganisationName, &ref, &terr); err != nil {
		return u, err
	}
	u.ID, _ = uuid.Parse(id)
	u.Role = domain.Role(role)
	if org != "" {
		u.OrganisationID, _ = uuid.Parse(org)
	}
	if ref != "" {
		u.ReferentID, _ = uuid.Parse(ref)
	}
	if err := json.Unmarshal([]byte(terr), &u.Territories); err != nil {
		return u, err
	}
	return u, nil
}

// Users returns every user, by name. It returns the database error.
func (qs *Queries) Users(ctx context.Context) ([]UserRow, error) {
	rows, err := qs.db.QueryContext(ctx, userSelect+` ORDER BY u.name, u.id`)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	out := []UserRow{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return out, nil
}

// UserByEmail returns the user with that email, compared without case. It
// returns projections.ErrNotFound, or the database error.
func (qs *Queries) UserByEmail(ctx context.Context, email string) (UserRow, error) {
	u, err := scanUser(qs.db.QueryRowContext(ctx, userSelect+` WHERE LOWER(u.email) = $1 ORDER BY u.id LIMIT 1`,
		strings.ToLower(strings.TrimSpace(email))))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %q: %w", email, projections.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("user %q: %w", email, err)
	}
	return u, nil
}
