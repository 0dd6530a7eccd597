package projections

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// statsProjection maintains stats_cells and stats_hours: per capture month ×
// région × département × organisation × subject, the counts funders' figures
// are ratios of, and the histogram of hours to first take-charge. Rows with
// organisation ” count needs as a whole; rows with an organisation count
// the need's matches of that organisation. stats_needs keeps each need's
// state so that a change moves its contribution from old cells to new ones.
type statsProjection struct {
	opts  *Options
	cache *stateCache
}

func (p *statsProjection) name() string    { return Stats }
func (p *statsProjection) tables() []table { return statsTables }

type cellKey struct {
	Month, Region, Departement, Organisation, Subject string
}

// The counts of a cell, in the order of cellCols after the keys.
const (
	cNeeds = iota
	cMatches
	cPositioned
	cTaken
	cWithin3
	cWithin5
	cDone
	cDoneNoHelp
	cDoneNotReachable
	cNotForMe
	cAbandoned
	nCounts
)

type counts [nCounts]int64

var cellCols = []string{"month", "region", "departement", "organisation", "subject",
	"needs", "matches", "positioned", "taken", "within3", "within5", "done", "done_no_help",
	"done_not_reachable", "not_for_me", "abandoned"}

var hourCols = []string{"month", "region", "departement", "organisation", "subject", "bucket", "n"}

type contribution struct {
	key    cellKey
	c      counts
	bucket int
	taken  bool
}

// contribute computes what one need adds to statistics: one need-level
// contribution and one per organisation among its matches.
func (p *statsProjection) contribute(s *needState) []contribution {
	month := fromMicros(s.CapturedAt).In(p.opts.Location).Format("2006-01")
	base := cellKey{Month: month, Region: s.Region, Departement: s.Departement, Subject: s.Subject}
	out := []contribution{p.figures(base, s, s.Matches)}
	var orgs []uuid.UUID
	for _, m := range s.Matches {
		seen := false
		for _, o := range orgs {
			seen = seen || o == m.OrganisationID
		}
		if !seen {
			orgs = append(orgs, m.OrganisationID)
		}
	}
	for _, o := range orgs {
		var ms []matchState
		for _, m := range s.Matches {
			if m.OrganisationID == o {
				ms = append(ms, m)
			}
		}
		k := base
		k.Organisation = o.String()
		out = append(out, p.figures(k, s, ms))
	}
	return out
}

func (p *statsProjection) figures(k cellKey, s *needState, ms []matchState) contribution {
	c := contribution{key: k}
	c.c[cNeeds] = 1
	c.c[cMatches] = int64(len(ms))
	var sent, taken int64
	statuses := make([]domain.MatchStatus, len(ms))
	for i, m := range ms {
		statuses[i] = m.Status
		if m.Status != domain.MatchQuo {
			c.c[cPositioned]++
		}
		if sent == 0 || m.SentAt < sent {
			sent = m.SentAt
		}
		if m.TakenAt != 0 && (taken == 0 || m.TakenAt < taken) {
			taken = m.TakenAt
		}
	}
	if taken != 0 {
		d := time.Duration(max(taken-sent, 0)) * time.Microsecond
		c.taken = true
		c.bucket = bucketOf(d.Hours())
		c.c[cTaken] = 1
		c.c[cWithin3] = int64(b2i(d <= p.opts.TakeChargeWindows[0]))
		c.c[cWithin5] = int64(b2i(d <= p.opts.TakeChargeWindows[1]))
	}
	switch domain.DeriveStatus(statuses, false) {
	case domain.NeedDone:
		c.c[cDone] = 1
	case domain.NeedDoneNoHelp:
		c.c[cDoneNoHelp] = 1
	case domain.NeedDoneNotReachable:
		c.c[cDoneNotReachable] = 1
	case domain.NeedNotForMe:
		c.c[cNotForMe] = 1
	}
	c.c[cAbandoned] = int64(b2i(s.Abandoned))
	return c
}

type hourKey struct {
	cell   cellKey
	bucket int
}

func (p *statsProjection) apply(ctx context.Context, tx txn, suffix string, evs []decoded) error {
	return foldNeeds(ctx, tx, p.cache, "stats_needs"+suffix, p.opts.Geography, evs)
}

func (p *statsProjection) flush(ctx context.Context, tx txn, suffix string) error {
	touched, before := p.cache.sortedDirty(), p.cache.before
	if len(touched) == 0 {
		return nil
	}
	cells := make(map[cellKey]*counts)
	hours := make(map[hourKey]int64)
	add := func(cs []contribution, sign int64) {
		for _, c := range cs {
			acc := cells[c.key]
			if acc == nil {
				acc = new(counts)
				cells[c.key] = acc
			}
			for i := range c.c {
				acc[i] += sign * c.c[i]
			}
			if c.taken {
				hours[hourKey{c.key, c.bucket}] += sign
			}
		}
	}
	stateRows := make([][]any, 0, len(touched))
	for _, s := range touched {
		if old := before[s.ID]; old != nil {
			add(p.contribute(old), -1)
		}
		add(p.contribute(s), 1)
		raw, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("encode need %s: %w", s.ID, err)
		}
		stateRows = append(stateRows, []any{s.ID.String(), string(raw)})
	}
	if err := upsert(ctx, tx, "stats_needs"+suffix, []string{"id", "state"}, []string{"id"}, "state=excluded.state", stateRows); err != nil {
		return err
	}
	var cellRows [][]any
	for k, c := range cells {
		if *c == (counts{}) {
			continue
		}
		row := []any{k.Month, k.Region, k.Departement, k.Organisation, k.Subject}
		for _, v := range c {
			row = append(row, v)
		}
		cellRows = append(cellRows, row)
	}
	slices.SortFunc(cellRows, compareKeys(5))
	if err := upsert(ctx, tx, "stats_cells"+suffix, cellCols, cellCols[:5], addAll(cellCols[5:]), cellRows); err != nil {
		return err
	}
	var hourRows [][]any
	for k, n := range hours {
		if n != 0 {
			hourRows = append(hourRows, []any{k.cell.Month, k.cell.Region, k.cell.Departement, k.cell.Organisation, k.cell.Subject, k.bucket, n})
		}
	}
	slices.SortFunc(hourRows, compareKeys(6))
	if err := upsert(ctx, tx, "stats_hours"+suffix, hourCols, hourCols[:6], "n={T}.n+excluded.n", hourRows); err != nil {
		return err
	}
	p.cache.flushed()
	return nil
}

// compareKeys orders rows by their first n values (strings, then the
// bucket), close to their primary key's order.
func compareKeys(n int) func(a, b []any) int {
	return func(a, b []any) int {
		for i := 0; i < n; i++ {
			if c := cmp.Compare(fmt.Sprint(a[i]), fmt.Sprint(b[i])); c != 0 {
				return c
			}
		}
		return 0
	}
}

// addAll is the SET clause that adds the new values to the stored ones.
func addAll(cols []string) string {
	s := ""
	for i, c := range cols {
		if i > 0 {
			s += ","
		}
		s += c + "={T}." + c + "+excluded." + c
	}
	return s
}
