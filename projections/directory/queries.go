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
	"github.com/reso-fr/reso/sqldb"
)

// Queries answers questions on the directory read model: referents,
// organisations, routing suggestions and the names of actors. It is safe
// for concurrent use.
type Queries struct {
	db  *sql.DB
	geo *domain.Geography
}

// NewQueries returns the queries on the directory tables of db; geo places
// communes in the zones referents cover (Suggest).
func NewQueries(db *sql.DB, geo *domain.Geography) *Queries {
	return &Queries{db: db, geo: geo}
}

// ReferentRow is a referent of the directory.
type ReferentRow struct {
	ID               uuid.UUID     `json:"id"`
	OrganisationID   uuid.UUID     `json:"organisation_id"`
	OrganisationName string        `json:"organisation_name"`
	AntenneID        uuid.UUID     `json:"antenne_id,omitempty"`
	Name             string        `json:"name"`
	Email            string        `json:"email"`
	Subjects         []string      `json:"subjects"`
	Zones            []domain.Zone `json:"zones"`
	Active           bool          `json:"active"`
}

// AntenneRow is a local branch of an organisation.
type AntenneRow struct {
	ID   uuid.UUID   `json:"id"`
	Name string      `json:"name"`
	Zone domain.Zone `json:"zone"`
}

// OrganisationRow is an organisation with its antennes.
type OrganisationRow struct {
	ID       uuid.UUID    `json:"id"`
	Name     string       `json:"name"`
	Kind     string       `json:"kind"`
	Antennes []AntenneRow `json:"antennes"`
}

// ActorName names a user or a referent in histories.
type ActorName struct {
	ID   uuid.UUID   `json:"id"`
	Name string      `json:"name"`
	Role domain.Role `json:"role"`
}

const referentSelect = `SELECT r.id, r.organisation_id, COALESCE(o.name, ''), r.antenne_id, r.name, r.email,
	r.subjects, r.zones, r.active FROM dir_referents r LEFT JOIN dir_organisations o ON o.id = r.organisation_id`

func scanReferent(sc interface{ Scan(...any) error }) (ReferentRow, error) {
	var r ReferentRow
	var id, org, ant, subjects, zones string
	var active int
	if err := sc.Scan(&id, &org, &r.OrganisationName, &ant, &r.Name, &r.Email, &subjects, &zones, &active); err != nil {
		return r, err
	}
	r.ID, _ = uuid.Parse(id)
	r.OrganisationID, _ = uuid.Parse(org)
	if ant != "" {
		r.AntenneID, _ = uuid.Parse(ant)
	}
	r.Active = active != 0
	if err := json.Unmarshal([]byte(subjects), &r.Subjects); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(zones), &r.Zones); err != nil {
		return r, err
	}
	return r, nil
}

// Referent returns one referent. It returns projections.ErrNotFound or the database
// error.
func (qs *Queries) Referent(ctx context.Context, id uuid.UUID) (ReferentRow, error) {
	r, err := scanReferent(qs.db.QueryRowContext(ctx, referentSelect+` WHERE r.id=$1`, id.String()))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("referent %s: %w", id, projections.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("referent %s: %w", id, err)
	}
	return r, nil
}

