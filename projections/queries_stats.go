package projections

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// StatsQuery asks for funders' figures. Months are capture months
// ("YYYY-MM", inclusive, in Options.Location); empty bounds are open.
// GroupBy takes any of month, region, departement, organisation, subject
// (none: one row for everything). ScopeZones, when not nil, restricts to
// those zones (régions, départements or national; finer zones are refused
// because cells do not carry them).
type StatsQuery struct {
	From, To     string
	GroupBy      []string
	Region       string
	Departement  string
	Organisation uuid.UUID
	Subject      string
	ScopeZones   []domain.Zone
}

// StatsRow is one group of figures. Counts are integers, rates fractions
// in [0, 1]; hours are nil when no need of the group was taken in charge.
// With organisation in GroupBy or as a filter, figures count the needs'
// matches of that organisation (see docs/projections.md).
type StatsRow struct {
	Month                   string   `json:"month,omitempty"`
	Region                  string   `json:"region,omitempty"`
	Departement             string   `json:"departement,omitempty"`
	Organisation            string   `json:"organisation,omitempty"`
	Subject                 string   `json:"subject,omitempty"`
	Needs                   int64    `json:"needs"`
	Matches                 int64    `json:"matches"`
	PositioningRate         float64  `json:"positioning_rate"`
	TakingCareRate          float64  `json:"taking_care_rate"`
	Within3DaysRate         float64  `json:"within_3_days_rate"`
	Within5DaysRate         float64  `json:"within_5_days_rate"`
	MedianHoursToTakeCharge *float64 `json:"median_hours_to_take_charge"`
	P90HoursToTakeCharge    *float64 `json:"p90_hours_to_take_charge"`
	Done                    int64    `json:"done"`
	DoneNoHelp              int64    `json:"done_no_help"`
	DoneNotReachable        int64    `json:"done_not_reachable"`
	NotForMe                int64    `json:"not_for_me"`
	Abandoned               int64    `json:"abandoned"`
}

var statsDimensions = []string{"month", "region", "departement", "organisation", "subject"}

func (q StatsQuery) where() (where, error) {
	var w where
	byOrg := slices.Contains(q.GroupBy, "organisation") || q.Organisation != uuid.Nil
	if byOrg {
		w.add("organisation<>%s", "")
	} else {
		w.add("organisation=%s", "")
	}
	if q.From != "" {
		w.add("month>=%s", q.From)
	}
	if q.To != "" {
		w.add("month<=%s", q.To)
	}
	for _, c := range []struct{ col, v string }{{"region", q.Region}, {"departement", q.Departement}, {"subject", q.Subject}} {
		if c.v != "" {
			w.add(c.col+"=%s", c.v)
		}
	}
	if q.Organisation != uuid.Nil {
		w.add("organisation=%s", q.Organisation.String())
	}
	if q.ScopeZones != nil {
		var ors []string
		for _, z := range q.ScopeZones {
			switch z.Level {
			case domain.LevelNational:
				ors = append(ors, "1=1")
			case domain.LevelRegion:
				ors = append(ors, "region="+w.arg(z.Code))
			case domain.LevelDepartement:
				ors = append(ors, "departement="+w.arg(z.Code))
			default:
				return w, fmt.Errorf("%w: statistics cannot be scoped to a %s", ErrInvalidQuery, z.Level)
			}
		}
		if len(ors) == 0 {
			ors = []string{"1=0"}
		}
		w.conds = append(w.conds, "("+strings.Join(ors, " OR ")+")")
	}
	return w, nil
}

// Stats answers a StatsQuery from the pre-aggregated cells, one row per
// group, ordered by the group keys. It returns ErrInvalidQuery for an
// unknown dimension or a scope finer than a département, or the database
// error.
func (e *Engine) Stats(ctx context.Context, q StatsQuery) ([]StatsRow, error) {
	for _, g := range q.GroupBy {
		if !slices.Contains(statsDimensions, g) {
			return nil, fmt.Errorf("%w: unknown dimension %q", ErrInvalidQuery, g)
		}
	}
	w, err := q.where()
	if err != nil {
		return nil, err
	}
	keys := strings.Join(q.GroupBy, ",")
	sel, group := "", ""
	if keys != "" {
		sel, group = keys+",", " GROUP BY "+keys
	}
	type acc struct {
		row  StatsRow
		c    counts
		hist map[int]int64
	}
	groups := make(map[string]*acc)
	var order []string
	keyOf := func(vals []string) string { return strings.Join(vals, "\x00") }

	sums := make([]string, 0, nCounts)
	for _, c := range cellCols[5:] {
		sums = append(sums, "COALESCE(SUM("+c+"),0)")
	}
	rows, err := e.db.QueryContext(ctx, "SELECT "+sel+strings.Join(sums, ",")+" FROM stats_cells"+w.sql()+group, w.args...)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]string, len(q.GroupBy))
		a := &acc{hist: make(map[int]int64)}
		dest := make([]any, 0, len(vals)+nCounts)
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		for i := range a.c {
			dest = append(dest, &a.c[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
		if a.c[cNeeds] == 0 {
			continue // SUM over no row
		}
		for i, g := range q.GroupBy {
			a.row.set(g, vals[i])
		}
		k := keyOf(vals)
		groups[k] = a
		order = append(order, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	rows.Close()

	hrows, err := e.db.QueryContext(ctx, "SELECT "+sel+"bucket, SUM(n) FROM stats_hours"+w.sql()+" GROUP BY "+sel+"bucket", w.args...)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	defer hrows.Close()
	for hrows.Next() {
		vals := make([]string, len(q.GroupBy))
		var bucket int
		var n int64
		dest := make([]any, 0, len(vals)+2)
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		dest = append(dest, &bucket, &n)
		if err := hrows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
		if a := groups[keyOf(vals)]; a != nil {
			a.hist[bucket] += n
		}
	}
	if err := hrows.Err(); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}

	slices.Sort(order)
	out := make([]StatsRow, 0, len(order))
	for _, k := range order {
		a := groups[k]
		a.row.fill(a.c, a.hist)
		out = append(out, a.row)
	}
	return out, nil
}

func (r *StatsRow) set(dim, v string) {
	switch dim {
	case "month":
		r.Month = v
	case "region":
		r.Region = v
	case "departement":
		r.Departement = v
	case "organisation":
		r.Organisation = v
	case "subject":
		r.Subject = v
	}
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// fill computes the figures of a group from its summed counts and
// histogram; docs/projections.md defines each.
func (r *StatsRow) fill(c counts, hist map[int]int64) {
	r.Needs, r.Matches = c[cNeeds], c[cMatches]
	r.PositioningRate = ratio(c[cPositioned], c[cMatches])
	r.TakingCareRate = ratio(c[cTaken], c[cNeeds])
	r.Within3DaysRate = ratio(c[cWithin3], c[cNeeds])
	r.Within5DaysRate = ratio(c[cWithin5], c[cNeeds])
	r.Done, r.DoneNoHelp, r.DoneNotReachable = c[cDone], c[cDoneNoHelp], c[cDoneNotReachable]
	r.NotForMe, r.Abandoned = c[cNotForMe], c[cAbandoned]
	if c[cTaken] > 0 {
		med, p90 := quantile(hist, 0.5), quantile(hist, 0.9)
		r.MedianHoursToTakeCharge, r.P90HoursToTakeCharge = &med, &p90
	}
}
