package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/tabular"
	"github.com/reso-fr/reso/projections/stats"
)

// StatsDimensions are the values of a statistics query's GroupBy.
func StatsDimensions() []string {
	return []string{"month", "region", "departement", "organisation", "subject", stats.DimMonthsSinceOpening,
		"sf_alert", // Signaux Faibles: rows F1, F2, none (aggregates only; see signaux.go)
	}
}

// StatsFigures are the figures of a statistics row, in the contract's
// order: a table of statistics has the group keys first, then these.
func StatsFigures() []string {
	return []string{"needs", "matches", "positioning_rate", "taking_care_rate", "within_3_days_rate",
		"within_5_days_rate", "median_hours_to_take_charge", "p90_hours_to_take_charge", "done", "done_no_help",
		"done_not_reachable", "not_for_me", "abandoned"}
}

// StatsQuery selects and groups statistics. Months are "YYYY-MM"; empty
// fields do not filter.
type StatsQuery struct {
	From, To                     string
	GroupBy                      []string
	Region, Departement, Subject string
	Organisation                 uuid.UUID
	// Opened, when set, keeps the needs captured in territories opened by
	// then (true), or the others (false); see OpenTerritory.
	Opened *bool
	// MinPosition: as NeedQuery's.
	MinPosition eventstore.Position
}

// check validates q. It returns a *domain.ValidationError.
func (q StatsQuery) check() error {
	for _, m := range []struct{ field, v string }{{"from", q.From}, {"to", q.To}} {
		if m.v == "" {
			continue
		}
		if _, err := time.Parse("2006-01", m.v); err != nil || len(m.v) != 7 {
			return &domain.ValidationError{Field: m.field, Message: "a month YYYY-MM"}
		}
	}
	if q.From != "" && q.To != "" && q.From > q.To {
		return &domain.ValidationError{Field: "to", Message: "must not be before from"}
	}
	seen := map[string]bool{}
	for _, d := range q.GroupBy {
		if !slices.Contains(StatsDimensions(), d) {
			return &domain.ValidationError{Field: "group_by", Message: fmt.Sprintf("%q is not one of %s", d, strings.Join(StatsDimensions(), ", "))}
		}
		if seen[d] {
			return &domain.ValidationError{Field: "group_by", Message: fmt.Sprintf("%q given twice", d)}
		}
		seen[d] = true
	}
	return knownSubject(q.Subject)
}

// Stats returns the funders' figures for q: a funder or an admin sees the
// whole network, an animateur their territories (and none without). It
// returns a *ForbiddenError, a *domain.ValidationError and the read models'
// errors.
func (s *Service) Stats(ctx context.Context, p Principal, q StatsQuery) ([]StatsRow, error) {
	if err := s.Authorize(p, ActionStats); err != nil {
		return nil, err
	}
	if err := q.check(); err != nil {
		return nil, err
	}
	var zones []domain.Zone
	if p.Role == domain.RoleAnimateur {
		if len(p.Territories) == 0 {
			return nil, forbid(p, ActionStats, "this animateur has no territory")
		}
		zones = p.Territories
	}
	rm, err := s.readModels()
	if err != nil {
		return nil, err
	}
	if err := s.WaitForPosition(ctx, q.MinPosition); err != nil {
		return nil, err
	}
	sq := stats.StatsQuery{
		From: q.From, To: q.To, GroupBy: q.GroupBy,
		Region: q.Region, Departement: q.Departement, Organisation: q.Organisation, Subject: q.Subject,
		ScopeZones: zones, Opened: q.Opened,
	}
	if q.Opened != nil || slices.Contains(q.GroupBy, stats.DimMonthsSinceOpening) {
		// Openings are few, and read from the log at each such query: a
		// correction of a date counts at once, and no statistic needs
		// rebuilding for it.
		o, _, err := s.readOpenings(ctx)
		if err != nil {
			return nil, err
		}
		sq.Openings = o.List()
	}
	rows, err := rm.Stats(ctx, sq)
	if err != nil {
		return nil, fromReadModel(err, "")
	}
	if rows == nil {
		rows = []StatsRow{}
	}
	if slices.Contains(q.GroupBy, "organisation") {
		for i := range rows {
			if id, err := uuid.Parse(rows[i].Organisation); err == nil {
				rows[i].OrganisationName = s.nameOf(ctx, id)
			}
		}
	}
	return rows, nil
}

// statsColumns are the columns of a statistics table grouped by groupBy:
// the group keys, the organisation's name beside its id, then the figures.
func statsColumns(groupBy []string) []string {
	cols := make([]string, 0, len(groupBy)+1+len(StatsFigures()))
	for _, g := range groupBy {
		cols = append(cols, g)
		if g == "organisation" {
			cols = append(cols, "organisation_name")
		}
	}
	return append(cols, StatsFigures()...)
}

// StatsTable is Stats laid out for a download: the group keys asked for
// (an organisation's name beside its id), then StatsFigures, one row per
// statistics row. It returns Stats's errors.
func (s *Service) StatsTable(ctx context.Context, p Principal, q StatsQuery) (tabular.Table, error) {
	rows, err := s.Stats(ctx, p, q)
	if err != nil {
		return tabular.Table{}, err
	}
	t, err := tabular.FromJSON(statsColumns(q.GroupBy), rows)
	if err != nil {
		return tabular.Table{}, fmt.Errorf("stats table: %w", err)
	}
	return t, nil
}
