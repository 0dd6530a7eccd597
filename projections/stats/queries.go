package stats

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/query"
)

// Queries answers funders' questions on the statistics read model. It is
// safe for concurrent use.
type Queries struct {
	db *sql.DB
	// merging are the shapes of query that met a group of several cells
	// (Stats), rereads how many times Stats read cells again with their
	// histograms.
	merging shapes
	rereads atomic.Int64
	// stored says that stats_cells has the quantile columns (version 3):
	// not while the tables of an earlier version still answer, during the
	// upgrade's rebuild. Once true it stays true.
	stored atomic.Bool
	// wholeHistograms reads every cell's histogram, stored quantiles or
	// not: the reference tests compare the stored quantiles with.
	wholeHistograms bool
}

// NewQueries returns the queries on the statistics tables of db.
func NewQueries(db *sql.DB) *Queries { return &Queries{db: db} }

// StatsQuery asks for funders' figures. Months are capture months
// ("YYYY-MM", inclusive, in Options.Location); empty bounds are open.
// GroupBy takes any of month, region, departement, organisation, subject,
// months_since_opening and sf_alert (none: one row for everything);
// sf_alert groups needs by the Signaux Faibles alert their company had when
// they were captured (F1, F2, none). ScopeZones, when not nil, restricts to
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
	// Openings are the dates territories opened (the service folds them
	// from the log). A need's months since opening count from the month
	// its département opened in, or else its région
	// (domain.Openings.ForPlace), to its capture month: 0 in the month of
	// the opening, negative before; none in a territory never opened.
	Openings []domain.Opening
	// Opened, when set, keeps only the needs captured in an opened
	// territory from the month of its opening on (true), or only the
	// others (false).
	Opened *bool
}

// DimMonthsSinceOpening is the dimension of months since a territory's
// opening: computed at query time from the openings, not stored in cells.
const DimMonthsSinceOpening = "months_since_opening"

// byOpening reports whether q needs each cell's month and place to place it
// against the openings.
func (q StatsQuery) byOpening() bool {
	return q.Opened != nil || slices.Contains(q.GroupBy, DimMonthsSinceOpening)
}

