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

// Dashboard counts the waiting needs of q's scope in each basket. Two
// grouped queries read the waiting needs past the first threshold (the
// partial index on waiting needs), the second with their untouched
// matches (the matches' primary key); the database counts, so the rows
// that cross into Go are one per subject or organisation and basket, and
// the cost follows the baskets, not the log. It returns the database
// error.
func (qs *Queries) Dashboard(ctx context.Context, q DashboardQuery) (Dashboard, error) {
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	th := qs.thresholds
	// DaysSince(fwd, now) >= n is fwd <= now - n days: each basket is a
	// range of forwarded_at (domain.BasketFor).
	cut := func(days int) int64 { return q.Now.Add(-time.Duration(days) * 24 * time.Hour).UnixMicro() }
	var w query.Where
	w.Add("waiting=1 AND forwarded_at<=%s AND forwarded_at>0", cut(th.Poke))
	zoneCondFenced(&w, q.ScopeZones)
	basket := fmt.Sprintf("CASE WHEN needs.forwarded_at<=%s THEN '%s' WHEN needs.forwarded_at<=%s THEN '%s' ELSE '%s' END",
		w.Arg(cut(th.Abandon)), domain.BasketAbandon, w.Arg(cut(th.LastChance)), domain.BasketLastChance, domain.BasketPoke)
	d := Dashboard{BySubject: []BasketCount{}, ByOrganisation: []BasketCount{}}
	var err error
	if d.BySubject, err = qs.basketCounts(ctx, "SELECT needs.subject, "+basket+", COUNT(*) FROM needs"+w.SQL()+" GROUP BY 1, 2", w.Args, &d.Baskets); err != nil {
		return d, err
	}
	// A need counts once per organisation it waits for, however many of
	// its referents wait.
	if d.ByOrganisation, err = qs.basketCounts(ctx, "SELECT m.organisation_id, "+basket+", COUNT(DISTINCT needs.id) FROM needs JOIN matches m ON m.need_id = needs.id"+
		w.SQL()+" AND m.status = 'quo' GROUP BY 1, 2", w.Args, nil); err != nil {
		return d, err
	}
	return d, nil
}

// basketCounts runs a query of (key, basket, count) rows and returns one
// BasketCount per key, the fullest first; total, when not nil, adds up
// every row. It returns the database error.
func (qs *Queries) basketCounts(ctx context.Context, sql string, args []any, total *BasketCount) ([]BasketCount, error) {
	rows, err := qs.db.QueryContext(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	defer rows.Close()
	byKey := map[string]*BasketCount{}
	for rows.Next() {
		var key, basket string
		var n int
		if err := rows.Scan(&key, &basket, &n); err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		if byKey[key] == nil {
			byKey[key] = &BasketCount{Key: key}
		}
		byKey[key].add(basket, n)
		if total != nil {
			total.add(basket, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	out := make([]BasketCount, 0, len(byKey))
	for _, b := range byKey {
		out = append(out, *b)
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
