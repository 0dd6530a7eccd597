package projections

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// The queries the web console asks besides those of the API: the
// directory's lists, an inbox's tab counts and an animateur's dashboard.

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
func (e *Engine) Organisations(ctx context.Context) ([]OrganisationRow, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT id, name, kind FROM dir_organisations ORDER BY name, id`)
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
	ants, err := e.db.QueryContext(ctx, `SELECT id, organisation_id, name, zone_level, zone_code FROM dir_antennes ORDER BY name, id`)
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
func (e *Engine) Users(ctx context.Context) ([]UserRow, error) {
	rows, err := e.db.QueryContext(ctx, userSelect+` ORDER BY u.name, u.id`)
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
// returns ErrNotFound, or the database error.
func (e *Engine) UserByEmail(ctx context.Context, email string) (UserRow, error) {
	u, err := scanUser(e.db.QueryRowContext(ctx, userSelect+` WHERE LOWER(u.email) = $1 ORDER BY u.id LIMIT 1`,
		strings.ToLower(strings.TrimSpace(email))))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %q: %w", email, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("user %q: %w", email, err)
	}
	return u, nil
}

// InboxCounts returns how many of a referent's matches each inbox tab
// holds as of now (the tabs of Inbox; a tab without any is absent). It
// reads the referent's rows of the inbox index only. It returns the
// database error.
func (e *Engine) InboxCounts(ctx context.Context, referentID uuid.UUID, now time.Time) (map[string]int, error) {
	if now.IsZero() {
		now = time.Now()
	}
	expiry := now.Add(-time.Duration(e.opts.Thresholds.Expire) * 24 * time.Hour).UnixMicro()
	rows, err := e.db.QueryContext(ctx, `SELECT CASE
		WHEN status = 'quo' AND sent_at > $2 THEN '`+TabQuo+`'
		WHEN status = 'quo' THEN '`+TabExpired+`'
		WHEN status IN ('done','done_no_help','done_not_reachable') THEN '`+TabDone+`'
		ELSE status END AS tab, COUNT(*) FROM matches WHERE referent_id = $1 GROUP BY 1`, referentID.String(), expiry)
	if err != nil {
		return nil, fmt.Errorf("inbox counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var tab string
		var n int
		if err := rows.Scan(&tab, &n); err != nil {
			return nil, fmt.Errorf("inbox counts: %w", err)
		}
		out[tab] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inbox counts: %w", err)
	}
	return out, nil
}

// DashboardQuery selects the needs of an animateur's dashboard: ScopeZones
// as NeedFilter's (nil: everywhere), baskets as of Now.
type DashboardQuery struct {
	ScopeZones []domain.Zone
	Now        time.Time
}

// BasketCount is how many waiting needs of one group are in each reminder
// basket. Key is the group's subject code or organisation id.
type BasketCount struct {
	Key        string `json:"key"`
	Poke       int    `json:"poke"`
	LastChance int    `json:"last_chance"`
	Abandon    int    `json:"abandon"`
}

// Total is the group's needs in any basket.
func (b BasketCount) Total() int { return b.Poke + b.LastChance + b.Abandon }

func (b *BasketCount) add(basket string, n int) {
	switch domain.Basket(basket) {
	case domain.BasketPoke:
		b.Poke += n
	case domain.BasketLastChance:
		b.LastChance += n
	case domain.BasketAbandon:
		b.Abandon += n
	}
}

// Dashboard is the reminder baskets of a territory: all its waiting needs,
// by subject, and by organisation of the referents they wait for (a need
// forwarded to two organisations counts once for each).
type Dashboard struct {
	Baskets        BasketCount   `json:"baskets"`
	BySubject      []BasketCount `json:"by_subject"`
	ByOrganisation []BasketCount `json:"by_organisation"`
}

// basketCase is the SQL expression of a waiting need's basket, for needs
// already known to be past the poke threshold.
func (e *Engine) basketCase(w *where, now time.Time) string {
	th := e.opts.Thresholds
	daysAgo := func(d int) int64 { return now.Add(-time.Duration(d) * 24 * time.Hour).UnixMicro() }
	return fmt.Sprintf("CASE WHEN forwarded_at<=%s THEN '%s' WHEN forwarded_at<=%s THEN '%s' ELSE '%s' END",
		w.arg(daysAgo(th.Abandon)), domain.BasketAbandon, w.arg(daysAgo(th.LastChance)), domain.BasketLastChance, domain.BasketPoke)
}

// Dashboard counts the waiting needs of q's scope in each basket. Only
// waiting needs past the first threshold are read (the partial index on
// waiting needs), so its cost follows the baskets, not the log. It returns
// the database error.
func (e *Engine) Dashboard(ctx context.Context, q DashboardQuery) (Dashboard, error) {
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	poke := q.Now.Add(-time.Duration(e.opts.Thresholds.Poke) * 24 * time.Hour).UnixMicro()
	d := Dashboard{BySubject: []BasketCount{}, ByOrganisation: []BasketCount{}}

	var w where
	bc := e.basketCase(&w, q.Now)
	w.add("waiting=1 AND forwarded_at<=%s", poke)
	zoneCond(&w, q.ScopeZones)
	groups, err := e.basketGroups(ctx, "SELECT subject, "+bc+", COUNT(*) FROM needs"+w.sql()+" GROUP BY 1, 2", w.args)
	if err != nil {
		return d, fmt.Errorf("dashboard by subject: %w", err)
	}
	for _, g := range groups {
		d.Baskets.Poke += g.Poke
		d.Baskets.LastChance += g.LastChance
		d.Baskets.Abandon += g.Abandon
	}
	d.BySubject = groups

	var wo where
	bco := e.basketCase(&wo, q.Now)
	wo.add("waiting=1 AND forwarded_at<=%s", poke)
	zoneCond(&wo, q.ScopeZones)
	d.ByOrganisation, err = e.basketGroups(ctx, "SELECT m.organisation_id, "+bco+", COUNT(*) FROM needs JOIN matches m ON m.need_id = needs.id"+
		wo.sql()+" AND m.status = 'quo' GROUP BY 1, 2", wo.args)
	if err != nil {
		return d, fmt.Errorf("dashboard by organisation: %w", err)
	}
	return d, nil
}

// basketGroups runs a query of (key, basket, count) rows and folds them
// into one BasketCount per key, the largest total first.
func (e *Engine) basketGroups(ctx context.Context, q string, args []any) ([]BasketCount, error) {
	rows, err := e.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	idx := map[string]int{}
	out := []BasketCount{}
	for rows.Next() {
		var key, basket string
		var n int
		if err := rows.Scan(&key, &basket, &n); err != nil {
			return nil, err
		}
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, BasketCount{Key: key})
		}
		out[i].add(basket, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sortBaskets(out)
	return out, nil
}

func sortBaskets(bs []BasketCount) {
	slices.SortFunc(bs, func(a, b BasketCount) int {
		if c := cmp.Compare(b.Total(), a.Total()); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}