// StatsRow is one group of figures. Counts are integers, rates fractions
// in [0, 1]; hours are nil when no need of the group was taken in charge.
// With organisation in GroupBy or as a filter, figures count the needs'
// matches of that organisation (see docs/projections.md).
type StatsRow struct {
	Month        string `json:"month,omitempty"`
	Region       string `json:"region,omitempty"`
	Departement  string `json:"departement,omitempty"`
	Organisation string `json:"organisation,omitempty"`
	// OrganisationName is set by the service, beside Organisation.
	OrganisationName        string   `json:"organisation_name,omitempty"`
	Subject                 string   `json:"subject,omitempty"`
	MonthsSinceOpening      *int     `json:"months_since_opening,omitempty"`
	SFAlert                 string   `json:"sf_alert,omitempty"`
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

var statsDimensions = []string{"month", "region", "departement", "organisation", "subject", DimMonthsSinceOpening, "sf_alert"}

// layer is the layer of cells that answers q: organisations' rows when it
// groups or filters by organisation, and summed over each of subject,
// month and département it neither groups nor filters by (a scope naming a
// département counts as a filter on départements).
func (q StatsQuery) layer() int {
	l := 0
	if q.Organisation != uuid.Nil || slices.Contains(q.GroupBy, "organisation") {
		l |= byOrganisation
	}
	if q.Subject == "" && !slices.Contains(q.GroupBy, "subject") {
		l |= allSubjects
	}
	if q.From == "" && q.To == "" && !slices.Contains(q.GroupBy, "month") && !q.byOpening() {
		l |= allMonths
	}
	departementOpened := q.byOpening() &&
		slices.ContainsFunc(q.Openings, func(o domain.Opening) bool { return o.Zone.Level == domain.LevelDepartement })
	if q.Departement == "" && !slices.Contains(q.GroupBy, "departement") && !departementOpened &&
		!slices.ContainsFunc(q.ScopeZones, func(z domain.Zone) bool { return z.Level == domain.LevelDepartement }) {
		l |= allDepartements
	}
	return l
}

func (q StatsQuery) where() (query.Where, error) {
	var w query.Where
	// One layer, so that no need counts twice; grouped by alert, also the
	// rows of alerted companies of that layer (see Stats).
	if slices.Contains(q.GroupBy, "sf_alert") {
		w.Add("layer IN (%s,%s)", q.layer(), q.layer()|bySFAlert)
	} else {
		w.Add("layer=%s", q.layer())
	}
	if q.From != "" {
		w.Add("month>=%s", q.From)
	}
	if q.To != "" {
		w.Add("month<=%s", q.To)
	}
	for _, c := range []struct{ col, v string }{{"region", q.Region}, {"departement", q.Departement}, {"subject", q.Subject}} {
		if c.v != "" {
			w.Add(c.col+"=%s", c.v)
		}
	}
	if q.Organisation != uuid.Nil {
		w.Add("organisation=%s", q.Organisation.String())
	}
	if q.ScopeZones != nil {
		var ors []string
		for _, z := range q.ScopeZones {
			switch z.Level {
			case domain.LevelNational:
				ors = append(ors, "1=1")
			case domain.LevelRegion:
				ors = append(ors, "region="+w.Arg(z.Code))
			case domain.LevelDepartement:
				ors = append(ors, "departement="+w.Arg(z.Code))
			default:
				return w, fmt.Errorf("%w: statistics cannot be scoped to a %s", projections.ErrInvalidQuery, z.Level)
			}
		}
		if len(ors) == 0 {
			ors = []string{"1=0"}
		}
		w.Conds = append(w.Conds, "("+strings.Join(ors, " OR ")+")")
	}
	return w, nil
}

// Stats answers a StatsQuery from the pre-aggregated cells, one row per
// group, ordered by the group keys. It reads the matching cells of one
// layer (their number is bounded by the dimensions the query uses, not by
// the needs) and sums their counts and histograms in Go, since histograms
// do not add up in SQL.
//
// Layers make most groups a single cell, whose quantiles the cell stores:
// such an answer reads no histogram. Stats first reads the cells without
// their histograms; if a group turns out to hold several cells, it reads
// them again with their histograms, and remembers the query's shape
// (merging) so that the next query of that shape reads them at once. Over
// 1,000,000 needs, histograms were most of the bytes a query read, and
// their decoding most of its CPU, growing with the needs until they fill.
//
// It returns projections.ErrInvalidQuery for an unknown dimension or a
// scope finer than a département, or the database error (or errBadHist,
// wrapped, for a histogram it cannot decode).
func (qs *Queries) Stats(ctx context.Context, q StatsQuery) ([]StatsRow, error) {
	for _, g := range q.GroupBy {
		if !slices.Contains(statsDimensions, g) {
			return nil, fmt.Errorf("%w: unknown dimension %q", projections.ErrInvalidQuery, g)
		}
	}
	w, err := q.where()
	if err != nil {
		return nil, err
	}
	g := newGrouping(q)
	shape := strings.Join(g.keys, ",") + w.SQL()
	if g.partitioned() && !qs.wholeHistograms && !qs.merging.has(shape) && qs.quantilesStored(ctx) {
		err := qs.scan(ctx, g, w, false)
		if err == nil {
			return g.rows(), nil
		}
		if !errors.Is(err, errSeveralCells) {
			return nil, err
		}
		qs.merging.add(shape)
		qs.rereads.Add(1)
		g = newGrouping(q)
	}
	if err := qs.scan(ctx, g, w, true); err != nil {
		return nil, err
	}
	return g.rows(), nil
}

// quantilesStored says whether stats_cells has the quantile columns,
// asking the database until it has: an upgrade from version 2 answers
// from the old tables until its rebuild swaps the new ones in. Any error
// counts as no: the read with histograms then reports it, if it lasts.
func (qs *Queries) quantilesStored(ctx context.Context) bool {
	if qs.stored.Load() {
		return true
	}
	rows, err := qs.db.QueryContext(ctx, "SELECT "+strings.Join(quantileCols, ",")+" FROM stats_cells WHERE 1=0")
	if err != nil {
		return false
	}
	rows.Close()
	qs.stored.Store(true)
	return true
}

// scan adds the cells w selects to g: with their histograms (hists), or
// with their stored quantiles instead, then returning errSeveralCells as
// soon as a group meets a second cell.
func (qs *Queries) scan(ctx context.Context, g *grouping, w query.Where, hists bool) error {
	sel := make([]string, 0, len(g.keys)+nCounts+2)
	sel = append(sel, g.keys...)
	sel = append(sel, countCols...)
	if hists {
		sel = append(sel, "hist")
	} else {
		sel = append(sel, quantileCols...)
	}
	rows, err := qs.db.QueryContext(ctx, "SELECT "+strings.Join(sel, ",")+" FROM stats_cells"+w.SQL(), w.Args...)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()

	vals := make([]string, len(g.keys))
	var c counts
	var stored [2]float64
	var raw sql.RawBytes
	dest := make([]any, 0, len(sel))
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	for i := range c {
		dest = append(dest, &c[i])
	}
	if hists {
		dest = append(dest, &raw)
	} else {
		dest = append(dest, &stored[0], &stored[1])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		if err := g.add(vals, &c, raw, stored); err != nil {
			if errors.Is(err, errSeveralCells) {
				return err
			}
			return fmt.Errorf("stats: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	return nil
}

// maxShapes bounds the shapes of query a Queries remembers as merging:
// shapes are few (dimensions × filters), values are not part of them.
const maxShapes = 1024

// shapes is a set of query shapes: the key columns and the SQL condition
// of a query, without its values. Safe for concurrent use.
type shapes struct {
	mu sync.Mutex
	m  map[string]bool
}

func (s *shapes) has(shape string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[shape]
}

func (s *shapes) add(shape string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]bool)
	}
	if len(s.m) < maxShapes {
		s.m[shape] = true
	}
}

// compareMonths orders months since opening by number, territories never
// opened last.
func compareMonths(a, b *int) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return *a - *b
}