// Referents returns every referent, by name.
func (qs *Queries) Referents(ctx context.Context) ([]ReferentRow, error) {
	rows, err := qs.db.QueryContext(ctx, referentSelect+` ORDER BY r.name, r.id`)
	if err != nil {
		return nil, fmt.Errorf("referents: %w", err)
	}
	defer rows.Close()
	out := []ReferentRow{}
	for rows.Next() {
		r, err := scanReferent(rows)
		if err != nil {
			return nil, fmt.Errorf("referents: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("referents: %w", err)
	}
	return out, nil
}

// Organisation returns an organisation with its antennes. It returns
// projections.ErrNotFound or the database error.
func (qs *Queries) Organisation(ctx context.Context, id uuid.UUID) (OrganisationRow, error) {
	o := OrganisationRow{ID: id, Antennes: []AntenneRow{}}
	err := qs.db.QueryRowContext(ctx, `SELECT name, kind FROM dir_organisations WHERE id=$1`, id.String()).Scan(&o.Name, &o.Kind)
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("organisation %s: %w", id, projections.ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("organisation %s: %w", id, err)
	}
	rows, err := qs.db.QueryContext(ctx, `SELECT id, name, zone_level, zone_code FROM dir_antennes WHERE organisation_id=$1 ORDER BY name, id`, id.String())
	if err != nil {
		return o, fmt.Errorf("organisation %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var a AntenneRow
		var aid, level string
		if err := rows.Scan(&aid, &a.Name, &level, &a.Zone.Code); err != nil {
			return o, fmt.Errorf("organisation %s: %w", id, err)
		}
		a.ID, _ = uuid.Parse(aid)
		a.Zone.Level = domain.ZoneLevel(level)
		o.Antennes = append(o.Antennes, a)
	}
	if err := rows.Err(); err != nil {
		return o, fmt.Errorf("organisation %s: %w", id, err)
	}
	return o, nil
}

// Suggest returns the referents routing suggests for a need in commune with
// subject (domain.Route over the directory read model). It returns the
// database error.
func (qs *Queries) Suggest(ctx context.Context, commune, subject string) ([]domain.Coverage, error) {
	refs, err := qs.Referents(ctx)
	if err != nil {
		return nil, fmt.Errorf("suggest: %w", err)
	}
	covs := make([]domain.Coverage, 0, len(refs))
	for _, r := range refs {
		covs = append(covs, domain.Coverage{ReferentID: r.ID, OrganisationID: r.OrganisationID,
			OrganisationName: r.OrganisationName, Name: r.Name, Subjects: r.Subjects, Zones: r.Zones, Active: r.Active})
	}
	return domain.Route(qs.geo, covs, commune, subject), nil
}

// ActorNames names the users and referents among ids (users first: a
// referent's user account names the person). Unknown ids are left out. It
// returns the database error.
func (qs *Queries) ActorNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]ActorName, error) {
	out := make(map[uuid.UUID]ActorName, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), 200)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id.String()
		}
		var b strings.Builder
		projections.Placeholders(&b, sqldb.Postgres, 0, n)
		in := b.String()
		q := `SELECT id, name, '` + string(domain.RoleReferent) + `' FROM dir_referents WHERE id IN ` + in +
			` UNION ALL SELECT id, name, role FROM dir_users WHERE id IN ` + in
		rows, err := qs.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("actor names: %w", err)
		}
		for rows.Next() {
			var id, name, role string
			if err := rows.Scan(&id, &name, &role); err != nil {
				rows.Close()
				return nil, fmt.Errorf("actor names: %w", err)
			}
			uid, _ := uuid.Parse(id)
			if _, isUser := out[uid]; isUser && role == string(domain.RoleReferent) {
				continue
			}
			out[uid] = ActorName{ID: uid, Name: name, Role: domain.Role(role)}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("actor names: %w", err)
		}
		ids = ids[n:]
	}
	return out, nil
}

// IDs returns the id of every organisation and every referent the read
// model holds, deactivated ones included: the streams the directory's
// past lies in (the service reads them from the log). It returns the
// database error.
func (qs *Queries) IDs(ctx context.Context) (organisations, referents []uuid.UUID, err error) {
	for _, t := range []struct {
		table string
		out   *[]uuid.UUID
	}{{"dir_organisations", &organisations}, {"dir_referents", &referents}} {
		rows, err := qs.db.QueryContext(ctx, `SELECT id FROM `+t.table)
		if err != nil {
			return nil, nil, fmt.Errorf("directory ids: %w", err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("directory ids: %w", err)
			}
			id, err := uuid.Parse(s)
			if err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("directory ids: %s in %s: %w", s, t.table, err)
			}
			*t.out = append(*t.out, id)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("directory ids: %w", err)
		}
	}
	return organisations, referents, nil
}
