package stats

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/reso-fr/reso/domain"
)

// acc sums the cells of one group of a query.
type acc struct {
	vals  []string
	since *int // the months since opening of vals, when grouped by them
	c     counts
	h     hist
	// stored are the quantiles the group's one cell stores, when single:
	// read in place of its histogram.
	stored [2]float64
	single bool
	cells  int // added so far
}

// quantiles are the group's statsQuantiles.
func (a *acc) quantiles() (float64, float64) {
	if a.single {
		return a.stored[0], a.stored[1]
	}
	return a.h.quantiles(statsQuantiles[0], statsQuantiles[1])
}

// grouping sums the cells a query reads into its groups: Queries.Stats
// scans, grouping adds and lays out the rows, apart so that a benchmark
// measures the summing without a database.
type grouping struct {
	q StatsQuery
	// keys are the key columns read: the dimensions asked for but the
	// computed one, and with openings, each cell's month and place
	// (placeAt: month, region, departement among keys).
	keys     []string
	placeAt  [3]int
	openings *domain.Openings

	groups map[string]*acc
	group  []string // the current cell's group keys, reused
	kb     []byte   // the current cell's map key, reused
}

func newGrouping(q StatsQuery) *grouping {
	g := &grouping{q: q, placeAt: [3]int{-1, -1, -1}, groups: make(map[string]*acc), group: make([]string, len(q.GroupBy))}
	for _, d := range q.GroupBy {
		if d != DimMonthsSinceOpening {
			g.keys = append(g.keys, d)
		}
	}
	if q.byOpening() {
		g.openings = domain.NewOpenings(q.Openings...)
		for i, c := range []string{"month", "region", "departement"} {
			if g.placeAt[i] = slices.Index(g.keys, c); g.placeAt[i] < 0 {
				g.placeAt[i] = len(g.keys)
				g.keys = append(g.keys, c)
			}
		}
	}
	return g
}

// partitioned says whether a group of one cell may take the quantiles the
// cell stores (Queries.Stats): not when groups are computed (months since
// opening: any cell might join a group) or differences of histograms
// (grouped by alert, the "none" groups: noneOf).
func (g *grouping) partitioned() bool {
	return g.openings == nil && !slices.Contains(g.q.GroupBy, "sf_alert")
}

// errSeveralCells says that a group read without histograms has more than
// one cell: its quantiles need the histograms.
var errSeveralCells = errors.New("a group of several cells read without histograms")

// add adds a cell: vals of the key columns (keys), its counts and its
// encoded histogram, or, raw nil, the quantiles the cell stores. It
// returns errSeveralCells for a second cell of a group when either came
// without its histogram, and errBadHist for a histogram it cannot decode.
func (g *grouping) add(vals []string, c *counts, raw []byte, stored [2]float64) error {
	since := ""
	if g.openings != nil {
		op, ok := g.openings.ForPlace(vals[g.placeAt[2]], vals[g.placeAt[1]])
		var n int
		if ok {
			n, ok = domain.MonthsSinceOpening(op.OpenedOn, vals[g.placeAt[0]])
		}
		if g.q.Opened != nil && *g.q.Opened != (ok && n >= 0) {
			return nil
		}
		if ok {
			since = strconv.Itoa(n)
		}
	}
	k := 0
	for i, d := range g.q.GroupBy {
		if d == DimMonthsSinceOpening {
			g.group[i] = since
		} else {
			g.group[i] = vals[k]
			k++
		}
	}
	g.kb = g.kb[:0]
	for _, v := range g.group {
		g.kb = append(append(g.kb, v...), 0)
	}
	a := g.groups[string(g.kb)] // no allocation for the lookup
	if a == nil {
		a = &acc{vals: slices.Clone(g.group)}
		g.groups[string(g.kb)] = a
	}
	a.cells++
	for i := range c {
		a.c[i] += c[i]
	}
	switch {
	case a.single || (raw == nil && a.cells > 1):
		return errSeveralCells
	case raw == nil:
		a.single, a.stored = true, stored
		return nil
	}
	return a.h.addEncoded(raw)
}

// rows returns one row per group with needs, ordered by the group keys.
func (g *grouping) rows() []StatsRow {
	if i := slices.Index(g.q.GroupBy, "sf_alert"); i >= 0 {
		noneOf(g.groups, i)
	}
	// Groups are sorted before they become rows, by their keys as they
	// are: comparing rows by field name (StatsRow.get) in every
	// comparison, and swapping whole rows, was a tenth of a query's CPU.
	live := make([]*acc, 0, len(g.groups))
	for _, a := range g.groups {
		if a.c[cNeeds] != 0 {
			live = append(live, a)
		}
	}
	sinceAt := slices.Index(g.q.GroupBy, DimMonthsSinceOpening)
	if sinceAt >= 0 {
		for _, a := range live {
			if n, err := strconv.Atoi(a.vals[sinceAt]); err == nil {
				a.since = &n
			}
		}
	}
	slices.SortFunc(live, func(x, y *acc) int {
		for i := range x.vals {
			var c int
			if i == sinceAt {
				c = compareMonths(x.since, y.since)
			} else {
				c = strings.Compare(x.vals[i], y.vals[i])
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	out := make([]StatsRow, len(live))
	for j, a := range live {
		r := &out[j]
		for i, d := range g.q.GroupBy {
			r.set(d, a.vals[i])
		}
		r.fill(a.c, a.quantiles)
		a.h.release()
	}
	return out
}
