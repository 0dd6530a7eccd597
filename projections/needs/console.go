package needs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/query"
)

// The queries the web console asks besides those of the API: an inbox's
// tab counts and an animateur's dashboard.

// InboxCounts returns how many of a referent's matches each inbox tab
// holds as of now (the tabs of Inbox; a tab without any is absent). It
// reads the referent's rows of the inbox index only. It returns the
// database error.
func (qs *Queries) InboxCounts(ctx context.Context, referentID uuid.UUID, now time.Time) (map[string]int, error) {
	if now.IsZero() {
		now = time.Now()
	}
	expiry := now.Add(-time.Duration(qs.thresholds.Expire) * 24 * time.Hour).UnixMicro()
	rows, err := qs.db.QueryContext(ctx, `SELECT CASE
		WHEN handled_elsewhere = 1 THEN '`+TabDone+`'
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

// zoneCondFenced is zoneCond with its columns wrapped (col||”): the
// planner then cannot pick a territory's index, which holds every need of
// the territory, over the partial index of waiting needs, which holds the
// few that matter (SQLite, without statistics, prefers the equality).
func zoneCondFenced(w *query.Where, zones []domain.Zone) {
	var inner query.Where
	inner.Args = w.Args
	zoneCond(&inner, zones)
	w.Args = inner.Args
	for _, c := range inner.Conds {
		for _, col := range []string{"region", "departement", "epci", "commune"} {
			c = strings.ReplaceAll(c, col+"=$", "needs."+col+"||''=$")
		}
		w.Conds = append(w.Conds, c)
	}
}

// Dashboard counts the waiting needs of q's scope in each basket. One
// query reads the waiting needs past the first threshold (the partial
// index on waiting needs) with their matches (the matches' primary key),
// so its cost follows the baskets, not the log. It returns the database
// error.
func (qs *Queries) Dashboard(ctx context.Context, q DashboardQuery) (Dashboard, error) {
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	th := qs.thresholds
	poke := q.Now.Add(-time.Duration(th.Poke) * 24 * time.Hour).UnixMicro()
	d := Dashboard{BySubject: []BasketCount{}, ByOrganisation: []BasketCount{}}
	var w query.Where
	w.Add("waiting=1 AND forwarded_at<=%s AND forwarded_at>0", poke)
	zoneCondFenced(&w, q.ScopeZones)
	rows, err := qs.db.QueryContext(ctx, "SELECT needs.id, needs.subject, needs.forwarded_at, m.organisation_id, m.status FROM needs JOIN matches m ON m.need_id = needs.id"+
		w.SQL(), w.Args...)
	if err != nil {
		return d, fmt.Errorf("dashboard: %w", err)
	}
	defer rows.Close()
	subjects := map[string]*BasketCount{}
	orgs := map[string]*BasketCount{}
	count := func(m map[string]*BasketCount, key, basket string) {
		if m[key] == nil {
			m[key] = &BasketCount{Key: key}
		}
		m[key].add(basket, 1)
	}
	basketOf := map[string]string{} // need id -> basket, once counted
	counted := map[[2]string]bool{} // (need, organisation) counted
	for rows.Next() {
		var id, subject, org, status string
		var fwd int64
		if err := rows.Scan(&id, &subject, &fwd, &org, &status); err != nil {
			return d, fmt.Errorf("dashboard: %w", err)
		}
		basket, ok := basketOf[id]
		if !ok {
			// A need's first row counts the need.
			basket = string(domain.BasketFor(projections.FromMicros(fwd), true, q.Now, th))
			basketOf[id] = basket
			d.Baskets.add(basket, 1)
			count(subjects, subject, basket)
		}
		// A need counts once per organisation it waits for, however many
		// of its referents wait.
		if k := [2]string{id, org}; status == string(domain.MatchQuo) && !counted[k] {
			counted[k] = true
			count(orgs, org, basket)
		}
	}
	if err := rows.Err(); err != nil {
		return d, fmt.Errorf("dashboard: %w", err)
	}
	for _, b := range subjects {
		d.BySubject = append(d.BySubject, *b)
	}
	for _, b := range orgs {
		d.ByOrganisation = append(d.ByOrganisation, *b)
	}
	sortBaskets(d.BySubject)
	sortBaskets(d.ByOrganisation)
	return d, nil
}

func sortBaskets(bs []BasketCount) {
	slices.SortFunc(bs, func(a, b BasketCount) int {
		if c := cmp.Compare(b.Total(), a.Total()); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}