// noneOf turns the groups of every need (an empty sf_alert, read from the
// layer without alert) into the groups of needs without alert: minus the groups
// of F1 and of F2 with the same other keys. alert is the position of
// sf_alert among the group keys. Counts and histograms subtract exactly.
func noneOf(groups map[string]*acc, alert int) {
	key := func(vals []string, a string) string {
		var kb []byte
		for i, v := range vals {
			if i == alert {
				v = a
			}
			kb = append(append(kb, v...), 0)
		}
		return string(kb)
	}
	var totals []string
	for k, g := range groups {
		if g.vals[alert] == "" {
			totals = append(totals, k)
		}
	}
	for _, k := range totals {
		g := groups[k]
		for _, a := range []string{sfF1, sfF2} {
			if part := groups[key(g.vals, a)]; part != nil {
				for i := range g.c {
					g.c[i] -= part.c[i]
				}
				g.h.sub(&part.h)
			}
		}
		g.vals[alert] = sfNone
		delete(groups, k)
		groups[key(g.vals, sfNone)] = g
	}
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
	case DimMonthsSinceOpening:
		if n, err := strconv.Atoi(v); err == nil {
			r.MonthsSinceOpening = &n
		}
	case "sf_alert":
		r.SFAlert = v
	}
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// fill computes the figures of a group from its summed counts and its
// quantiles (statsQuantiles, called only when some need was taken in
// charge); docs/projections.md defines each.
func (r *StatsRow) fill(c counts, quantiles func() (float64, float64)) {
	r.Needs, r.Matches = c[cNeeds], c[cMatches]
	r.PositioningRate = ratio(c[cPositioned], c[cMatches])
	r.TakingCareRate = ratio(c[cTaken], c[cNeeds])
	r.Within3DaysRate = ratio(c[cWithin3], c[cNeeds])
	r.Within5DaysRate = ratio(c[cWithin5], c[cNeeds])
	r.Done, r.DoneNoHelp, r.DoneNotReachable = c[cDone], c[cDoneNoHelp], c[cDoneNotReachable]
	r.NotForMe, r.Abandoned = c[cNotForMe], c[cAbandoned]
	if c[cTaken] > 0 {
		med, p90 := quantiles()
		r.MedianHoursToTakeCharge, r.P90HoursToTakeCharge = &med, &p90
	}
}
